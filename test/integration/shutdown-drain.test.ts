// SIGTERM to a real gateway process: open long-polls are answered at once, a run that outlives
// SHUTDOWN_GRACE_SEC is handed over (left RUNNING, no heartbeat), a second signal cuts the grace
// short; the process exits 0 every time.
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import type { startGatewayProcess } from '../helpers/gateway-process.js';
import { startTestGateway } from '../helpers/gateway.js';
import { reviewRow, running, startReviewedProcess, submit } from '../helpers/reviewed-process.js';

let target: Awaited<ReturnType<typeof createTargetDatabase>>;

beforeAll(async () => {
  target = await createTargetDatabase();
});
afterAll(async () => {
  await target?.drop();
});

type Cleanups = Array<() => Promise<void> | void>;

/** What the test of `ctx` starts is stopped when it ends (the tests run at once: each cleans up its own). */
function cleanupsOf(ctx: TestContext): Cleanups {
  const cleanups: Cleanups = [];
  ctx.onTestFinished(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return cleanups;
}

/** A gateway process on a fresh state database, with a requester, a reviewer and a reviewed connection. */
const start = (cleanups: Cleanups, env: Record<string, string> = {}, options: Parameters<typeof startGatewayProcess>[1] = {}) => startReviewedProcess(target.url, cleanups, env, options);

// Each test has a gateway process and a state database of its own, and touches its own rows of the
// target (or none): they run at once, since they mostly wait for a grace period or a pg_sleep.

describe.concurrent('SIGTERM with an open long-poll', () => {
  it('answers the long-poll at once with the review as it stands and exits 0', async (ctx) => {
    const s = await start(cleanupsOf(ctx));
    const id = await submit(s, "UPDATE users SET status = 'never' WHERE id = 1");
    const port = await s.gw.listening;
    const poll = fetch(`http://127.0.0.1:${port}/api/reviews/${id}?wait=60`, { headers: { authorization: `Bearer ${s.alice}` } });
    // The gateway has the poll (an admitted request is answered, never refused) before the signal.
    await s.gw.waitForLog((l) => l.msg === 'incoming request' && String((l.req as { url?: string })?.url).includes('wait=60'), 10_000, 'the long-poll to arrive');
    const sent = Date.now();
    s.gw.child.kill('SIGTERM');
    const res = await poll;
    const answeredMs = Date.now() - sent;
    expect(res.status).toBe(200);
    expect((await res.json()).status).toBe('PENDING');
    expect(res.headers.get('connection')).toBe('close');
    const exit = await s.gw.exited;
    expect(exit.code).toBe(0);
    console.log(`long-poll answered ${answeredMs} ms after SIGTERM; exit ${exit.at - sent} ms after SIGTERM`);
    expect(answeredMs).toBeLessThan(2000);
    expect(exit.at - sent).toBeLessThan(3000);
    expect((await reviewRow(s.stateUrl, id)).status).toBe('PENDING');
  });
});

describe.concurrent('SIGTERM with a run longer than SHUTDOWN_GRACE_SEC', () => {
  it('refuses new requests with 503 while it drains, hands the run over at the bound and exits 0', async (ctx) => {
    const cleanups = cleanupsOf(ctx);
    const s = await start(cleanups, { SHUTDOWN_GRACE_SEC: '3' });
    const queued = await submit(s, "UPDATE users SET status = 'queued' WHERE id = 1");
    const id = await running(s, "SELECT pg_sleep(12); UPDATE users SET status = 'late' WHERE id = 2");
    // Another replica, serving HTTP only: a vote there enqueues an execution while this one drains.
    const other = await startTestGateway({ slack: false, workers: false, databaseUrl: s.stateUrl, prefix: s.prefix });
    cleanups.push(() => other.stop());
    const sent = Date.now();
    s.gw.child.kill('SIGTERM');
    await s.gw.waitForLog((l) => l.msg === 'stopping', 5000, 'stopping');
    const approved = await other.api('PUT', `/api/reviews/${queued}/approve`, { key: s.dana, body: {} });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('APPROVED');
    const refused = await s.gw.api('GET', '/api/me', { key: s.alice });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.body.error.code).toBe('unavailable');
    expect(refused.body.error.message).toContain('stopping');
    // A load balancer's health check sees it too.
    expect((await s.gw.api('GET', '/healthz')).status).toBe(503);
    const exit = await s.gw.exited;
    expect(exit.code).toBe(0);
    const ms = exit.at - sent;
    console.log(`grace 3 s, run 12 s: exit ${ms} ms after SIGTERM`);
    expect(ms).toBeGreaterThanOrEqual(2900);
    expect(ms).toBeLessThan(6000);
    const handedOver = s.gw.logs.find((l) => String(l.msg).includes('handed over'));
    expect(handedOver?.reviews).toEqual([id]);
    // Handed over: still RUNNING (neither a guessed FAILED nor EXECUTED), and no heartbeat since.
    const row = await reviewRow(s.stateUrl, id);
    expect(row.status).toBe('RUNNING');
    expect(row.error).toBeNull();
    expect(row.heartbeatAt!.getTime()).toBeLessThanOrEqual(exit.at);
    // The draining workers took no new job: the execution waits in the queue for another worker.
    const waiting = await reviewRow(s.stateUrl, queued);
    expect(waiting).toEqual({ status: 'APPROVED', heartbeatAt: null, error: null });
    // The replica left finds the truth of the handed-over run once its heartbeat is stale (as its
    // periodic sweep would 30 s later): the exited gateway never sent COMMIT, so nothing committed.
    const swept = await other.gateway.reviews.sweep({ now: new Date(Date.now() + 60_000) });
    expect(swept.failed).toBe(1);
    const settled = await reviewRow(s.stateUrl, id);
    expect(settled.status).toBe('FAILED');
    expect(settled.error).toMatch(/^the gateway stopped while this command ran; the target reports that transaction \d+ was rolled back.*: nothing was committed\. You may submit it again\.$/);
    expect(await target.query('SELECT status FROM users WHERE id = 2')).toEqual([{ status: 'active' }]);
  });

  it('hands over at once on a second SIGTERM and exits 0', async (ctx) => {
    const s = await start(cleanupsOf(ctx), { SHUTDOWN_GRACE_SEC: '60' });
    const id = await running(s, "SELECT pg_sleep(12); UPDATE users SET status = 'late' WHERE id = 3");
    const sent = Date.now();
    s.gw.child.kill('SIGTERM');
    const stopping = await s.gw.waitForLog((l) => l.msg === 'stopping', 5000, 'stopping');
    // Later than a second after the gateway took the first: a repeat within one is the same stop
    // delivered twice (see run.ts).
    await new Promise((r) => setTimeout(r, Math.max(0, Number(stopping.time) + 1500 - Date.now())));
    const second = Date.now();
    s.gw.child.kill('SIGTERM');
    const exit = await s.gw.exited;
    expect(exit.code).toBe(0);
    console.log(`second SIGTERM ${second - sent} ms after the first: exit ${exit.at - second} ms after the second`);
    expect(exit.at - second).toBeLessThan(3000);
    expect(s.gw.logs.find((l) => String(l.msg).includes('handed over'))?.reviews).toEqual([id]);
    expect((await reviewRow(s.stateUrl, id)).status).toBe('RUNNING');
  });
});

describe.concurrent('SIGTERM to the process group of npm start', () => {
  it('takes SIGTERM to the whole process group of npm start (systemd, Ctrl-C) as one stop: the run finishes', async (ctx) => {
    const s = await start(cleanupsOf(ctx), { SHUTDOWN_GRACE_SEC: '30' }, { npm: 'start', ownGroup: true });
    const id = await running(s, "SELECT pg_sleep(3); UPDATE users SET status = 'group' WHERE id = 1");
    const sent = Date.now();
    // npm gets it and forwards it, and the gateway gets it from the group: twice at once.
    process.kill(-s.gw.pid, 'SIGTERM');
    const exit = await s.gw.exited;
    expect(exit.code).toBe(0);
    console.log(`SIGTERM to the process group, run of 3 s: exit ${exit.at - sent} ms after SIGTERM`);
    expect(s.gw.logs.filter((l) => l.msg === 'stopping')).toHaveLength(1);
    expect(s.gw.logs.some((l) => String(l.msg).includes('handed over'))).toBe(false);
    expect((await reviewRow(s.stateUrl, id)).status).toBe('EXECUTED');
    expect(await target.query('SELECT status FROM users WHERE id = 1')).toEqual([{ status: 'group' }]);
  });
});
