// Outside review of issue 7: statements that run without review (EXECUTED, readOnly: true) and
// still have a side effect — a write through dblink, a shell program, a lock or a killed session
// that outlives the read-only transaction. The objects they go through (a view, a cast, a domain,
// a foreign table) are the kind a database already has; the requester only reads.
// The findings failed before they were fixed (they assert what the README promises).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };

const exec = (connection: string, input: string) => t.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input } });
const sideEffects = async (what: string) => Number((await target.query(`SELECT count(*) AS n FROM side_effects WHERE what = '${what}'`))[0].n);

beforeAll(async () => {
  target = await createTargetDatabase();
  const u = new URL(target.url);
  const conninfo = `host=${u.hostname} port=${u.port || 5432} user=${decodeURIComponent(u.username) || 'postgres'} dbname=${u.pathname.slice(1)}`;
  await target.query(`CREATE EXTENSION dblink;
    CREATE TABLE side_effects (at timestamptz DEFAULT now(), what text);
    -- A function that writes outside the caller's transaction (as dblink_exec does).
    CREATE FUNCTION log_side(what text) RETURNS bool LANGUAGE plpgsql AS $f$
      BEGIN PERFORM dblink_exec('${conninfo}', format('INSERT INTO side_effects(what) VALUES (%L)', what)); RETURN true; END $f$;
    -- Views over built-in functions with side effects (not user-defined, so the catalog check passes them).
    CREATE VIEW lock_probe AS SELECT pg_advisory_lock(4242) IS NULL AS locked;
    CREATE VIEW idle_sessions AS SELECT pid, pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = 'review-victim';
    -- A view over a user function (the catalog check does catch this one when it sees the view).
    CREATE VIEW report AS SELECT log_side('view') AS x;
    -- A domain whose CHECK calls a user function.
    CREATE DOMAIN logged_text AS text CHECK (log_side('domain'));
    -- An implicit cast with a user function.
    CREATE FUNCTION int_as_text(i int4) RETURNS text LANGUAGE plpgsql AS $f$ BEGIN PERFORM log_side('implicit cast'); RETURN textin(int4out(i)); END $f$;
    CREATE CAST (int4 AS text) WITH FUNCTION int_as_text(int4) AS IMPLICIT;
    -- A btree operator class with user operators and a user comparison function.
    CREATE FUNCTION side_cmp(a int4, b int4) RETURNS int LANGUAGE plpgsql AS $f$ BEGIN PERFORM log_side('sort'); RETURN btint4cmp(a, b); END $f$;
    CREATE FUNCTION s_lt(a int4, b int4) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT a < b';
    CREATE FUNCTION s_le(a int4, b int4) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT a <= b';
    CREATE FUNCTION s_eq(a int4, b int4) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT a = b';
    CREATE FUNCTION s_ge(a int4, b int4) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT a >= b';
    CREATE FUNCTION s_gt(a int4, b int4) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT a > b';
    CREATE OPERATOR <<< (LEFTARG = int4, RIGHTARG = int4, FUNCTION = s_lt);
    CREATE OPERATOR <<<= (LEFTARG = int4, RIGHTARG = int4, FUNCTION = s_le);
    CREATE OPERATOR =<=> (LEFTARG = int4, RIGHTARG = int4, FUNCTION = s_eq);
    CREATE OPERATOR >>>= (LEFTARG = int4, RIGHTARG = int4, FUNCTION = s_ge);
    CREATE OPERATOR >>> (LEFTARG = int4, RIGHTARG = int4, FUNCTION = s_gt);
    CREATE OPERATOR CLASS side_ops FOR TYPE int4 USING btree AS OPERATOR 1 <<<, OPERATOR 2 <<<=, OPERATOR 3 =<=>, OPERATOR 4 >>>=, OPERATOR 5 >>>, FUNCTION 1 side_cmp(int4, int4);
    -- A file_fdw foreign table whose "file" is a program.
    CREATE EXTENSION file_fdw; CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
    CREATE FOREIGN TABLE feed (line text) SERVER files OPTIONS (program 'psql -h ${u.hostname} -U postgres -d ${u.pathname.slice(1)} -qAtc "INSERT INTO side_effects(what) VALUES (''fdw'') RETURNING what"');`);
  t = await startTestGateway();
  alice = await t.createUser('alice@example.com', ['developers']);
  await t.createUser('dana@example.com', ['dba-team']);
  expect((await t.api('POST', '/api/connections', { body: { name: 'pg', url: target.url, reviewers: ['dba-team'] } })).status).toBe(201);
  expect((await t.api('POST', '/api/connections', { body: { name: 'pgm', url: target.url, reviewers: ['dba-team'], maskColumns: ['email'] } })).status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('held: the catalog check sees these', () => {
  it.each(['SELECT * FROM report', 'SELECT log_side(\'direct\')', "SELECT 'x'::logged_text", 'SELECT pg_advisory_lock(1)', 'SELECT 1 <<< 2', 'SELECT id FROM users WHERE id <<< 2'])('%s is held for review', async (sql) => {
    const res = await exec('pg', sql);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('PENDING');
  });
});

// Review finding 8 (fixed) — the views and policies a read goes through are checked only for user/extension
// objects (oid >= 16384, src/execution/postgres-catalog.ts VET_SQL `used`); built-in functions with
// side effects (pg_advisory_lock, pg_terminate_backend, pg_cancel_backend, pg_reload_conf,
// pg_stat_reset…) that a read may not call directly are fine inside a view. Lineage would hold
// them on a connection that masks columns, but a connection without masking runs them.
describe('a view over built-in side-effecting functions is held for review', () => {
  it('pg_advisory_lock through a view: the pooled connection keeps the lock after the read', async () => {
    const res = await exec('pg', 'SELECT * FROM lock_probe');
    expect(res.status).toBe(201);
    const held = await target.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242");
    // What should be: held for review (a read may not call pg_advisory_lock), and no lock left behind.
    expect({ status: res.body.status, locks: held[0].n }).toEqual({ status: 'PENDING', locks: 0 });
  });

  it('pg_terminate_backend through a view: another session is killed', async () => {
    const victim = new pg.Client({ connectionString: target.url, application_name: 'review-victim' });
    victim.on('error', () => {});
    await victim.connect();
    const res = await exec('pg', 'SELECT * FROM idle_sessions');
    const alive = await victim.query('SELECT 1').then(() => true, () => false);
    await victim.end().catch(() => {});
    expect({ status: res.body.status, victimAlive: alive }).toEqual({ status: 'PENDING', victimAlive: true });
  });
});

// Review finding 9 (fixed) — a CTE name anywhere in the statement removes that name from the relations the
// catalog check looks at (classify-postgres.ts inspect(): `relations` filters by every CTE name of
// the statement, in any scope), so a view outside the CTE's scope is never checked.
describe('a CTE of the same name does not hide a view from the catalog check', () => {
  it('the view over a user function runs without review and writes through dblink', async () => {
    const before = await sideEffects('view');
    const res = await exec('pg', 'SELECT * FROM report, (WITH report AS (SELECT 1) SELECT 1) s');
    expect(res.status).toBe(201);
    expect({ status: res.body.status, wrote: (await sideEffects('view')) - before }).toEqual({ status: 'PENDING', wrote: 0 });
  });
});

// Review finding 10 (fixed) — functions that PostgreSQL calls without the statement naming them: an implicit
// cast (the check looks only at casts to types the statement names), a domain CHECK reached
// through XMLTABLE's column types or XMLSERIALIZE (type names outside TypeCast/ColumnDef are not
// collected), ORDER BY ... USING an operator (SortBy.useOp is not collected, so neither the parser's
// safe list nor the catalog sees it; the sort calls the operator class's user comparison function),
// a file_fdw program (reading a foreign table runs its FDW, which no check considers).
describe('functions called implicitly are held for review', () => {
  it.each([
    ['implicit cast', 'SELECT lower(id) FROM users WHERE id = 1', 'implicit cast'],
    ['domain in XMLTABLE columns', "SELECT * FROM XMLTABLE('/a' PASSING '<a>x</a>' COLUMNS v logged_text PATH '.')", 'domain'],
    ['domain in XMLSERIALIZE', "SELECT XMLSERIALIZE(CONTENT '<a/>' AS logged_text)", 'domain'],
    ['ORDER BY ... USING a user operator', 'SELECT id FROM users ORDER BY id USING <<<', 'sort'],
    ['file_fdw program', 'SELECT * FROM feed', 'fdw'],
  ])('%s: %s', async (_what, sql, effect) => {
    // On a connection without masking and on one that masks `email` alike.
    const seen = [];
    for (const connection of ['pg', 'pgm']) {
      const before = await sideEffects(effect);
      const res = await exec(connection, sql);
      expect(res.status).toBe(201);
      seen.push({ connection, status: res.body.status, wrote: (await sideEffects(effect)) - before });
    }
    expect(seen).toEqual([{ connection: 'pg', status: 'PENDING', wrote: 0 }, { connection: 'pgm', status: 'PENDING', wrote: 0 }]);
  });
});
