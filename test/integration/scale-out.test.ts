// Scale-out: two gateway processes and one workers-only process share one state database and one
// Redis (under a hash-tagged QUEUE_PREFIX, as on Redis Cluster). Requests are submitted across both
// gateways and votes race on both (API and Slack clicks): each request is decided once and run
// once (audit rows, the target's rows), and every process's /metrics answers and counts.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack.js';
import { blockAction, signedForm, slashCommand } from '../fakes/slack-requests.js';
import { createStateDatabase, createTargetDatabase, uniqueName } from '../helpers/databases.js';
import { deleteQueues, eventually, SIGNING_SECRET } from '../helpers/gateway.js';
import { gatewayEnv, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const N = 24;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch(() => {});
});

let slack: FakeSlack;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let stateUrl: string;
let gateways: GatewayProcess[];
let worker: GatewayProcess;
let workerMetricsPort: number;

beforeAll(async () => {
  slack = await startFakeSlack();
  cleanups.push(() => slack.close());
  const state = await createStateDatabase();
  cleanups.push(() => state.drop());
  stateUrl = state.url;
  target = await createTargetDatabase();
  cleanups.push(() => target.drop());
  await target.query('CREATE TABLE hits (tag text NOT NULL)');
  const prefix = `{${uniqueName('scale')}}`;
  cleanups.push(() => deleteQueues(prefix));
  const env = gatewayEnv(state.url, {
    MIGRATE_ON_START: 'false',
    QUEUE_PREFIX: prefix,
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    SLACK_BOT_ID: 'BBOT',
    SLACK_BOT_USER_ID: 'UBOT',
    SLACK_CHANNEL: 'C-REVIEWS',
    SLACK_TIMEOUT_MS: '2000',
    LOG_LEVEL: 'warn',
  });
  gateways = [startGatewayProcess({ ...env, LOG_LEVEL: 'info' }), startGatewayProcess({ ...env, LOG_LEVEL: 'info' })];
  worker = startGatewayProcess({ ...env, METRICS_PORT: '0', LOG_LEVEL: 'info' }, { npm: 'worker' });
  for (const p of [...gateways, worker]) cleanups.push(() => p.kill());
  await Promise.all(gateways.map((g) => g.listening));
  workerMetricsPort = Number((await worker.waitForLog((l) => l.msg === 'metrics listening', 40_000, 'the worker serving metrics')).port);
}, 90_000);

/** Slack-signed form fields POSTed to /slack/events of `gw`. */
async function slackPost(gw: GatewayProcess, fields: Record<string, string>): Promise<number> {
  const req = signedForm(SIGNING_SECRET, fields);
  const res = await fetch(`http://127.0.0.1:${await gw.listening}/slack/events`, { method: 'POST', headers: req.headers, body: req.body });
  await res.text();
  return res.status;
}

async function metricsOf(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** Sum of every series `name{...}` whose labels include `labels`. */
function sum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  return total;
}

