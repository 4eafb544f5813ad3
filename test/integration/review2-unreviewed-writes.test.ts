// Second outside review of issue 7: a read that runs without review (EXECUTED, readOnly: true) and
// still runs a shell command on the database server.
//
// Second review, finding F (fixed; high) — the first round's file_fdw fix checks the foreign tables a read *names* (and
// what the views it reads depend on), not the partitions and inheritance children PostgreSQL scans
// when a read names the parent. A partitioned table with a file_fdw partition whose `program` is a
// shell command (or a plain table with such a foreign child) is read by `SELECT count(*) FROM
// events` without review, and the program runs. (src/execution/postgres-catalog.ts relsCte:
// `pg_class.relname = ANY(names)` plus pg_rewrite/pg_depend of views; neither pg_inherits nor
// partitions are followed, so the 'foreign table' check never sees the child.)
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
  // A program that writes a row (through psql, on the server) and prints one line of CSV.
  const program = (what: string, line: string) =>
    `psql -h ${u.hostname} -U postgres -d ${u.pathname.slice(1)} -qAtc "INSERT INTO side_effects(what) VALUES (''${what}'')" >/dev/null; echo ${line}`;
  await target.query(`CREATE TABLE side_effects (at timestamptz DEFAULT now(), what text);
    CREATE EXTENSION file_fdw; CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
    -- An archive partition kept as a foreign table (the usual way to move old data out).
    CREATE TABLE events (id int, note text) PARTITION BY RANGE (id);
    CREATE TABLE events_recent PARTITION OF events FOR VALUES FROM (0) TO (100);
    CREATE FOREIGN TABLE events_archive PARTITION OF events FOR VALUES FROM (100) TO (200)
      SERVER files OPTIONS (program '${program('partition', '150,archived')}', format 'csv');
    -- The same through table inheritance.
    CREATE TABLE logs (id int, note text);
    CREATE FOREIGN TABLE logs_old () INHERITS (logs) SERVER files OPTIONS (program '${program('inheritance', '1,old')}', format 'csv');
    -- A view over the partitioned table.
    CREATE VIEW recent_events AS SELECT id, note FROM events;
    -- The first round's case: the foreign table named directly.
    CREATE FOREIGN TABLE feed (id int, note text) SERVER files OPTIONS (program '${program('direct', '1,x')}', format 'csv');`);
  // Committed first: ANALYZE below already calls the function, which writes on another connection.
  await target.query(`
    -- A range type whose subtype_diff (PL/pgSQL, declared IMMUTABLE) writes through dblink.
    CREATE EXTENSION dblink;
    CREATE FUNCTION span_diff(a float8, b float8) RETURNS float8 LANGUAGE plpgsql IMMUTABLE AS $f$
      BEGIN PERFORM dblink_exec('host=${u.hostname} port=${u.port || 5432} user=postgres dbname=${u.pathname.slice(1)}', 'INSERT INTO side_effects(what) VALUES (''subtype_diff'')'); RETURN a - b; END $f$;
    CREATE TYPE span AS RANGE (subtype = float8, subtype_diff = span_diff);
    CREATE TABLE spans (id int, s span);
    INSERT INTO spans SELECT g, span(g, g + 1) FROM generate_series(1, 200) g;
    ANALYZE spans;
    -- A partial index whose predicate calls an IMMUTABLE user function with constant arguments.
    CREATE FUNCTION cutoff() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $f$
      BEGIN PERFORM dblink_exec('host=${u.hostname} port=${u.port || 5432} user=postgres dbname=${u.pathname.slice(1)}', 'INSERT INTO side_effects(what) VALUES (''index predicate'')'); RETURN 100; END $f$;
    CREATE TABLE orders (id int, amount int);
    CREATE INDEX orders_recent ON orders (id) WHERE id > cutoff();`);
  // Views over views: 40 deep over an advisory lock, 12 deep over the same, 20 deep over a plain table.
  const chain = (prefix: string, depth: number, bottom: string) =>
    [`CREATE VIEW ${prefix}${depth} AS ${bottom};`, ...Array.from({ length: depth }, (_, k) => `CREATE VIEW ${prefix}${depth - 1 - k} AS SELECT * FROM ${prefix}${depth - k};`)].join('\n');
  await target.query([chain('lock40_', 40, 'SELECT pg_try_advisory_lock(4242) AS locked'), chain('lock12_', 12, 'SELECT pg_try_advisory_lock(4242) AS locked'), 'CREATE TABLE plain (x int); INSERT INTO plain VALUES (7);', chain('plain20_', 20, 'SELECT x FROM plain')].join('\n'));
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

