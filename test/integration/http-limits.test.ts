// Request limits shared by replicas through Redis: submits per person, failed authentications per IP
// (and per IP and key prefix), long-polls per person; each answered 429 with Retry-After.
import http from 'node:http';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequestLimits, type RequestLimits } from '../../src/gateway/request-limits.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const WINDOW = 5;
const LIMITS = {
  RATE_LIMIT_WINDOW_SEC: String(WINDOW),
  RATE_LIMIT_SUBMITS: '3',
  RATE_LIMIT_COMMANDS: '12',
  RATE_LIMIT_AUTH_FAILURES_PER_IP: '5',
  RATE_LIMIT_AUTH_FAILURES_PER_KEY: '3',
  LONG_POLLS_PER_KEY: '2',
  // Clients are told apart by X-Forwarded-For here, as behind a load balancer.
  TRUST_PROXY: 'true',
};

let t: TestGateway;
let replica: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let dana: { id: string; apiKey: string };
let users = 0;

beforeAll(async () => {
  t = await startTestGateway({ slack: false, env: LIMITS });
  replica = await startTestGateway({ slack: false, env: LIMITS, databaseUrl: t.databaseUrl, prefix: t.prefix });
  target = await createTargetDatabase();
  dana = await t.createUser('dana@example.com', ['dba-team']);
  await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
  await t.api('POST', '/api/connections', { body: { name: 'reads-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'writes' } });
});

afterAll(async () => {
  await replica?.stop();
  await t?.stop();
  await target?.drop();
});

const requester = () => t.createUser(`dev${++users}@example.com`, ['developers']);
const submit = (gw: TestGateway, key: string, ip = '192.0.2.1') =>
  gw.api('POST', '/api/connections/prod-db/exec', { key, body: { input: 'SELECT 1' }, headers: { 'x-forwarded-for': ip } });
const asIp = (gw: TestGateway, ip: string, key: string) => gw.api('GET', '/api/me', { key, headers: { 'x-forwarded-for': ip } });

/** Status, Retry-After and the answer of a raw request (the helper drops headers). */
async function withHeaders(gw: TestGateway, path: string, init: RequestInit = {}) {
  const res = await fetch(gw.baseUrl + path, init);
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
}

function expectRetryAfter(value: string | null, max: number) {
  expect(value).toMatch(/^\d+$/);
  expect(Number(value)).toBeGreaterThanOrEqual(1);
  expect(Number(value)).toBeLessThanOrEqual(max);
}

// The describes run at once (two of their tests wait out a window): each uses keys, users and IPs
// of its own, and only the long-polls' tests open long-polls. The tests of one run in order.
describe.concurrent('submits per API key', () => {
  it.sequential('answer 429 with Retry-After past the share of the window, on any replica, creating nothing', async () => {
    const me = await requester();
    expect((await submit(t, me.apiKey)).status).toBe(201);
    expect((await submit(replica, me.apiKey)).status).toBe(201);
    expect((await submit(t, me.apiKey)).status).toBe(201);
    const mine = { where: { requesterId: me.id } };
    const before = await t.gateway.db.review.count(mine);
    for (const gw of [t, replica]) {
      const res = await withHeaders(gw, '/api/connections/prod-db/exec', {
        method: 'POST',
        headers: { authorization: `Bearer ${me.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ input: 'SELECT 2' }),
      });
      expect(res.status).toBe(429);
      expectRetryAfter(res.retryAfter, WINDOW);
      expect(res.body.error.code).toBe('rate_limited');
      expect(res.body.error.message).toContain(`at most 3 per ${WINDOW} s are accepted`);
    }
    expect(await t.gateway.db.review.count(mine)).toBe(before);
    // Another key has its own share.
    expect((await submit(t, (await requester()).apiKey)).status).toBe(201);
  });

  it.sequential('are accepted again once the window has passed', async () => {
    const me = await requester();
    for (let i = 0; i < 3; i++) expect((await submit(t, me.apiKey)).status).toBe(201);
    const refused = await withHeaders(t, '/api/connections/prod-db/exec', {
      method: 'POST',
      headers: { authorization: `Bearer ${me.apiKey}`, 'content-type': 'application/json' },
      body: '{"input": "SELECT 1"}',
    });
    expect(refused.status).toBe(429);
    await new Promise((r) => setTimeout(r, Number(refused.retryAfter) * 1000 + 100));
    expect((await submit(t, me.apiKey)).status).toBe(201);
  });

  it.sequential('do not count reads that run at once, which meet the higher limit of commands instead', async () => {
    const me = await requester();
    const read = (gw: TestGateway) => gw.api('POST', '/api/connections/reads-db/exec', { key: me.apiKey, body: { input: 'SELECT 1' }, headers: { 'x-forwarded-for': '192.0.2.9' } });
    // 3 requests are allowed: 11 reads are not requests.
    for (let i = 0; i < 11; i++) expect((await read(i % 2 ? replica : t)).body.status).toBe('EXECUTED');
    expect((await submit(t, me.apiKey)).status).toBe(201);
    // The 13th command of any kind is one too many.
    const res = await withHeaders(replica, '/api/connections/reads-db/exec', {
      method: 'POST',
      headers: { authorization: `Bearer ${me.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'SELECT 2' }),
    });
    expect(res.status).toBe(429);
    expectRetryAfter(res.retryAfter, WINDOW);
    expect(res.body.error.message).toContain(`at most 12 per ${WINDOW} s are accepted (reads included)`);
  });

  it.sequential('do not limit reading or deciding', async () => {
    for (let i = 0; i < 8; i++) expect((await t.api('GET', '/api/reviews?limit=1', { key: dana.apiKey })).status).toBe(200);
  });
});

describe.concurrent('failed authentications', () => {
  it.sequential('shut out an IP spraying keys, even with a valid key, on every replica, but no other IP', async () => {
    const ip = '198.51.100.1';
    // Each key with its own prefix (the first 9 characters), as random guesses would have.
    for (let i = 0; i < 5; i++) expect((await asIp(t, ip, `hoop_${i}spr_${'x'.repeat(20)}`)).status).toBe(401);
    for (const gw of [t, replica]) {
      const res = await withHeaders(gw, '/api/me', { headers: { authorization: `Bearer ${ADMIN_KEY}`, 'x-forwarded-for': ip } });
      expect(res.status).toBe(429);
      expectRetryAfter(res.retryAfter, WINDOW);
      expect(res.body.error.message).toContain(`Too many failed authentications from ${ip}`);
    }
    expect((await asIp(t, '198.51.100.2', ADMIN_KEY)).status).toBe(200);
  });

  it.sequential('stop one client repeating a wrong key before it uses up its IP, so colleagues behind that IP keep working', async () => {
    const ip = '198.51.100.3';
    const wrong = 'hoop_stale_key_of_a_ci_job_000000';
    for (let i = 0; i < 3; i++) expect((await asIp(t, ip, wrong)).status).toBe(401);
    const blocked = await withHeaders(replica, '/api/me', { headers: { authorization: `Bearer ${wrong}`, 'x-forwarded-for': ip } });
    expect(blocked.status).toBe(429);
    expectRetryAfter(blocked.retryAfter, WINDOW);
    expect(blocked.body.error.message).toContain('with this API key');
    expect((await asIp(t, ip, dana.apiKey)).status).toBe(200);
    expect((await asIp(t, ip, 'hoop_other_wrong_key_0000000000')).status).toBe(401);
  });

  it.sequential('count requests without a key too', async () => {
    const ip = '198.51.100.4';
    for (let i = 0; i < 3; i++) expect((await t.api('GET', '/api/me', { key: '', headers: { 'x-forwarded-for': ip } })).status).toBe(401);
    expect((await t.api('GET', '/api/me', { key: '', headers: { 'x-forwarded-for': ip } })).status).toBe(429);
  });

  it.sequential('never count successful requests', async () => {
    for (let i = 0; i < 12; i++) expect((await asIp(t, '198.51.100.5', dana.apiKey)).status).toBe(200);
  });

  it.sequential('are forgiven when the window has passed', async () => {
    const ip = '198.51.100.6';
    for (let i = 0; i < 5; i++) expect((await asIp(t, ip, `hoop_${i}lat_${'y'.repeat(20)}`)).status).toBe(401);
    const refused = await withHeaders(t, '/api/me', { headers: { authorization: `Bearer ${dana.apiKey}`, 'x-forwarded-for': ip } });
    expect(refused.status).toBe(429);
    await new Promise((r) => setTimeout(r, Number(refused.retryAfter) * 1000 + 100));
    expect((await asIp(t, ip, dana.apiKey)).status).toBe(200);
  });
});

describe.concurrent('long-polls per API key', () => {
  it.sequential('answer 429 saying how many are allowed once the key has that many open, on any replica; other keys still wait', async () => {
    const me = await requester();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await submit(t, me.apiKey, '192.0.2.9')).body.id);
    const first = t.api('GET', `/api/reviews/${ids[0]}?wait=30`, { key: me.apiKey });
    const second = replica.api('GET', `/api/reviews/${ids[1]}?wait=30`, { key: me.apiKey });
    const held = `${t.prefix}:limit:long-polls:*`;
    await eventually(async () => (await t.gateway.redis.keys(held)).length === 1 && (await t.gateway.redis.zcard((await t.gateway.redis.keys(held))[0])) === 2);
    for (const gw of [t, replica]) {
      const third = await withHeaders(gw, `/api/reviews/${ids[2]}?wait=30`, { headers: { authorization: `Bearer ${me.apiKey}` } });
      expect(third.status).toBe(429);
      expect(third.retryAfter).toBe('2');
      expect(third.body.error.message).toContain('at most 2 are allowed at once per person');
    }
    // Without ?wait the same key still reads, and another key still waits.
    expect((await t.api('GET', `/api/reviews/${ids[2]}`, { key: me.apiKey })).status).toBe(200);
    expect((await t.api('GET', `/api/reviews/${ids[2]}?wait=0.2`, { key: dana.apiKey })).body.status).toBe('PENDING');
    // A decision ends a wait and frees its slot.
    expect((await t.api('PUT', `/api/reviews/${ids[0]}/approve`, { key: dana.apiKey })).status).toBe(200);
    expect((await first).body.status).toMatch(/EXECUTED|RUNNING|APPROVED/);
    expect((await t.api('GET', `/api/reviews/${ids[2]}?wait=0.2`, { key: me.apiKey })).status).toBe(200);
    await t.api('PUT', `/api/reviews/${ids[1]}/reject`, { key: dana.apiKey, body: { reason: 'done' } });
    expect((await second).body.status).toBe('REJECTED');
  });

  it.sequential('free the slot when the client hangs up', async () => {
    const me = await requester();
    const id = (await submit(t, me.apiKey, '192.0.2.10')).body.id;
    const slots = async () => {
      const [key] = await t.gateway.redis.keys(`${t.prefix}:limit:long-polls:*`);
      return key ? t.gateway.redis.zcard(key) : 0;
    };
    // Plain sockets, so hanging up is exactly a closed connection.
    const clients = [0, 1].map(() => {
      const req = http.get(`${t.baseUrl}/api/reviews/${id}?wait=60`, { headers: { authorization: `Bearer ${me.apiKey}` } });
      req.on('error', () => {});
      return req;
    });
    await eventually(async () => (await slots()) === 2, 5000, 'two open waits');
    expect((await t.api('GET', `/api/reviews/${id}?wait=1`, { key: me.apiKey })).status).toBe(429);
    clients.forEach((c) => c.destroy());
    await eventually(async () => (await slots()) === 0, 5000, 'the slots freed');
    expect((await t.api('GET', `/api/reviews/${id}?wait=0.1`, { key: me.apiKey })).status).toBe(200);
  });

  it.sequential('see a change whose event was lost by re-reading the status, and then answer the whole review', async () => {
    const me = await requester();
    const id = (await submit(t, me.apiKey, '192.0.2.11')).body.id;
    const waiting = t.api('GET', `/api/reviews/${id}?wait=20`, { key: me.apiKey });
    await new Promise((r) => setTimeout(r, 300));
    // Written behind the gateway's back: no pub/sub message, as when a message is lost.
    const startedAt = Date.now();
    await t.gateway.db.review.update({ where: { id }, data: { status: 'FAILED', output: 'ERROR:  lost ' + 'z'.repeat(10_000), error: 'lost' } });
    const res = await waiting;
    expect(Date.now() - startedAt).toBeLessThan(4000);
    expect(res.body.status).toBe('FAILED');
    expect(res.body.output).toBe('ERROR:  lost ' + 'z'.repeat(10_000));
  });
});

describe.concurrent('when Redis does not answer', () => {
  const strict = { windowSec: 60, submitsPerUser: 1, commandsPerUser: 0, authFailuresPerIp: 1, authFailuresPerKey: 1, longPollsPerUser: 1 };
  const exercise = async (limits: RequestLimits) => {
    const refused: string[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>) => fn().catch(() => refused.push(what));
    await attempt('submit 1', () => limits.hitSubmit('key'));
    await attempt('submit 2', () => limits.hitSubmit('key'));
    await limits.recordAuthFailure('203.0.113.1', 'hoop_abcd_x');
    await attempt('auth', () => limits.checkAuthBlocked('203.0.113.1', 'hoop_abcd_x'));
    await attempt('poll 1', () => limits.acquireLongPoll('key', 5000));
    await attempt('poll 2', () => limits.acquireLongPoll('key', 5000));
    return refused;
  };

  it.sequential('lets requests through, where a live Redis refuses the same ones', async () => {
    const live = createRequestLimits(t.gateway.redis, `${t.prefix}-strict`, strict, pino({ level: 'silent' }));
    expect(await exercise(live)).toEqual(['submit 2', 'auth', 'poll 2']);
    const dead = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
    dead.on('error', () => {});
    try {
      expect(await exercise(createRequestLimits(dead, 'x', strict, pino({ level: 'silent' })))).toEqual([]);
    } finally {
      dead.disconnect();
    }
  });
});
