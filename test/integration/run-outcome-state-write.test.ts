// A run whose result cannot be written at first (the state database drops the connection or
// refuses the write) is written when the database answers again — EXECUTED, not FAILED — and its
// heartbeat beats meanwhile, so no sweep takes the finished run for a stopped one.
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/databases.js';
import { useOutcomeFixture, type OutcomeFixture } from '../helpers/run-outcome-fixture.js';

let f: OutcomeFixture;
useOutcomeFixture((started) => (f = started));

describe('a run whose result cannot be written at first', () => {
  /** Makes the first `times` writes of the review's result (RUNNING → EXECUTED/FAILED) fail as `how` says. */
  async function failFirstFinish(id: string, how: 'drop the connection' | 'raise an error', times = 1): Promise<string> {
    const name = uniqueName('fail_finish');
    const act = how === 'drop the connection' ? 'PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5);' : "RAISE EXCEPTION 'the state database refused this write (test)';";
    // nextval is not rolled back with the failed write: only the first `times` attempts fail.
    await f.onState(`CREATE SEQUENCE ${name};
      CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.id = '${id}' AND OLD.status = 'RUNNING' AND NEW.status <> 'RUNNING' AND nextval('${name}') <= ${times} THEN ${act} END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER ${name} BEFORE UPDATE ON "Review" FOR EACH ROW EXECUTE FUNCTION ${name}();`);
    return name;
  }

  // All at once: each runs its own review, and nothing here sweeps.
  for (const how of ['drop the connection', 'raise an error'] as const) {
    it.concurrent(`retries the write when the state database ${how === 'drop the connection' ? 'drops its connection' : 'raises an error'}: EXECUTED, not FAILED`, async () => {
      const v = how === 'drop the connection' ? 4 : 5;
      const id = await f.approved(`SELECT pg_sleep(0.2); INSERT INTO t VALUES (${v})`);
      const trigger = await failFirstFinish(id, how);
      try {
        const result = await f.t.gateway.reviews.executeReview(id);
        expect(result?.ok).toBe(true);
        const r = await f.review(id);
        expect(r.status).toBe('EXECUTED');
        expect(r.commandTags).toEqual(['SELECT 1', 'INSERT 0 1']);
        expect(r.rowsAffected).toBe(1);
        expect(await f.rowsOf(v)).toBe(1);
        // The first write did fail (nextval was taken by it), and a second one was made.
        expect(Number((await f.onState(`SELECT last_value FROM ${trigger}`))[0].last_value)).toBe(2);
      } finally {
        await f.onState(`DROP TRIGGER ${trigger} ON "Review"; DROP FUNCTION ${trigger}(); DROP SEQUENCE ${trigger};`);
      }
    }, 30_000);
  }

  it.concurrent('keeps its heartbeat beating while it retries, so no sweep takes the finished run for a stopped one', async () => {
    const id = await f.approved('INSERT INTO t VALUES (6)');
    // Six failures: the seventh attempt, about 6.3 s later (backing off from 100 ms), succeeds — past a 5 s heartbeat.
    const trigger = await failFirstFinish(id, 'raise an error', 6);
    try {
      expect((await f.t.gateway.reviews.executeReview(id))?.ok).toBe(true);
      const r = await f.review(id);
      expect(r.status).toBe('EXECUTED');
      expect(Number((await f.onState(`SELECT last_value FROM ${trigger}`))[0].last_value)).toBe(7);
      // The run itself took milliseconds: a heartbeat this close to the finish beat during the retries.
      expect(r.finishedAt!.getTime() - r.startedAt!.getTime()).toBeGreaterThan(5_500);
      expect(r.heartbeatAt!.getTime() - r.startedAt!.getTime()).toBeGreaterThanOrEqual(4_900);
    } finally {
      await f.onState(`DROP TRIGGER ${trigger} ON "Review"; DROP FUNCTION ${trigger}(); DROP SEQUENCE ${trigger};`);
    }
  }, 30_000);
});

