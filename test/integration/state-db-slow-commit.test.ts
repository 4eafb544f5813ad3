// The state database's connection is cut just after a COMMIT was sent, while the server is still
// committing (a slow WAL flush; here a deferred trigger that takes its time at COMMIT). The commit
// becomes visible only when that backend finishes: a look on a new connection made at once finds
// nothing. The client must not be told "nothing was changed" for a change that commits a moment
// later: the gateway looks again for about 1.75 s before it concludes that.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/databases.js';
import { eventually, type TestGateway } from '../helpers/gateway.js';
import { useFaultyStateFixture, type FaultyStateFixture } from '../helpers/faulty-state-fixture.js';
import type { PgFaultProxy } from '../helpers/pg-fault-proxy.js';

let t: TestGateway;
let proxy: PgFaultProxy;
let checker: pg.Client;
let alice: FaultyStateFixture['alice'];
let dana: FaultyStateFixture['dana'];

async function call(method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(t.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}
const submit = (reason: string) => call('POST', '/api/connections/prod-db/exec', alice.apiKey, { input: "UPDATE users SET status = 'x' WHERE id = 2", reason });

// A commit that takes `ms` (the number in the request's reason) once it was sent: a deferred
// trigger runs at COMMIT, before the transaction is visible to anyone else.
useFaultyStateFixture({ slack: false, prepare: (c) => c.query(`
    CREATE FUNCTION slow_commit(review uuid) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE why text;
    BEGIN
      SELECT reason INTO why FROM "Review" WHERE id = review;
      IF why LIKE 'slow-%' THEN PERFORM pg_sleep(split_part(why, '-', 2)::int / 1000.0); END IF;
    END $$;
    CREATE FUNCTION slow_submit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM slow_commit(NEW.id); RETURN NULL; END $$;
    CREATE FUNCTION slow_vote() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM slow_commit(NEW."reviewId"); RETURN NULL; END $$;
    CREATE CONSTRAINT TRIGGER slow_submit AFTER INSERT ON "Review" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_submit();
    CREATE CONSTRAINT TRIGGER slow_vote AFTER UPDATE ON "ReviewGroup" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_vote();`) }, (f) => ({ t, proxy, checker, alice, dana } = f));

describe('a submit whose connection is cut while the database commits it', () => {
  for (const ms of [300, 1200]) {
    it(`that commits ${ms} ms later: 201 with the request, which exists`, async () => {
      const reason = `slow-${ms}-${uniqueName('submit')}`;
      const fired = proxy.arm('cut-after-commit');
      const r = await submit(reason);
      await fired;
      // It did commit (after the answer, when the answer was wrong).
      const rows = await eventually(async () => {
        const found = (await checker.query('SELECT id, status FROM "Review" WHERE reason = $1', [reason])).rows;
        return found.length ? found : undefined;
      }, 5_000, 'the request to be committed');
      expect(rows).toHaveLength(1);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body).toMatchObject({ id: rows[0].id, status: 'PENDING' });
    }, 20_000);
  }
});

describe('a vote whose connection is cut while the database commits it', () => {
  it('that commits 1 s later: 200 with the decision, which is recorded', async () => {
    const created = await submit(`slow-1000-${uniqueName('vote')}`);
    expect(created.status).toBe(201);
    const fired = proxy.arm('cut-after-commit');
    const r = await call('PUT', `/api/reviews/${created.body.id}/approve`, dana.apiKey, {});
    await fired;
    await eventually(async () => (await checker.query('SELECT status FROM "Review" WHERE id = $1', [created.body.id])).rows[0].status === 'APPROVED', 5_000, 'the vote to be committed');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.status).toBe('APPROVED');
  }, 20_000);
});
