// An approved request whose execution job failed for good (its attempts spent while the state
// database was away) still runs: the sweep's repair is a job of its own, not the failed job's id
// that BullMQ ignores for the 7 days it keeps a failed job. And a state database that is away does
// not spend the job's attempts in the first place.
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { queueNames } from '../../src/jobs/queues.js';
import { createStateDatabase, createTargetDatabase, REDIS_URL, uniqueName } from '../helpers/databases.js';
import { deleteQueues, eventually, startTestGateway } from '../helpers/gateway.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setUp() {
  const state = await createStateDatabase();
  cleanups.push(() => state.drop());
  const target = await createTargetDatabase();
  cleanups.push(() => target.drop());
  await target.query('CREATE TABLE t (v int)');
  const prefix = uniqueName('xr');
  cleanups.push(() => deleteQueues(prefix));
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  cleanups.push(async () => redis.disconnect());
  const queue = new Queue(queueNames(prefix).reviews, { connection: redis });
  cleanups.push(() => queue.close());
  // A process without workers: approvals are stored and their jobs queued, nothing runs.
  const first = await startTestGateway({ slack: false, workers: false, databaseUrl: state.url, prefix });
  cleanups.push(() => first.stop());
  const alice = await first.createUser('alice@example.com', ['dev']);
  const dana = await first.createUser('dana@example.com', ['dba']);
  expect((await first.api('POST', '/api/connections', { body: { name: 'prod', url: target.url, reviewers: ['dba'], reviewMode: 'all' } })).status).toBe(201);
  const submit = async (v: number) => (await first.api('POST', '/api/connections/prod/exec', { key: alice.apiKey, body: { input: `INSERT INTO t VALUES (${v})` } })).body.id as string;
  const approve = async (id: string) => expect((await first.api('PUT', `/api/reviews/${id}/approve`, { key: dana.apiKey })).status).toBe(200);
  const status = async (id: string) => (await first.api('GET', `/api/reviews/${id}`)).body.status as string;
  return { state, target, prefix, redis, queue, first, submit, approve, status };
}

it('an approval whose execution job failed for good runs at the next sweep', async () => {
  const s = await setUp();
  const id = await s.submit(1);
  // What five attempts during a state-database outage leave: execute-<id> in the failed set.
  await s.queue.add('review.execute', { reviewId: id }, { jobId: `execute-${id}`, attempts: 1, removeOnFail: { age: 7 * 86_400 } });
  const failer = new Worker(s.queue.name, async () => {
    throw new Error('the state database is unavailable');
  }, { connection: s.redis.duplicate({ maxRetriesPerRequest: null }) });
  await eventually(async () => (await s.queue.getJobState(`execute-${id}`)) === 'failed', 5000, 'the job to fail');
  await failer.close();
  await s.approve(id); // its relayed execute-<id> is ignored: BullMQ still holds that id
  await s.first.gateway.db.review.update({ where: { id }, data: { decidedAt: new Date(Date.now() - 60_000) } });
  // A worker process starts; its start-up sweep repairs what it finds.
  const worker = await startTestGateway({ slack: false, databaseUrl: s.state.url, prefix: s.prefix, sweepIntervalMs: 600_000 });
  cleanups.push(() => worker.stop());
  await eventually(async () => (await s.status(id)) === 'EXECUTED', 8000, 'the approved request to run');
  expect(Number((await s.target.query('SELECT count(*) AS n FROM t WHERE v = 1'))[0].n)).toBe(1);
  // Another sweep in the same window adds nothing; the claim would keep a second job from running anyway.
  await worker.gateway.reviews.sweep();
  await sleep(500);
  expect(Number((await s.target.query('SELECT count(*) AS n FROM t WHERE v = 1'))[0].n)).toBe(1);
}, 30_000);

it('a state database that is away does not spend the execution job\'s attempts; it runs once the database is back', async () => {
  const s = await setUp();
  const id = await s.submit(2);
  // The job comes due in 1.5 s, with the gateway's own retry settings (5 attempts, 1 s doubling).
  await s.queue.add('review.execute', { reviewId: id }, { jobId: `execute-${id}`, delay: 1500, attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnFail: { age: 7 * 86_400 } });
  await s.approve(id);
  const proxy = await startTcpProxy(Number(new URL(s.state.url).port || 5432));
  cleanups.push(() => proxy.close());
  const viaProxy = new URL(s.state.url);
  viaProxy.port = String(proxy.port);
  const worker = await startTestGateway({ slack: false, databaseUrl: viaProxy.toString(), prefix: s.prefix, sweepIntervalMs: 600_000 });
  cleanups.push(() => worker.stop());
  await proxy.close(); // the state database goes away for the worker
  await sleep(6000); // the job came due and was tried several times meanwhile
  const job = await s.queue.getJob(`execute-${id}`);
  expect(job?.attemptsStarted ?? 0, 'the job was tried while the database was away').toBeGreaterThan(1);
  expect(job?.attemptsMade).toBe(0);
  expect(await s.queue.getJobState(`execute-${id}`)).not.toBe('failed');
  await proxy.reopen();
  await eventually(async () => (await s.status(id)) === 'EXECUTED', 8000, 'the approved request to run');
  expect(Number((await s.target.query('SELECT count(*) AS n FROM t WHERE v = 2'))[0].n)).toBe(1);
}, 30_000);
