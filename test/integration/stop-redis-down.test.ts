// A SIGTERM while Redis is down (killed) or hung (SIGSTOP) stops the gateway as promptly as with
// Redis up: it waits for its own requests and runs (counted in the process), not for BullMQ's
// close, which needs Redis; it tells no false "cut" and exits 0.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createStateDatabase, createTargetDatabase } from '../helpers/databases.js';
import { eventually } from '../helpers/gateway.js';
import { gatewayEnv, startGatewayProcess } from '../helpers/gateway-process.js';
import { startRedisChild } from '../helpers/redis-child.js';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});
const GRACE_SEC = 20;

async function gatewayOnOwnRedis() {
  const redis = await startRedisChild();
  cleanups.push(() => redis.close());
  const state = await createStateDatabase();
  cleanups.push(() => state.drop());
  const gw = startGatewayProcess(gatewayEnv(state.url, { MIGRATE_ON_START: 'false', REDIS_URL: redis.url, SHUTDOWN_GRACE_SEC: String(GRACE_SEC) }));
  cleanups.push(() => gw.kill());
  await gw.listening;
  return { redis, gw, stateUrl: state.url };
}

const CUT = /cut|handed over|timed out/;

describe.concurrent('SIGTERM while Redis is away', () => {
  it.each(['killed', 'hung'] as const)('idle, Redis %s: exits 0 within a few seconds, not after the grace', async (how) => {
    const { redis, gw } = await gatewayOnOwnRedis();
    if (how === 'killed') await redis.kill();
    else redis.pause();
    await new Promise((r) => setTimeout(r, 1500));
    const signalled = Date.now();
    gw.child.kill('SIGTERM');
    const exit = await gw.exited;
    console.log(`idle, Redis ${how}: exit ${exit.code} ${exit.at - signalled} ms after SIGTERM (grace ${GRACE_SEC} s)`);
    expect(exit.code).toBe(0);
    expect(exit.at - signalled).toBeLessThan(6000);
    expect(gw.logs.filter((l) => CUT.test(String(l.msg))).map((l) => l.msg)).toEqual([]);
    expect(gw.logs.some((l) => l.msg === 'requests and jobs in progress finished')).toBe(true);
  }, 45_000);

  it('a run in progress as Redis is killed: waits for that run only, records it EXECUTED, exits 0', async () => {
    const { redis, gw, stateUrl } = await gatewayOnOwnRedis();
    const target = await createTargetDatabase();
    cleanups.push(() => target.drop());
    await target.query('CREATE TABLE t (v int)');
    const user = async (email: string, groups: string[]) => (await gw.api('POST', '/api/users', { body: { email, groups } })).body.apiKey as string;
    const alice = await user('alice@example.com', ['dev']);
    const dana = await user('dana@example.com', ['dba']);
    expect((await gw.api('POST', '/api/connections', { body: { name: 'prod', url: target.url, reviewers: ['dba'], reviewMode: 'all' } })).status).toBe(201);
    const id = (await gw.api('POST', '/api/connections/prod/exec', { key: alice, body: { input: 'SELECT pg_sleep(3); INSERT INTO t VALUES (1)' } })).body.id;
    expect((await gw.api('PUT', `/api/reviews/${id}/approve`, { key: dana })).status).toBe(200);
    await eventually(async () => (await target.query(`SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(3)%' AND state = 'active'`)).length > 0, 10_000, 'the run to start');
    const runStarted = Date.now();
    await redis.kill();
    gw.child.kill('SIGTERM');
    const exit = await gw.exited;
    console.log(`run in progress, Redis killed: exit ${exit.code} ${exit.at - runStarted} ms after the run began (3 s run, grace ${GRACE_SEC} s)`);
    expect(exit.code).toBe(0);
    expect(exit.at - runStarted).toBeGreaterThanOrEqual(2500);
    expect(exit.at - runStarted).toBeLessThan(9000);
    expect(gw.logs.filter((l) => CUT.test(String(l.msg))).map((l) => l.msg)).toEqual([]);
    expect(Number((await target.query('SELECT count(*) AS n FROM t'))[0].n)).toBe(1);
    const c = new pg.Client({ connectionString: stateUrl });
    await c.connect();
    try {
      expect((await c.query('SELECT status FROM "Review" WHERE id = $1', [id])).rows[0].status).toBe('EXECUTED');
    } finally {
      await c.end();
    }
  }, 45_000);
});
