// A run that is alive must never be settled as stopped: not by the sweep of its own process (its
// heartbeat may only have failed to be written during a state-database outage), not by a sweep of
// a process that has just seen the state database fail; its heartbeat is tried again at once after
// a failure; and a run that begins while its process hands its runs over does not start.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/databases.js';
import { eventually } from '../helpers/gateway.js';
import { sleep, useOutcomeFixtures, type OutcomeFixture } from '../helpers/run-outcome-fixture.js';

// A fixture per test: each test sweeps every stale run of its gateway (and the last one hands its
// runs over), so the tests run at once only on fixtures of their own.
let fixtures: OutcomeFixture[] = [];
useOutcomeFixtures(5, (started) => (fixtures = started));

/** What an outage longer than staleRunningMs leaves: a heartbeat 40 s old. */
const staleHeartbeat = (f: OutcomeFixture, id: string) => f.onState(`UPDATE "Review" SET "heartbeatAt" = now() - interval '40 seconds' WHERE id = $1`, [id]);
const recorded = (f: OutcomeFixture, id: string) => eventually(async () => (await f.onState(`SELECT 1 FROM "Review" WHERE id = $1 AND "runTracking" IN ('transaction', 'session')`, [id])).length > 0, 30_000, 'the run to record its session');

/** A trigger that fails the review's writes that `when` selects (NEW and OLD are the rows), the first `times` times. */
async function failWrites(f: OutcomeFixture, id: string, when: string, times: number, act = "RAISE EXCEPTION 'the state database refused this write (test)';"): Promise<() => Promise<void>> {
  const name = uniqueName('fail_write');
  await f.onState(`CREATE SEQUENCE ${name};
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.id = '${id}' AND (${when}) AND nextval('${name}') <= ${times} THEN ${act} END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER ${name} BEFORE UPDATE ON "Review" FOR EACH ROW EXECUTE FUNCTION ${name}();`);
  return () => f.onState(`DROP TRIGGER ${name} ON "Review"; DROP FUNCTION ${name}(); DROP SEQUENCE ${name};`).then(() => {});
}

