// Outside review of issue 7: commands that drop a table or delete every row past the guardrails
// `deny:DROP TABLE`, `no-unbounded-write` and `no-unchecked-sql`, without the reviewers being warned.
// Each test asserts the promised behaviour (422 guardrail_blocked); before the fixes, each of the
// findings was approved and did what the guardrail was meant to stop.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlTarget, createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let pgTarget: Awaited<ReturnType<typeof createTargetDatabase>>;
let myTarget: Awaited<ReturnType<typeof createMysqlTarget>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

const GUARDRAILS = [
  { type: 'deny-command', command: 'DROP TABLE' },
  { type: 'deny-command', command: 'DROP SCHEMA' },
  { type: 'deny-command', command: 'DROP DATABASE' },
  { type: 'deny-command', command: 'TRUNCATE' },
  { type: 'deny-unbounded-write' },
  { type: 'deny-unchecked-sql' },
];

const exec = (connection: string, input: string) => t.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input } });
const approveAndRun = async (id: string) => {
  expect((await t.api('PUT', `/api/reviews/${id}/approve`, { key: dana.apiKey })).status).toBe(200);
  return eventually(async () => {
    const v = (await t.api('GET', `/api/reviews/${id}`)).body;
    return ['EXECUTED', 'FAILED'].includes(v.status) && v;
  });
};

/** Submits `sql`; when it is not blocked (the finding), approves it and returns what it did. */
async function attempt(connection: string, sql: string, effect: () => Promise<unknown>) {
  const res = await exec(connection, sql);
  if (res.status === 422) return { blocked: true };
  const warnings = (res.body.classification?.statements ?? []).flatMap((s: { warnings: string[] }) => s.warnings);
  const done = await approveAndRun(res.body.id);
  return { blocked: false, status: done.status, warnings, effect: await effect() };
}

