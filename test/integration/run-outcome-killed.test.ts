// The outcome of an approved PostgreSQL command whose worker process is killed (kill -9 of a real
// child process) is what the target says, not a guess.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/databases.js';
import { eventually } from '../helpers/gateway.js';
import { sleep, useOutcomeFixture, type OutcomeFixture } from '../helpers/run-outcome-fixture.js';

let f: OutcomeFixture;
useOutcomeFixture((started) => (f = started));

describe('an approved command whose worker process is killed (kill -9 of a child process)', () => {
  it('while pg_sleep runs: the sweep stops its backend, the INSERT never commits, and the review says FAILED, nothing committed', async () => {
    const id = await f.approved('SELECT pg_sleep(2); INSERT INTO t VALUES (1)');
    const run = f.runInChild(id);
    const pid = await f.activeOnTarget('SELECT pg_sleep(2)%');
    const started = Date.now();
    await f.kill9(run);
    expect((await f.review(id)).status).toBe('RUNNING');
    expect((await f.sweepLater()).failed).toBe(1);
    expect(await f.target.query(`SELECT 1 FROM pg_stat_activity WHERE pid = ${pid}`)).toEqual([]);
    // Past the moment the INSERT would have committed had the backend run on.
    await sleep(Math.max(0, started + 3_000 - Date.now()));
    expect(await f.rowsOf(1)).toBe(0);
    const r = await f.review(id);
    expect(r.status).toBe('FAILED');
    expect(r.error).toMatch(/transaction \d+ was rolled back; the gateway stopped its session so it could not commit later: nothing was committed/);
  }, 30_000);

  it('after its commit, before the result was written: the sweep finds it committed and says EXECUTED', async () => {
    const id = await f.approved('SELECT pg_sleep(1); INSERT INTO t VALUES (2)');
    const run = f.runInChild(id);
    await f.activeOnTarget('SELECT pg_sleep(1)%');
    // The result write waits for this lock; the child is killed while it waits.
    const lock = new pg.Client({ connectionString: f.t.databaseUrl });
    await lock.connect();
    try {
      await lock.query('BEGIN');
      await lock.query('SELECT id FROM "Review" WHERE id = $1 FOR UPDATE', [id]);
      await eventually(async () => (await f.rowsOf(2)) === 1, 10_000, 'the INSERT to commit');
      await sleep(200);
      await f.kill9(run);
    } finally {
      await lock.query('ROLLBACK').catch(() => {});
      await lock.end();
    }
    expect((await f.review(id)).status).toBe('RUNNING');
    expect((await f.sweepLater()).failed).toBe(1);
    const r = await f.review(id);
    expect(r.status).toBe('EXECUTED');
    expect(r.error).toBeNull();
    expect(r.output).toMatch(/transaction \d+ committed, so it ran in full\. Its output and row counts were lost/);
    expect(await f.rowsOf(2)).toBe(1);
  }, 30_000);

  it('before it sent anything (it waits to record its session): FAILED, nothing ran, and it never runs later', async () => {
    const id = await f.approved('INSERT INTO t VALUES (3)');
    // Recording the session (runTracking leaves "claimed") hangs: the child is killed while it waits.
    const name = uniqueName('slow_record');
    await f.onState(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.id = '${id}' AND OLD."runTracking" = 'claimed' AND NEW."runTracking" IS DISTINCT FROM 'claimed' THEN PERFORM pg_sleep(30); END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER ${name} BEFORE UPDATE ON "Review" FOR EACH ROW EXECUTE FUNCTION ${name}();`);
    try {
      const run = f.runInChild(id);
      const asleep = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep' AND query LIKE 'UPDATE%Review%'`;
      await eventually(async () => (await f.onState(asleep)).length > 0, 20_000, 'the run to wait while recording its session');
      // Its target transaction is open (BEGIN, txid_current()); the input is not sent.
      expect(await f.target.query(`SELECT state FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'hoop-approvals'`)).toEqual([{ state: 'idle in transaction' }]);
      await f.kill9(run);
      await f.onState(`SELECT pg_terminate_backend(pid) FROM (${asleep}) s`);
    } finally {
      await f.onState(`DROP TRIGGER ${name} ON "Review"; DROP FUNCTION ${name}();`);
    }
    expect((await f.sweepLater()).failed).toBe(1);
    const r = await f.review(id);
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('the gateway stopped before the command was sent to the target: nothing ran. You may submit it again.');
    expect(await f.rowsOf(3)).toBe(0);
  }, 30_000);
});
