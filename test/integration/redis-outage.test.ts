// Redis killed or hung under running gateways: the API answers from PostgreSQL within a short
// bound, /readyz says Redis is down, and when Redis is back every effect of what happened meanwhile
// reaches the queue once (outbox), and expiries lost with Redis's data are applied on time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../fakes/fake-slack.js';
import { blockAction, signedForm } from '../fakes/slack-requests.js';
import { createStateDatabase, createTargetDatabase, uniqueName } from '../helpers/databases.js';
import { eventually, SIGNING_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedisChild, type RedisChild } from '../helpers/redis-child.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: RedisChild;
let slack: FakeSlack;
let state: Awaited<ReturnType<typeof createStateDatabase>>;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
// Three replicas on one database and one set of queues, differing only in REVIEW_TIMEOUT_SEC:
// requests that stay open, requests that expire during the outage, and requests due just after it.
let open: TestGateway;
let short: TestGateway;
let later: TestGateway;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };
const figures: Record<string, number | string> = {};

beforeAll(async () => {
  redis = await startRedisChild();
  slack = await startFakeSlack();
  state = await createStateDatabase();
  target = await createTargetDatabase();
  const prefix = uniqueName('redisdown');
  // The production sweep interval is 30 s; 60 s here so no periodic sweep falls inside a test:
  // what repairs must come from the outbox and from Redis's return.
  const common = { databaseUrl: state.url, prefix, fakeSlack: slack, sweepIntervalMs: 60_000 };
  open = await startTestGateway({ ...common, env: { REDIS_URL: redis.url, REVIEW_TIMEOUT_SEC: '3600' } });
  short = await startTestGateway({ ...common, env: { REDIS_URL: redis.url, REVIEW_TIMEOUT_SEC: '4' } });
  later = await startTestGateway({ ...common, env: { REDIS_URL: redis.url, REVIEW_TIMEOUT_SEC: '11' }, workers: false });
  alice = await open.createUser('alice@example.com', ['developers']);
  dana = await open.createUser('dana@example.com', ['dba-team']);
  await open.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
}, 60_000);

afterAll(async () => {
  // Stopping needs Redis (workers close their connections): make sure it runs.
  await redis?.ensureRunning();
  for (const g of [later, short, open]) await g?.stop();
  await slack?.close();
  await target?.drop();
  await state?.drop();
  await redis?.close();
  console.log('redis outage figures', JSON.stringify(figures));
});

interface Timed {
  status: number;
  body: any;
  ms: number;
}

/** One HTTP call, timed; a call that has not answered after `limitMs` fails the test. */
async function timed(g: TestGateway, method: string, path: string, opts: { key?: string; body?: unknown } = {}, limitMs = 8000): Promise<Timed> {
  const headers: Record<string, string> = {};
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(g.baseUrl + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: AbortSignal.timeout(limitMs) });
  } catch (error) {
    throw new Error(`${method} ${path} did not answer within ${limitMs} ms (${(error as Error).message})`);
  }
  const text = await res.text();
  const ms = Math.round(performance.now() - started);
  try {
    return { status: res.status, body: JSON.parse(text), ms };
  } catch {
    return { status: res.status, body: text, ms };
  }
}