beforeAll(async () => {
  pgTarget = await createTargetDatabase();
  // The application's own role owns its tables (least privilege, as the README advises).
  await pgTarget.query(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'review_app') THEN CREATE ROLE review_app LOGIN; END IF; END $$;
    GRANT CREATE ON SCHEMA public TO review_app;
    CREATE TABLE app_orders (id int PRIMARY KEY); ALTER TABLE app_orders OWNER TO review_app;
    CREATE TABLE keep_rows (id int PRIMARY KEY); INSERT INTO keep_rows SELECT generate_series(1, 10);
    CREATE TABLE keep_copy (id int);`);
  myTarget = await createMysqlTarget();
  await myTarget.query('CREATE TABLE keep1 (x int)');
  await myTarget.query('CREATE TABLE keep2 (x int)');
  await myTarget.query('CREATE TABLE rows3 (x int)');
  await myTarget.query('INSERT INTO rows3 VALUES (1), (2), (3)');
  await myTarget.query('CREATE TABLE rows4 (x int)');
  await myTarget.query('INSERT INTO rows4 VALUES (1), (2), (3)');
  t = await startTestGateway();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  const appUrl = new URL(pgTarget.url);
  appUrl.username = 'review_app';
  for (const [name, url] of [['pg', pgTarget.url], ['pgapp', appUrl.toString()], ['my', myTarget.url]]) {
    expect((await t.api('POST', '/api/connections', { body: { name, url, reviewers: ['dba-team'], guardrails: GUARDRAILS } })).status).toBe(201);
  }
});

afterAll(async () => {
  await t?.stop();
  await pgTarget?.query('DROP OWNED BY review_app').catch(() => {});
  await pgTarget?.drop();
  await myTarget?.drop();
});

const pgHas = async (table: string) => (await pgTarget.query(`SELECT to_regclass('${table}') IS NOT NULL AS e`))[0].e;
const myHas = async (table: string) => (await myTarget.query(`SHOW TABLES LIKE '${table}'`)).length > 0;
const myRows = async (table: string) => Number((await myTarget.query(`SELECT count(*) AS n FROM ${table}`))[0].n);

describe('held', () => {
  it.each([
    'DROP TABLE keep_rows',
    'DELETE FROM keep_rows',
    "DO $$ BEGIN EXECUTE 'DROP ' || 'TABLE keep_rows'; END $$",
    'WITH d AS (DELETE FROM keep_rows RETURNING 1) SELECT count(*) FROM d',
    "PREPARE x AS DELETE FROM keep_rows; EXECUTE x",
  ])('pg: %s is blocked', async (sql) => {
    expect((await exec('pg', sql)).status).toBe(422);
  });
  it.each(['DROP TABLE keep1', 'DELETE FROM rows3', 'DROP TABLE keep1 --1', 'DELETE FROM rows3 /*! */', 'TRUNCATE rows3', 'DROP SCHEMA x'])('mysql: %s is blocked', async (sql) => {
    expect((await exec('my', sql)).status).toBe(422);
  });
});

// Review finding 11 (fixed) — PostgreSQL: drop-table and delete-all equivalents the rules do not know.
describe('PostgreSQL statements that drop or empty tables without saying so', () => {
  it('DROP OWNED BY CURRENT_USER drops every table of the role, past deny:DROP TABLE, with no warning', async () => {
    const r = await attempt('pgapp', 'DROP OWNED BY CURRENT_USER', async () => ({ app_orders: await pgHas('app_orders') }));
    expect(r).toEqual({ blocked: true });
  });

  it('MERGE ... ON true WHEN MATCHED THEN DELETE deletes every row, past no-unbounded-write, with no warning', async () => {
    const r = await attempt('pg', 'MERGE INTO keep_rows k USING (SELECT 1) s ON true WHEN MATCHED THEN DELETE', async () => ({
      rows: Number((await pgTarget.query('SELECT count(*) AS n FROM keep_rows'))[0].n),
    }));
    expect(r).toEqual({ blocked: true });
  });

  it('COPY ... TO PROGRAM runs any shell command (here a DROP TABLE) without an "unchecked SQL" flag', async () => {
    const u = new URL(pgTarget.url);
    const sql = `COPY (SELECT 1) TO PROGRAM 'psql -h ${u.hostname} -U postgres -d ${u.pathname.slice(1)} -qc "DROP TABLE keep_copy"'`;
    const r = await attempt('pg', sql, async () => ({ keep_copy: await pgHas('keep_copy') }));
    expect(r).toEqual({ blocked: true });
  });
});

// Review finding 12 (fixed) — MySQL/MariaDB: statements node-sql-parser cannot read take their command from the
// first words (mysql-split.ts commandFromWords), so the rules never see the statement they carry:
// `DROP TABLES` (MariaDB/MySQL synonym) is "DROP"; `SET STATEMENT … FOR <stmt>` (MariaDB) is "SET";
// `ANALYZE <stmt>` (MariaDB runs the statement) is "ANALYZE"; and "without WHERE" is only looked for
// when the first word is UPDATE/DELETE.
describe('MySQL/MariaDB statements that carry another statement', () => {
  it('DROP TABLES keep1 passes deny:DROP TABLE', async () => {
    expect(await attempt('my', 'DROP TABLES keep1', async () => ({ keep1: await myHas('keep1') }))).toEqual({ blocked: true });
  });
  it('SET STATEMENT ... FOR DROP TABLE keep2 passes deny:DROP TABLE', async () => {
    expect(await attempt('my', 'SET STATEMENT max_statement_time=100 FOR DROP TABLE keep2', async () => ({ keep2: await myHas('keep2') }))).toEqual({ blocked: true });
  });
  it('SET STATEMENT ... FOR DELETE FROM rows3 passes no-unbounded-write', async () => {
    expect(await attempt('my', 'SET STATEMENT max_statement_time=100 FOR DELETE FROM rows3', async () => ({ rows: await myRows('rows3') }))).toEqual({ blocked: true });
  });
  it('ANALYZE DELETE FROM rows4 passes no-unbounded-write', async () => {
    expect(await attempt('my', 'ANALYZE DELETE FROM rows4', async () => ({ rows: await myRows('rows4') }))).toEqual({ blocked: true });
  });
});