describe('held: a foreign table named directly', () => {
  it('SELECT * FROM feed', async () => {
    const before = await sideEffects('direct');
    const res = await exec('pg', 'SELECT * FROM feed');
    expect({ status: res.body.status, ran: (await sideEffects('direct')) - before }).toEqual({ status: 'PENDING', ran: 0 });
  });
});

describe('a foreign partition or child with a program holds an auto-run read', () => {
  it.each([
    ['partition', 'SELECT count(*) FROM events'],
    ['partition', 'SELECT * FROM events WHERE id > 120'],
    ['partition', 'SELECT * FROM recent_events'],
    ['inheritance', 'SELECT * FROM logs'],
  ])('%s: %s', async (what, sql) => {
    const seen = [];
    for (const connection of ['pg', 'pgm']) {
      const before = await sideEffects(what);
      const res = await exec(connection, sql);
      expect(res.status).toBe(201);
      seen.push({ connection, status: res.body.status, ran: (await sideEffects(what)) - before });
    }
    // What should be: held for review like `SELECT * FROM feed`, and the program not run.
    expect(seen).toEqual([
      { connection: 'pg', status: 'PENDING', ran: 0 },
      { connection: 'pgm', status: 'PENDING', ran: 0 },
    ]);
  });
});

// Second review, finding F2 (fixed; medium) — functions PostgreSQL calls without the statement naming it: the
// planner estimates a range operator's selectivity with the range type's `subtype_diff`, a user
// function (here PL/pgSQL writing through dblink). `WHERE s && '[1,2]'` names neither the type (the
// literal is coerced implicitly) nor a user operator (`&&` is the built-in anyrange one), so neither
// the parser's lists nor the catalog check (postgres-catalog.ts VET_SQL: functions, operators and
// types *named*, implicit casts, views, policies) sees it. Same class as the first round's ORDER BY
// USING / operator class finding.
// The planner also folds the constant parts of a partial index's predicate when it loads the index
// (relcache: eval_const_expressions), so `WHERE id > cutoff()` on an index of `orders` runs cutoff()
// — a user function the read never names — once per pooled connection.
describe('user functions the planner calls hold an auto-run read for review', () => {
  it.each([
    ['subtype_diff', "SELECT count(*) FROM spans WHERE s && '[1,2]'"],
    ['subtype_diff', "SELECT id FROM spans WHERE s <@ '[1,5]'"],
    ['index predicate', 'SELECT count(*) FROM orders WHERE id = 5'],
  ])('%s: %s', async (what, sql) => {
    const before = await sideEffects(what);
    const res = await exec('pg', sql);
    expect(res.status).toBe(201);
    expect({ status: res.body.status, ran: (await sideEffects(what)) - before }).toEqual({ status: 'PENDING', ran: 0 });
  });
});

// Third look (fixed) — the catalog check followed views only eight levels deep: a read through nine
// or more views over pg_try_advisory_lock ran without review and left the lock held by the pooled
// connection. Now it follows 32 levels, and a read reaching further is held.
describe('views nested deep', () => {
  const locks = async () => Number((await target.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242"))[0].n);

  it.each([
    ['12 views deep (checked to the bottom)', 'SELECT * FROM lock12_0', 'pg_try_advisory_lock'],
    ['40 views deep (past what the gateway follows)', 'SELECT * FROM lock40_0', 'did not check'],
  ])('held: %s', async (_, sql, why) => {
    const res = await exec('pg', sql);
    expect({ status: res.body.status, locks: await locks() }).toEqual({ status: 'PENDING', locks: 0 });
    expect(res.body.classification.statements[0].warnings.join(' ')).toContain(why);
  });

  it('a chain of 20 views over a table runs at once', async () => {
    const res = await exec('pg', 'SELECT * FROM plain20_0');
    expect(res.body.status).toBe('EXECUTED');
    expect(res.body.output).toContain('7');
  });
});
