// A gateway started while Redis is down or hung neither hangs nor ignores a stop: it gives up after
// REDIS_START_TIMEOUT_MS with an error naming Redis (exit 1, for the supervisor to restart it), and
// a SIGTERM meanwhile ends it at once with exit 0.
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_START_TIMEOUT_MS } from '../../src/gateway.js';
import { createStateDatabase } from '../helpers/databases.js';
import { gatewayEnv, startGatewayProcess } from '../helpers/gateway-process.js';
import { freePort, startRedisChild } from '../helpers/redis-child.js';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Redis URL that is down (nothing listens) or hung (a server of our own, stopped with SIGSTOP). */
async function redisThatIs(how: 'down' | 'hung'): Promise<string> {
  if (how === 'down') return `redis://127.0.0.1:${await freePort()}`;
  const redis = await startRedisChild();
  cleanups.push(() => redis.close());
  redis.pause();
  return redis.url;
}

async function startWith(how: 'down' | 'hung') {
  const state = await createStateDatabase();
  cleanups.push(() => state.drop());
  const redisUrl = await redisThatIs(how);
  const gw = startGatewayProcess(gatewayEnv(state.url, { MIGRATE_ON_START: 'false', REDIS_URL: redisUrl, SHUTDOWN_GRACE_SEC: '3' }));
  cleanups.push(() => gw.kill());
  const started = Date.now();
  return { gw, redisUrl, started };
}

/** The exit, or 'still running' after `ms`. */
const exitWithin = (gw: ReturnType<typeof startGatewayProcess>, ms: number) => Promise.race([gw.exited, sleep(ms).then(() => 'still running' as const)]);

describe.concurrent('a start while Redis is away', () => {
  it.each(['down', 'hung'] as const)('Redis %s: exits 1 after the start bound with an error naming Redis', async (how) => {
    const { gw, redisUrl, started } = await startWith(how);
    // Measured from the spawn: a loaded machine takes seconds to load the process before its bound starts.
    const exit = await exitWithin(gw, REDIS_START_TIMEOUT_MS + 30_000);
    expect(exit).not.toBe('still running');
    if (exit === 'still running') return;
    expect(exit.code).toBe(1);
    expect(exit.at - started).toBeGreaterThanOrEqual(REDIS_START_TIMEOUT_MS);
    const fatal = gw.logs.find((l) => l.msg === 'the gateway could not start');
    expect(JSON.stringify(fatal)).toContain(`Redis at ${redisUrl}`);
    expect(JSON.stringify(fatal)).toContain('does not answer');
    expect(gw.logs.some((l) => l.msg === 'gateway listening')).toBe(false);
  }, 60_000);

  it.each(['down', 'hung'] as const)('Redis %s: a SIGTERM during the start ends it at once with exit 0', async (how) => {
    const { gw } = await startWith(how);
    await gw.waitForLog((l) => l.msg === 'starting: waiting for Redis', 30_000);
    await sleep(1500); // well into the wait for Redis
    const signalled = Date.now();
    gw.child.kill('SIGTERM');
    const exit = await exitWithin(gw, 8000);
    expect(exit).not.toBe('still running');
    if (exit === 'still running') return;
    console.log(`Redis ${how}: exit ${exit.code} ${exit.at - signalled} ms after SIGTERM during start-up`);
    expect(exit.code).toBe(0);
    expect(exit.at - signalled).toBeLessThan(4000);
    expect(gw.logs.some((l) => l.msg === 'stopped before serving')).toBe(true);
  }, 60_000);
});