describe.concurrent('a live run whose heartbeat is stale', () => {
  for (const [input, v, i] of [
    ['SELECT pg_sleep(2); INSERT INTO t VALUES (11)', 11, 0],
    // A DO block that commits runs outside the gateway's transaction: only its session is recorded.
    ['DO $$ BEGIN PERFORM pg_sleep(2); COMMIT; INSERT INTO t VALUES (17); END $$', 17, 1],
  ] as const) {
    it(`is left alone by the sweep of its own process (${v === 11 ? 'in a transaction' : 'outside one'}), and finishes EXECUTED`, async () => {
      const f = fixtures[i];
      const id = await f.approved(input);
      const running = f.t.gateway.reviews.executeReview(id);
      await recorded(f, id);
      await staleHeartbeat(f, id);
      const swept = await f.t.gateway.reviews.sweep();
      expect(swept.failed).toBe(0);
      expect((await f.review(id)).status).toBe('RUNNING');
      expect((await running)?.ok).toBe(true);
      const r = await f.review(id);
      expect({ status: r.status, error: r.error }).toEqual({ status: 'EXECUTED', error: null });
      expect(await f.rowsOf(v)).toBe(1);
    }, 30_000);
  }

  it('is beaten again at once after a failed heartbeat, not a whole heartbeat later', async () => {
    const f = fixtures[2];
    const id = await f.approved('SELECT pg_sleep(7); INSERT INTO t VALUES (12)');
    // Only heartbeats change nothing but heartbeatAt: the first two fail.
    const drop = await failWrites(f, id, `OLD.status = 'RUNNING' AND NEW.status = 'RUNNING' AND NEW."runTracking" IS NOT DISTINCT FROM OLD."runTracking" AND NEW."heartbeatAt" IS DISTINCT FROM OLD."heartbeatAt"`, 2);
    try {
      expect((await f.t.gateway.reviews.executeReview(id))?.ok).toBe(true);
    } finally {
      await drop();
    }
    const r = await f.review(id);
    expect(r.status).toBe('EXECUTED');
    // The beat due at 5 s failed twice; a retry half a second apart wrote one before the run ended at 7 s.
    const beat = r.heartbeatAt!.getTime() - r.startedAt!.getTime();
    expect(beat).toBeGreaterThan(5_000);
    expect(beat).toBeLessThan(r.finishedAt!.getTime() - r.startedAt!.getTime());
  }, 30_000);

  // After the tests above, on its own: its two worker child processes take most of its 30 s on a slow machine.
  it.sequential('of another process is not settled by a process that has just failed to write to the state database, only once it has written again for staleRunningMs', async () => {
    const f = fixtures[3];
    // This process fails one state write (its connection is dropped under a result write).
    const other = await f.approved('INSERT INTO t VALUES (13)');
    const drop = await failWrites(f, other, `OLD.status = 'RUNNING' AND NEW.status <> 'RUNNING'`, 1, 'PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5);');
    try {
      expect((await f.t.gateway.reviews.executeReview(other))?.ok).toBe(true);
    } finally {
      await drop();
    }
    expect((await f.review(other)).status).toBe('EXECUTED');
    // A run of another process whose heartbeat is stale (it could not be written during that outage).
    const id = await f.approved('SELECT pg_sleep(3); INSERT INTO t VALUES (14)');
    const run = f.runInChild(id);
    await recorded(f, id);
    await staleHeartbeat(f, id);
    expect((await f.t.gateway.reviews.sweep()).failed).toBe(0);
    expect((await f.review(id)).status).toBe('RUNNING');
    const done = await run.exited;
    expect(done).toBe(0);
    expect((await f.review(id)).status).toBe('EXECUTED');
    expect(await f.rowsOf(14)).toBe(1);
    // Once the database answered this process for staleRunningMs, a stale run is settled again.
    const id2 = await f.approved('SELECT pg_sleep(5); INSERT INTO t VALUES (15)');
    const run2 = f.runInChild(id2);
    await recorded(f, id2);
    await f.kill9(run2);
    expect((await f.t.gateway.reviews.sweep()).failed).toBe(0);
    expect((await f.sweepLater(40_000)).failed).toBe(1);
    expect((await f.review(id2)).status).toBe('FAILED');
    expect(await f.rowsOf(15)).toBe(0);
  }, 30_000);
});

describe.concurrent('a run claimed while its process hands its runs over', () => {
  it('does not start: nothing is sent to the target, and no heartbeat keeps it from the sweep', async () => {
    const f = fixtures[4];
    const id = await f.approved('INSERT INTO t VALUES (16)');
    // The claim waits for this lock; the hand-over happens meanwhile.
    const lock = new pg.Client({ connectionString: f.t.databaseUrl });
    await lock.connect();
    let running: Promise<unknown>;
    try {
      await lock.query('BEGIN');
      await lock.query('SELECT id FROM "Review" WHERE id = $1 FOR UPDATE', [id]);
      running = f.t.gateway.reviews.executeReview(id).catch((e: Error) => e);
      await eventually(async () => (await f.onState(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)).length > 0, 10_000, 'the claim to wait');
      expect(f.t.gateway.reviews.handOver()).toEqual([]);
    } finally {
      await lock.query('COMMIT');
      await lock.end();
    }
    const outcome = await running!;
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).name).toBe('StoppingError');
    await sleep(300);
    const r = await f.review(id);
    expect({ status: r.status, runTracking: r.runTracking, runBackendPid: r.runBackendPid }).toEqual({ status: 'RUNNING', runTracking: 'claimed', runBackendPid: null });
    expect(await f.rowsOf(16)).toBe(0);
    // Settled as what it is: nothing was sent.
    expect((await f.sweepLater()).failed).toBe(1);
    expect((await f.review(id)).error).toBe('the gateway stopped before the command was sent to the target: nothing ran. You may submit it again.');
  }, 30_000);
});
