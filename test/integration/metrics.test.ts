// /metrics: Prometheus text after real traffic, labels bounded (route patterns, one label for
// unknown URLs), METRICS_TOKEN enforced, a scrape that answers in bounds while Redis is hung or
// gone, and METRICS_PORT for a process without the HTTP API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createGateway } from '../../src/gateway.js';
import { renderMetrics } from '../../src/metrics.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedisChild } from '../helpers/redis-child.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

let target: Awaited<ReturnType<typeof createTargetDatabase>>;
beforeAll(async () => {
  target = await createTargetDatabase();
  cleanups.push(() => target.drop());
});

/** GET /metrics on `base`; `token` as a bearer token when given. */
async function scrape(base: string, token?: string): Promise<{ status: number; text: string; ms: number; type: string | null }> {
  const started = Date.now();
  const res = await fetch(`${base}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, text, ms: Date.now() - started, type: res.headers.get('content-type') };
}

/** The value of the series `name{labels}` (labels in any order; all given must match), or undefined. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

async function reviewed(t: TestGateway) {
  const alice = await t.createUser(`alice-${Math.random().toString(36).slice(2, 8)}@example.com`, ['developers']);
  const dana = await t.createUser(`dana-${Math.random().toString(36).slice(2, 8)}@example.com`, ['dba-team']);
  expect((await t.api('POST', '/api/connections', { body: { name: 'prod', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } })).status).toBe(201);
  const submit = async (input: string) => {
    const res = await t.api('POST', '/api/connections/prod/exec', { key: alice.apiKey, body: { input } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  return { alice, dana, submit };
}

describe('GET /metrics after traffic', () => {
  let t: TestGateway;
  let text: string;
  // The counters live in the process (one gateway per process in production): a scrape before the
  // traffic is the baseline, so other tests run earlier in this process do not count.
  let baseline: string;
  const counted = (name: string, labels: Record<string, string> = {}) => (value(text, name, labels) ?? 0) - (value(baseline, name, labels) ?? 0);
  const ids: string[] = [];

  beforeAll(async () => {
    t = await startTestGateway();
    cleanups.push(() => t.stop());
    // Read from the registry itself: a scrape would also start the gateway's few-second cache of the pending count.
    baseline = await renderMetrics();
    const { dana, submit } = await reviewed(t);
    // Slack answers the first review post with a 500: one delivery failure, retried.
    t.slack.failNext('chat.postMessage', { status: 500, error: 'internal_error' });
    for (let i = 0; i < 3; i++) ids.push(await submit(`SELECT ${i} AS n`));
    expect((await t.api('PUT', `/api/reviews/${ids[0]}/approve`, { key: dana.apiKey })).status).toBe(200);
    expect((await t.api('PUT', `/api/reviews/${ids[1]}/reject`, { key: dana.apiKey, body: { reason: 'no' } })).status).toBe(200);
    await eventually(async () => (await t.api('GET', `/api/reviews/${ids[0]}`)).body.status === 'EXECUTED', 15_000, 'the run');
    for (const id of ids) expect((await t.api('GET', `/api/reviews/${id}`)).status).toBe(200);
    for (const id of ids) expect((await t.api('GET', `/no/such/path/${id}`)).status).toBe(404);
    await eventually(async () => t.slack.unusedFailures().length === 0, 10_000, 'the failed Slack post');
    text = (await scrape(t.baseUrl)).text;
  });

  it('labels requests by route pattern and status, with latency histograms', () => {
    expect(counted('hoop_http_request_duration_seconds_count', { method: 'GET', route: '/api/reviews/:id', status: '200' })).toBeGreaterThanOrEqual(ids.length);
    expect(counted('hoop_http_request_duration_seconds_count', { method: 'POST', route: '/api/connections/:name/exec', status: '201' })).toBeGreaterThanOrEqual(3);
    expect(counted('hoop_http_request_duration_seconds_bucket', { route: '/api/reviews/:id', status: '200', le: '+Inf' })).toBeGreaterThanOrEqual(ids.length);
    expect(value(text, 'hoop_http_request_duration_seconds_sum', { route: '/api/reviews/:id', status: '200' })).toBeGreaterThan(0);
  });

  it('counts every unknown URL under one label and never shows an id or a raw URL', () => {
    expect(counted('hoop_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' })).toBe(ids.length);
    for (const id of ids) expect(text).not.toContain(id);
    expect(text).not.toContain('/no/such/path');
  });

  it('counts decisions by outcome, the time to decide, and runs by dialect and outcome', () => {
    expect(counted('hoop_decisions_total', { outcome: 'approved' })).toBe(1);
    expect(counted('hoop_decisions_total', { outcome: 'rejected' })).toBe(1);
    expect(counted('hoop_decisions_total', { outcome: 'executed' })).toBe(1);
    expect(counted('hoop_decision_seconds_count', { outcome: 'approved' })).toBe(1);
    const decideSec = counted('hoop_decision_seconds_sum', { outcome: 'approved' });
    expect(decideSec).toBeGreaterThan(0);
    expect(decideSec).toBeLessThan(30);
    expect(counted('hoop_execution_duration_seconds_count', { dialect: 'postgres', outcome: 'executed' })).toBe(1);
  });

  it('reads pending requests and queue depths at scrape time', () => {
    expect(value(text, 'hoop_pending_requests')).toBe(1);
    expect(value(text, 'hoop_state_database_up')).toBe(1);
    expect(value(text, 'hoop_queue_up', { queue: 'reviews' })).toBe(1);
    expect(value(text, 'hoop_queue_up', { queue: 'slack' })).toBe(1);
    // The pending request's expiry waits in the delayed set; nothing is overdue.
    expect(value(text, 'hoop_queue_jobs', { queue: 'reviews', state: 'delayed' })).toBe(1);
    expect(value(text, 'hoop_queue_lag_seconds', { queue: 'reviews' })).toBeLessThan(5);
  });

  it('counts delivery failures per channel, and the process metrics', () => {
    expect(counted('hoop_delivery_failures_total', { channel: 'slack' })).toBeGreaterThanOrEqual(1);
    expect(value(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('answers in the Prometheus text format', async () => {
    const res = await scrape(t.baseUrl);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('# TYPE hoop_decisions_total counter');
  });
});

describe('METRICS_TOKEN', () => {
  it('refuses a scrape without the token or with another one, and answers one with it', async () => {
    const token = 'metrics-token-0123456789';
    const t = await startTestGateway({ slack: false, env: { METRICS_TOKEN: token } });
    cleanups.push(() => t.stop());
    expect((await scrape(t.baseUrl)).status).toBe(401);
    expect((await scrape(t.baseUrl, ADMIN_KEY)).status).toBe(401);
    expect((await scrape(t.baseUrl, `${token}x`)).status).toBe(401);
    const ok = await scrape(t.baseUrl, token);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('hoop_http_request_duration_seconds');
  });
});

describe.concurrent('a scrape while Redis does not answer', () => {
  it.each(['hung', 'killed'] as const)('Redis %s: answers within 2 s, says the queues could not be read, and reports the rest', async (fault) => {
    const redis = await startRedisChild();
    cleanups.push(() => redis.close());
    const t = await startTestGateway({ slack: false, env: { REDIS_URL: redis.url, SHUTDOWN_GRACE_SEC: '1' } });
    cleanups.push(async () => {
      await redis.ensureRunning();
      await t.stop();
    });
    const { submit } = await reviewed(t);
    await submit('DELETE FROM x');
    const before = await scrape(t.baseUrl);
    expect(value(before.text, 'hoop_queue_up', { queue: 'reviews' })).toBe(1);
    expect(value(before.text, 'hoop_queue_jobs', { queue: 'reviews', state: 'delayed' })).toBe(1);

    if (fault === 'hung') redis.pause();
    else await redis.kill();
    for (let i = 0; i < 3; i++) {
      const res = await scrape(t.baseUrl);
      expect(res.status).toBe(200);
      expect(res.ms).toBeLessThan(2000);
      expect(value(res.text, 'hoop_queue_up', { queue: 'reviews' })).toBe(0);
      expect(value(res.text, 'hoop_queue_up', { queue: 'slack' })).toBe(0);
      // Not a stale depth: the series is gone while its queue cannot be read.
      expect(value(res.text, 'hoop_queue_jobs', { queue: 'reviews' })).toBeUndefined();
      expect(value(res.text, 'hoop_pending_requests')).toBe(1);
      expect(value(res.text, 'hoop_state_database_up')).toBe(1);
    }
  });
});

describe('METRICS_PORT', () => {
  it('serves /metrics and /healthz on its own port in a workers-only process', async () => {
    const base = await startTestGateway({ slack: false });
    cleanups.push(() => base.stop());
    const gw = createGateway({ config: loadConfig({ ...base.env, METRICS_PORT: '0' }), log: pino({ level: 'silent' }), http: false, workers: true });
    cleanups.push(() => gw.stop());
    await gw.start();
    expect(gw.port).toBeUndefined();
    const url = `http://127.0.0.1:${gw.metricsPort}`;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/api/me`)).status).toBe(404);
    const res = await scrape(url);
    expect(res.status).toBe(200);
    expect(value(res.text, 'hoop_queue_up', { queue: 'reviews' })).toBe(1);
  });

  it('moves /metrics off the gateway port when set', async () => {
    const t = await startTestGateway({ slack: false, env: { METRICS_PORT: '0', METRICS_TOKEN: 'metrics-token-0123456789' } });
    cleanups.push(() => t.stop());
    expect((await scrape(t.baseUrl, 'metrics-token-0123456789')).status).toBe(404);
    const url = `http://127.0.0.1:${t.gateway.metricsPort}`;
    expect((await scrape(url)).status).toBe(401);
    expect((await scrape(url, 'metrics-token-0123456789')).status).toBe(200);
  });
});
