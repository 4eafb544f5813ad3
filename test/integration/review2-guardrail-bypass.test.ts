// Second outside review of issue 7: statements that change every row or drop a table past the
// guardrails, on connections with the default rules plus `no-unbounded-write` and `no-unchecked-sql`.
// Each test asserts what the README promises (422 guardrail_blocked, no request created).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlTarget, createTargetDatabase } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let pgTarget: Awaited<ReturnType<typeof createTargetDatabase>>;
let myTarget: Awaited<ReturnType<typeof createMysqlTarget>>;
let alice: { id: string; apiKey: string };

const STRICT = [
  { type: 'deny-command', command: 'DROP TABLE' },
  { type: 'deny-command', command: 'DROP SCHEMA' },
  { type: 'deny-command', command: 'DROP DATABASE' },
  { type: 'deny-command', command: 'TRUNCATE' },
  { type: 'deny-unbounded-write' },
  { type: 'deny-unchecked-sql' },
];

const exec = (connection: string, input: string) => t.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input } });

beforeAll(async () => {
  pgTarget = await createTargetDatabase();
  await pgTarget.query(`CREATE TABLE statuses (status text PRIMARY KEY); INSERT INTO statuses VALUES ('active');
    CREATE TYPE archived_row AS (id int, note text); CREATE TABLE archive OF archived_row; INSERT INTO archive VALUES (1, 'kept for audits');
    CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'x');
    CREATE PROCEDURE cleanup() LANGUAGE plpgsql AS $$ BEGIN DROP TABLE notes; END $$;`);
  myTarget = await createMysqlTarget();
  t = await startTestGateway();
  alice = await t.createUser('alice@example.com', ['developers']);
  await t.createUser('dana@example.com', ['dba-team']);
  for (const [name, url] of [['pg', pgTarget.url], ['my', myTarget.url]]) {
    expect((await t.api('POST', '/api/connections', { body: { name, url, reviewers: ['dba-team'], guardrails: STRICT } })).status).toBe(201);
  }
  // The defaults of a new connection, for DROP TYPE ... CASCADE.
  expect((await t.api('POST', '/api/connections', { body: { name: 'pgdefault', url: pgTarget.url, reviewers: ['dba-team'] } })).status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
  await pgTarget?.drop();
  await myTarget?.drop();
});

// Second review, finding G (fixed; medium) — PostgreSQL's `no-unbounded-write` only catches a WHERE that is constant as a
// whole (postgres-commands.ts isConstant: any ColumnRef or SubLink anywhere makes it "bounded").
// `WHERE id = 1 OR true` changes every row, and so do `EXISTS (SELECT 1)`, `(SELECT true)`, and a
// DELETE ... USING whose WHERE names only the other table. The MySQL side catches exactly these
// (README: "one that names no column of the table written in some OR branch (`WHERE id = 1 OR 1`,
// `WHERE EXISTS (SELECT 1 FROM u)`, a multi-table `DELETE t1 FROM t1, t2 WHERE t2.x = 1`)"), the
// PostgreSQL side neither blocks nor warns.
describe('PostgreSQL writes with a WHERE that bounds nothing are unbounded', () => {
  it.each([
    'DELETE FROM users WHERE id = 1 OR true',
    'UPDATE users SET status = \'gone\' WHERE id = 1 OR 1 = 1',
    'DELETE FROM users WHERE EXISTS (SELECT 1)',
    'DELETE FROM users WHERE (SELECT true)',
    "DELETE FROM users USING statuses WHERE statuses.status = 'active'",
    "UPDATE users SET status = 'gone' FROM statuses WHERE statuses.status = 'active'",
    'MERGE INTO users u USING statuses s ON true OR u.id = 1 WHEN MATCHED THEN DELETE',
  ])('%s', async (sql) => {
    const res = await exec('pg', sql);
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 422, code: 'guardrail_blocked' });
  });

  it('held: the same on MySQL/MariaDB', async () => {
    for (const sql of ['DELETE FROM users WHERE id = 1 OR true', 'DELETE FROM users WHERE EXISTS (SELECT 1)']) {
      expect((await exec('my', sql)).status).toBe(422);
    }
  });
});

// Second review, finding H (fixed; low) — tables dropped without saying DROP TABLE: `DROP TYPE t CASCADE` drops every typed
// table `OF t` with its rows (and `DROP DOMAIN d CASCADE` every column of that domain). DROP OWNED,
// DROP SCHEMA … CASCADE and DROP EXTENSION … CASCADE count as DROP TABLE (postgres-nested.ts), these
// do not: the default `no-drop-table` lets them through (reviewers do see the CASCADE warning).
describe('DROP TYPE ... CASCADE counts as DROP TABLE', () => {
  it('DROP TYPE archived_row CASCADE', async () => {
    const res = await exec('pgdefault', 'DROP TYPE archived_row CASCADE');
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 422, code: 'guardrail_blocked' });
  });
});

// Second review, finding I (fixed; low) — MariaDB `ALTER TABLE t DISCARD TABLESPACE` deletes the table's data file (every
// row gone; the table answers "Tablespace has been discarded"). node-sql-parser cannot read it, so it
// is `unknown` with command ALTER TABLE: no-truncate, no-drop-table and no-unchecked-sql all let it
// through, and the reviewers read only "could not be parsed".
describe('ALTER TABLE ... DISCARD TABLESPACE counts as TRUNCATE', () => {
  it('ALTER TABLE users DISCARD TABLESPACE', async () => {
    const res = await exec('my', 'ALTER TABLE users DISCARD TABLESPACE');
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 422, code: 'guardrail_blocked' });
  });
});

// Second review, finding J (fixed; low) — calling a procedure that exists already runs SQL the guardrails never saw, like
// `EXECUTE` of a statement prepared before the request (which *is* flagged), but carries no "SQL the
// guardrails cannot check" warning, so `no-unchecked-sql` does not stop `CALL cleanup()` (whose body
// is DROP TABLE notes). The MySQL README says CALL is not followed; the PostgreSQL section does not.
describe('CALL of an existing procedure is unchecked SQL', () => {
  it('CALL cleanup()', async () => {
    const res = await exec('pg', 'CALL cleanup()');
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 422, code: 'guardrail_blocked' });
  });
});

describe('held', () => {
  it.each([
    ['pg', "CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DROP TABLE notes; RETURN NEW; END $$"],
    ['pg', 'CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN TRUNCATE notes; END $$'],
    ['pg', "CREATE FUNCTION f(t text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE format('DROP TABLE %I', t); END $$"],
    ['pg', 'CREATE FUNCTION g() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM notes; END'],
    ['pg', "DO $$ BEGIN EXECUTE 'DO $x$ BEGIN DROP TABLE notes; END $x$'; END $$"],
    ['pg', 'WITH d AS (DELETE FROM users RETURNING *) SELECT count(*) FROM d'],
    ['pg', 'COPY (DELETE FROM users RETURNING *) TO STDOUT'],
    ['my', 'DELETE FROM users WHERE id = 1 OR \'a\''],
    ['my', 'DELETE FROM users /*! WHERE 1 */'],
  ])('%s: %s', async (connection, sql) => {
    const res = await exec(connection, sql);
    expect(res.status).toBe(422);
  });
});