const submit = (g: TestGateway, input: string) => timed(g, 'POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input } });
const statusOf = async (id: string) => (await open.gateway.db.review.findUniqueOrThrow({ where: { id }, select: { status: true } })).status;
const mentions = (c: SlackCall, id: string) => JSON.stringify(c.args).includes(id);
/** Request messages (not thread replies) posted for review `id`. */
const requestPosts = (id: string) => slack.callsOf('chat.postMessage').filter((c) => mentions(c, id) && !c.args.thread_ts);
/** Thread replies (results) posted for review `id`. */
const resultPosts = (id: string) => slack.callsOf('chat.postMessage').filter((c) => c.args.thread_ts && mentions(c, id));
const expiredUpdates = (id: string) => slack.callsOf('chat.update').filter((c) => mentions(c, id) && JSON.stringify(c.args.blocks).includes('Expired'));
const outboxRows = () => open.gateway.db.outboxJob.count();

/** A signed Slack click on Approve, timed; Slack gives up after 3 s. */
async function slackClick(g: TestGateway, reviewId: string): Promise<{ status: number; ms: number }> {
  const req = signedForm(SIGNING_SECRET, blockAction('UDANA', 'review.approve', JSON.stringify({ reviewId, group: 'dba-team' })));
  const started = performance.now();
  try {
    const res = await fetch(`${g.baseUrl}/slack/events`, { method: 'POST', headers: req.headers, body: req.body, signal: AbortSignal.timeout(5000) });
    await res.text();
    return { status: res.status, ms: Math.round(performance.now() - started) };
  } catch (error) {
    throw new Error(`the Slack click did not answer within 5000 ms (${(error as Error).message})`);
  }
}

async function posted(id: string): Promise<void> {
  await eventually(async () => requestPosts(id).length > 0, 10_000, `the Slack message of ${id}`);
}

describe('Redis killed (SIGKILL: the server and every queued job are gone) for several seconds', () => {
  it('submit, approve and ?wait= answer from PostgreSQL; /readyz says redis; on its return nothing is lost or doubled and lost expiries apply on time', async () => {
    // Before the outage: a request that expires during it, one approved during it, and one whose
    // delayed expiry job sits in Redis and is due just after Redis is back.
    const exp = (await submit(short, "UPDATE users SET status = 'expired-in-outage' WHERE id = 1")).body;
    const app = (await submit(open, "UPDATE users SET status = 'approved-in-outage' WHERE id = 2")).body;
    const late = (await submit(later, "UPDATE users SET status = 'due-after-outage' WHERE id = 3")).body;
    expect([exp.status, app.status, late.status]).toEqual(['PENDING', 'PENDING', 'PENDING']);
    await Promise.all([posted(exp.id), posted(app.id), posted(late.id)]);
    await eventually(async () => (await outboxRows()) === 0, 5000, 'the outbox relayed before the outage');

    await redis.kill();
    try {
      await duringAndAfterKill({ exp, app, late });
    } finally {
      await redis.ensureRunning(); // a failure here must not leave the next test without Redis
    }
  }, 45_000);
});

/** The SIGKILL case from the moment Redis died. */
async function duringAndAfterKill({ exp, app, late }: Record<'exp' | 'app' | 'late', any>): Promise<void> {
  // Submit: stored and answered without Redis, quickly.
  const created = await submit(open, "UPDATE users SET status = 'submitted-in-outage' WHERE id = 3");
  expect(created.status).toBe(201);
  expect(created.body.status).toBe('PENDING');
  expect(created.ms).toBeLessThan(2000);
  expect(await statusOf(created.body.id)).toBe('PENDING');
  // Approve through the API: decided and answered.
  const approved = await timed(open, 'PUT', `/api/reviews/${app.id}/approve`, { key: dana.apiKey });
  expect(approved.status).toBe(200);
  expect(approved.body.status).toBe('APPROVED');
  expect(approved.ms).toBeLessThan(2000);
  // A second replica answers too (each has its own connections).
  const elsewhere = await timed(short, 'GET', `/api/reviews/${created.body.id}`, { key: alice.apiKey });
  expect(elsewhere.status).toBe(200);
  expect(elsewhere.ms).toBeLessThan(2000);
  // A long-poll on a request nobody decides ends at its deadline, with the truth.
  const waited = await timed(open, 'GET', `/api/reviews/${created.body.id}?wait=3`, { key: alice.apiKey });
  expect(waited.status).toBe(200);
  expect(waited.body.status).toBe('PENDING');
  expect(waited.ms).toBeGreaterThanOrEqual(2900);
  expect(waited.ms).toBeLessThan(4500);
  // Ready: no, because of Redis; alive: yes.
  const ready = await timed(open, 'GET', '/readyz');
  expect(ready.status).toBe(503);
  expect(ready.body.ready).toBe(false);
  expect(ready.body.dependencies.redis).toEqual({ ok: false, error: 'connection failed or refused' });
  expect(ready.body.dependencies.database).toEqual({ ok: true });
  expect(ready.body.error.code).toBe('unavailable');
  expect(ready.body.error.message).toContain('redis');
  // What a load balancer asks: the API serves from PostgreSQL, so this replica stays in rotation.
  const serving = await timed(open, 'GET', '/readyz?require=database');
  expect(serving.status).toBe(200);
  expect(serving.body.dependencies.redis).toEqual({ ok: false, error: 'connection failed or refused' });
  expect(ready.ms).toBeLessThan(2500);
  expect((await timed(open, 'GET', '/healthz')).status).toBe(200);
  // A Slack click cannot be checked for replay without Redis: refused at once (Slack retries), not held.
  const click = await slackClick(open, created.body.id);
  expect(click.status).toBe(503);
  expect(click.ms).toBeLessThan(2000);
  // A long-poll on the request that comes due now wakes on its expiry, read from PostgreSQL.
  const expiring = await timed(open, 'GET', `/api/reviews/${exp.id}?wait=9`, { key: alice.apiKey }, 12_000);
  expect(expiring.status).toBe(408);
  expect(expiring.body.review.status).toBe('EXPIRED');
  figures.killDueToExpiredDuringOutageMs = Date.now() - new Date(exp.expiresAt).getTime();
  figures.killLatencyMs = JSON.stringify({ submit: created.ms, approve: approved.ms, get: elsewhere.ms, readyz: ready.ms, wait3: waited.ms, slackClick: click.ms });
  // Nothing ran while Redis was away (the execution job waits in the outbox).
  expect(await statusOf(app.id)).toBe('APPROVED');
  expect(await outboxRows()).toBeGreaterThan(0);

  // Back 2.5 s before the last request is due: its expiry job died with Redis.
  const dueAt = new Date(late.expiresAt).getTime();
  await sleep(Math.max(0, dueAt - 2500 - Date.now()));
  await redis.restart();
  const back = Date.now();

  await eventually(async () => requestPosts(created.body.id).length > 0, 5000, 'the request submitted during the outage posted to Slack');
  figures.killReturnToPostMs = Date.now() - back;
  await eventually(async () => (await statusOf(app.id)) === 'EXECUTED', 5000, 'the approval of the outage executed');
  figures.killReturnToExecutedMs = Date.now() - back;
  expect(await target.query('SELECT status FROM users WHERE id = 2')).toEqual([{ status: 'approved-in-outage' }]);
  await eventually(async () => expiredUpdates(exp.id).length > 0, 5000, 'the Slack message of the request expired in the outage updated');
  await eventually(async () => (await statusOf(late.id)) === 'EXPIRED', dueAt + 2500 - Date.now(), 'the request due after the outage expired on time');
  figures.killDueToExpiredMs = Date.now() - dueAt;
  figures.killReturnToExpiredMs = Date.now() - back;
  expect(Date.now() - back).toBeLessThan(5000);
  await eventually(async () => expiredUpdates(late.id).length > 0, 5000, 'its Slack message updated');
  await eventually(async () => resultPosts(app.id).length > 0, 5000, 'the result posted to the thread');
  await eventually(async () => (await outboxRows()) === 0, 5000, 'the outbox drained');

  // Nothing doubled: a moment more for any straggler, then count.
  await sleep(1000);
  for (const id of [exp.id, app.id, late.id, created.body.id]) expect(requestPosts(id)).toHaveLength(1);
  expect(resultPosts(app.id)).toHaveLength(1);
  const audit = await open.gateway.db.auditEvent.groupBy({ by: ['action'], where: { reviewId: { in: [app.id, exp.id, late.id] } }, _count: true });
  const count = Object.fromEntries(audit.map((a) => [a.action, a._count]));
  expect(count['review.execution_started']).toBe(1);
  expect(count['review.expired']).toBe(2);
  expect(await statusOf(created.body.id)).toBe('PENDING');
}

describe('Redis hung (SIGSTOP: connections stay open, nothing answers)', () => {
  it('submit, approve and ?wait= still answer within a short bound; /readyz says redis; on SIGCONT the effects go through once', async () => {
    const app = (await submit(open, "UPDATE users SET status = 'approved-while-hung' WHERE id = 1")).body;
    await posted(app.id);
    redis.pause();
    try {
      const created = await submit(open, "UPDATE users SET status = 'submitted-while-hung' WHERE id = 2");
      expect(created.status).toBe(201);
      expect(created.body.status).toBe('PENDING');
      expect(created.ms).toBeLessThan(2000);
      const approved = await timed(open, 'PUT', `/api/reviews/${app.id}/approve`, { key: dana.apiKey });
      expect(approved.status).toBe(200);
      // The approving process starts the run at once (below), so the answer may already show it.
      expect(['APPROVED', 'RUNNING', 'EXECUTED']).toContain(approved.body.status);
      expect(approved.body.groups.every((g: { status: string }) => g.status === 'APPROVED')).toBe(true);
      expect(approved.ms).toBeLessThan(2500);
      const waited = await timed(open, 'GET', `/api/reviews/${created.body.id}?wait=3`, { key: alice.apiKey });
      expect(waited.status).toBe(200);
      expect(waited.body.status).toBe('PENDING');
      expect(waited.ms).toBeLessThan(4500);
      const ready = await timed(open, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.dependencies.redis).toEqual({ ok: false, error: 'no answer in time' });
      expect(ready.body.error.message).toBe('Not ready: redis (no answer in time) does not answer.');
      expect(ready.body.dependencies.database).toEqual({ ok: true });
      expect(ready.ms).toBeLessThan(2500);
      expect((await timed(open, 'GET', '/readyz?require=database')).status).toBe(200);
      const click = await slackClick(open, created.body.id);
      expect(click.status).toBe(503);
      expect(click.ms).toBeLessThan(2000);
      figures.hungLatencyMs = JSON.stringify({ submit: created.ms, approve: approved.ms, wait3: waited.ms, readyz: ready.ms, slackClick: click.ms });
      // The approval runs in the process that took it, at once: its execution needs Redis no more
      // than its commit did (the claim in PostgreSQL keeps it to one run).
      await eventually(async () => (await statusOf(app.id)) === 'EXECUTED', 5000, 'the approval executed while Redis hung');

      redis.resume();
      const back = Date.now();
      await eventually(async () => requestPosts(created.body.id).length > 0, 5000, 'the request submitted while Redis hung posted');
      await eventually(async () => (await statusOf(app.id)) === 'EXECUTED', 5000, 'the approval executed');
      figures.hungReturnToExecutedMs = Date.now() - back;
      await eventually(async () => resultPosts(app.id).length > 0, 5000, 'the result posted');
      await eventually(async () => (await outboxRows()) === 0, 5000, 'the outbox drained');
      expect((await timed(open, 'GET', '/readyz')).status).toBe(200);
      await sleep(1000);
      expect(requestPosts(created.body.id)).toHaveLength(1);
      expect(requestPosts(app.id)).toHaveLength(1);
      expect(resultPosts(app.id)).toHaveLength(1);
      expect(await target.query('SELECT status FROM users WHERE id = 1')).toEqual([{ status: 'approved-while-hung' }]);
    } finally {
      redis.resume();
    }
  }, 40_000);
});
