// A run's writes to the state database whose answer is lost although they committed: the retry
// must recognise its own write (the session it recorded, the result it wrote) and go on as if the
// first answer had come, instead of failing a good run or skipping what follows the commit.
import pg from 'pg';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createRunOutcome } from '../../src/service/run-outcome.js';
import type { TargetSession } from '../../src/execution/types.js';
import { eventually, type TestGateway } from '../helpers/gateway.js';
import { useFaultyStateFixture, type FaultyStateFixture } from '../helpers/faulty-state-fixture.js';
import type { PgFaultProxy } from '../helpers/pg-fault-proxy.js';

let t: TestGateway;
let proxy: PgFaultProxy;
let checker: pg.Client;
let alice: FaultyStateFixture['alice'];
let dana: FaultyStateFixture['dana'];

useFaultyStateFixture({ slack: false }, (f) => ({ t, proxy, checker, alice, dana } = f));

async function approved(input: string): Promise<string> {
  const r = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input } });
  expect(r.status).toBe(201);
  expect((await t.api('PUT', `/api/reviews/${r.body.id}/approve`, { key: dana.apiKey })).body.status).toBe('APPROVED');
  return r.body.id;
}
const row = async (id: string) => (await checker.query('SELECT status, error, "runTracking", "runBackendPid" FROM "Review" WHERE id = $1', [id])).rows[0];

describe('the result write of a finished run whose COMMIT answer is lost', () => {
  for (const [input, status] of [
    ["SELECT pg_sleep(1); UPDATE users SET status = 'lost-answer' WHERE id = 1", 'EXECUTED'],
    ['SELECT pg_sleep(1); SELECT 1 / 0', 'FAILED'],
  ] as const) {
    it(`is recognised by its retry (${status}): the change is told at once and written once`, async () => {
      const id = await approved(input);
      const running = t.gateway.reviews.executeReview(id);
      await eventually(async () => (await row(id)).runTracking === 'transaction', 10_000, 'the run to record its session');
      // Watching from here: the claim's change was told before.
      const watch = await t.gateway.events.watch(id);
      const trap = proxy.arm('lose-commit-answer');
      const result = await running;
      await trap;
      expect(result?.ok).toBe(status === 'EXECUTED');
      expect((await row(id)).status).toBe(status);
      // Its change is published when the write is known committed (a waiter wakes at once, not at its next re-read).
      const t0 = Date.now();
      await watch.wait(1_000);
      watch.close();
      expect(Date.now() - t0).toBeLessThan(500);
      // Written once: one audit event of the finish, and its jobs relayed by the run itself.
      const finished = await checker.query(`SELECT count(*)::int AS n FROM "AuditEvent" WHERE "reviewId" = $1 AND action IN ('review.executed', 'review.failed')`, [id]);
      expect(finished.rows[0].n).toBe(1);
      await eventually(async () => (await checker.query('SELECT 1 FROM "OutboxJob" WHERE "reviewId" = $1', [id])).rowCount === 0, 1_000, 'the jobs of the finish to be relayed');
    }, 30_000);
  }
});

describe('the session record of a run whose answer was lost (the retry finds it already recorded)', () => {
  const outcomes = () => createRunOutcome({ db: t.gateway.db, executor: t.gateway.executor, log: pino({ level: 'silent' }), staleRunningMs: 30_000 });
  /** A review RUNNING and claimed, as executeReview leaves it before it records its session. */
  async function claimed(): Promise<string> {
    const id = await approved('SELECT 1');
    await checker.query(`UPDATE "Review" SET status = 'RUNNING', "runTracking" = 'claimed', "startedAt" = now(), "heartbeatAt" = now() WHERE id = $1`, [id]);
    return id;
  }
  const session = (mode: TargetSession['mode'], pid = '4242'): TargetSession => ({ mode, pid, start: '2026-01-01T00:00:00.000001Z', ...(mode === 'transaction' ? { xid: '777' } : {}) });

  for (const mode of ['session', 'transaction'] as const) {
    it(`accepts the same ${mode} again${mode === 'session' ? ' (every MySQL run, and PostgreSQL statements like VACUUM, are session runs)' : ''}`, async () => {
      const id = await claimed();
      const o = outcomes();
      await o.record(id, session(mode));
      await expect(o.record(id, session(mode))).resolves.toBeUndefined();
      expect(await row(id)).toMatchObject({ status: 'RUNNING', runTracking: mode, runBackendPid: '4242' });
    });
  }

  it('still refuses another session once one was recorded, and a review that was settled', async () => {
    const id = await claimed();
    const o = outcomes();
    await o.record(id, session('session'));
    await expect(o.record(id, session('session', '4343'))).rejects.toThrow(/no longer running here/);
    await checker.query(`UPDATE "Review" SET status = 'FAILED' WHERE id = $1`, [id]);
    await expect(o.record(id, session('session'))).rejects.toThrow(/no longer running here/);
  });
});