describe('two gateway processes and one worker process on one database and one Redis', () => {
  it('decides each request once and runs it once, whichever process the votes reach, and each process counts in /metrics', async () => {
    const [a, b] = gateways as [GatewayProcess, GatewayProcess];
    const user = async (email: string, groups: string[]) => {
      const res = await a.api('POST', '/api/users', { body: { email, groups } });
      expect(res.status).toBe(201);
      return res.body.apiKey as string;
    };
    const alice = await user('alice@example.com', ['developers']);
    const dana = await user('dana@example.com', ['dba-team']);
    const eve = await user('eve@example.com', ['dba-team']);
    expect((await b.api('POST', '/api/connections', { body: { name: 'prod', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } })).status).toBe(201);
    slack.users.set('UEVE', { email: 'eve@example.com' });
    slack.users.set('UDANA', { email: 'dana@example.com' });
    expect(await slackPost(b, slashCommand('UEVE', 'subscribe'))).toBe(200);
    expect(await slackPost(a, slashCommand('UDANA', 'subscribe'))).toBe(200);

    // Submitted across both gateways at once.
    const ids = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const res = await (i % 2 ? b : a).api('POST', '/api/connections/prod/exec', { key: alice, body: { input: `INSERT INTO hits (tag) VALUES ('r${i}')` } });
        expect(res.status).toBe(201);
        return res.body.id as string;
      }),
    );

    // Every request gets votes racing on both processes: an API approval on one, a Slack click on
    // the other, another API approval, and for every third a rejection; each starts after a random
    // 0-30 ms, so which one wins varies.
    const statuses: number[] = [];
    const jittered = (vote: () => Promise<number>) => new Promise((r) => setTimeout(r, Math.random() * 30)).then(vote).then((s) => statuses.push(s));
    await Promise.all(
      ids.flatMap((id, i) => {
        const [p, q] = i % 2 ? [a, b] : [b, a];
        const button = JSON.stringify({ reviewId: id, group: 'dba-team' });
        const votes = [
          () => p.api('PUT', `/api/reviews/${id}/approve`, { key: dana, body: {} }).then((r) => r.status),
          () => slackPost(q, blockAction('UEVE', 'review.approve', button)),
          () => q.api('PUT', `/api/reviews/${id}/approve`, { key: eve, body: {} }).then((r) => r.status),
        ];
        if (i % 3 === 0) votes.push(() => q.api('PUT', `/api/reviews/${id}/reject`, { key: eve, body: { reason: 'racing' } }).then((r) => r.status));
        return votes.map(jittered);
      }),
    );
    // Losers are told the request changed or was decided; nobody gets a server error.
    expect(statuses.filter((s) => s >= 500)).toEqual([]);

    const state = new pg.Client({ connectionString: stateUrl });
    await state.connect();
    cleanups.push(() => state.end());
    const final = async () => (await state.query(`SELECT id, status FROM "Review" WHERE id = ANY($1::uuid[])`, [ids])).rows as { id: string; status: string }[];
    await eventually(async () => (await final()).every((r) => r.status === 'EXECUTED' || r.status === 'REJECTED'), 30_000, 'every request executed or rejected');
    const rows = await final();
    const executed = rows.filter((r) => r.status === 'EXECUTED').map((r) => r.id);
    const rejected = rows.filter((r) => r.status === 'REJECTED').map((r) => r.id);
    expect(executed.length + rejected.length).toBe(N);
    expect(executed.length).toBeGreaterThan(0);

    // Decided once, started once, finished once: the audit trail of each request.
    const audit = (await state.query(`SELECT "reviewId", action, count(*)::int AS n FROM "AuditEvent" WHERE "reviewId" = ANY($1::uuid[]) GROUP BY 1, 2`, [ids])).rows as { reviewId: string; action: string; n: number }[];
    const count = (id: string, action: string) => audit.find((r) => r.reviewId === id && r.action === action)?.n ?? 0;
    for (const id of ids) {
      expect(count(id, 'review.approved') + count(id, 'review.rejected'), `decisions of ${id}`).toBe(1);
      const ran = executed.includes(id) ? 1 : 0;
      expect(count(id, 'review.execution_started'), `runs of ${id}`).toBe(ran);
      expect(count(id, 'review.executed'), `results of ${id}`).toBe(ran);
    }
    // The target's effect: one row per executed request, none for a rejected one.
    const hits = await target.query('SELECT tag, count(*)::int AS n FROM hits GROUP BY tag');
    const expected = ids.map((id, i) => (executed.includes(id) ? [`r${i}`, 1] : null)).filter(Boolean);
    expect(hits.map((h: { tag: string; n: number }) => [h.tag, h.n]).sort()).toEqual(expected.sort());

    const winners = (await state.query(`SELECT source, action, count(*)::int AS n FROM "AuditEvent" WHERE "reviewId" = ANY($1::uuid[]) AND action IN ('review.approved', 'review.rejected') GROUP BY 1, 2 ORDER BY 1, 2`, [ids])).rows;
    const tally = statuses.reduce<Record<number, number>>((m, s) => ((m[s] = (m[s] ?? 0) + 1), m), {});
    console.log(`scale-out: ${executed.length} executed, ${rejected.length} rejected; deciding votes ${JSON.stringify(winners)}; answers to votes ${JSON.stringify(tally)}`);

    // Each process answers /metrics; together they counted every decision and every run once.
    const texts = await Promise.all([metricsOf(await a.listening), metricsOf(await b.listening), metricsOf(workerMetricsPort)]);
    const total = (name: string, labels: Record<string, string>) => texts.reduce((s, t) => s + sum(t, name, labels), 0);
    expect(total('hoop_decisions_total', { outcome: 'approved' })).toBe(executed.length);
    expect(total('hoop_decisions_total', { outcome: 'rejected' })).toBe(rejected.length);
    await eventually(async () => {
      const now = await Promise.all([metricsOf(await a.listening), metricsOf(await b.listening), metricsOf(workerMetricsPort)]);
      return now.reduce((s, t) => s + sum(t, 'hoop_decisions_total', { outcome: 'executed' }), 0) === executed.length;
    }, 10_000, 'every run counted');
    for (const t of texts.slice(0, 2)) {
      expect(sum(t, 'hoop_http_request_duration_seconds_count', { route: '/api/connections/:name/exec', status: '201' })).toBe(N / 2);
      expect(sum(t, 'hoop_queue_up', { queue: 'reviews' })).toBe(1);
    }
    // The worker serves no API: it counts no HTTP request, but reads the shared queues.
    expect(sum(texts[2]!, 'hoop_http_request_duration_seconds_count')).toBe(0);
    expect(sum(texts[2]!, 'hoop_queue_up', { queue: 'slack' })).toBe(1);
    expect(sum(texts[2]!, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  }, 90_000);
});
