// SIGTERM to a real gateway process while it runs a command longer than the 15 s after which the
// gateway used to exit 1: within SHUTDOWN_GRACE_SEC the run finishes and is recorded, then exit 0.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import type { startGatewayProcess } from '../helpers/gateway-process.js';
import { reviewRow, running, startReviewedProcess } from '../helpers/reviewed-process.js';

let target: Awaited<ReturnType<typeof createTargetDatabase>>;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  target = await createTargetDatabase();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await target?.drop();
});

/** A gateway process on a fresh state database, with a requester, a reviewer and a reviewed connection. */
const start = (env: Record<string, string> = {}, options: Parameters<typeof startGatewayProcess>[1] = {}) => startReviewedProcess(target.url, cleanups, env, options);

describe('SIGTERM with a run longer than 15 s and a grace bound that allows it', () => {
  it('lets the run finish, records it EXECUTED and exits 0', async () => {
    const s = await start({ SHUTDOWN_GRACE_SEC: '40' });
    const id = await running(s, "SELECT pg_sleep(18); UPDATE users SET status = 'slept' WHERE id = 1");
    const port = await s.gw.listening;
    // The requester's long-poll, open before the signal, is answered at once: the run is not awaited by it.
    const poll = fetch(`http://127.0.0.1:${port}/api/reviews/${id}?wait=60`, { headers: { authorization: `Bearer ${s.alice}` } });
    // The gateway has the poll (an admitted request is answered, never refused) before the signal.
    await s.gw.waitForLog((l) => l.msg === 'incoming request' && String((l.req as { url?: string })?.url).includes('wait=60'), 10_000, 'the long-poll to arrive');
    const sent = Date.now();
    s.gw.child.kill('SIGTERM');
    const answered = await poll;
    expect(answered.status).toBe(200);
    expect((await answered.json()).status).toBe('RUNNING');
    expect(Date.now() - sent).toBeLessThan(2000);
    const refused = await s.gw.api('GET', `/api/reviews/${id}`, { key: s.alice });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    const exit = await s.gw.exited;
    expect(exit.code).toBe(0);
    const ms = exit.at - sent;
    console.log(`grace 40 s, run 18 s: exit ${ms} ms after SIGTERM`);
    expect(ms).toBeGreaterThan(15_000);
    expect(ms).toBeLessThan(25_000);
    expect(s.gw.logs.some((l) => l.msg === 'requests and jobs in progress finished')).toBe(true);
    expect(s.gw.logs.some((l) => String(l.msg).includes('handed over'))).toBe(false);
    expect((await reviewRow(s.stateUrl, id)).status).toBe('EXECUTED');
    expect(await target.query('SELECT status FROM users WHERE id = 1')).toEqual([{ status: 'slept' }]);
  }, 40_000);
});
