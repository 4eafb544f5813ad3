// No unreviewed write, whatever the target's settings and objects: reads run without review only
// when the target itself confirms they call built-ins and read literals as the parser did; the
// guardrails see nested statements; a request can neither exhaust a target nor hold it.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlExecutor } from '../../src/execution/index.js';
import { vetReadOnTarget } from '../../src/execution/postgres-catalog.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

const exec = (connection: string, input: string, gw = t) => gw.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input } });
const count = async (table: string) => (await target.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n as number;

beforeAll(async () => {
  target = await createTargetDatabase();
  await target.query(`CREATE EXTENSION IF NOT EXISTS dblink;
    CREATE TABLE keepme (id int); INSERT INTO keepme VALUES (1);
    CREATE TABLE writes (at timestamptz DEFAULT now());
    CREATE FUNCTION "LOWER"(t text) RETURNS text LANGUAGE sql AS $$ INSERT INTO writes DEFAULT VALUES RETURNING 'x' $$;
    CREATE FUNCTION public.lower(i int) RETURNS int LANGUAGE sql AS $$ SELECT i $$;
    CREATE FUNCTION eq3(a int, b int) RETURNS boolean LANGUAGE sql AS $$ SELECT a = b $$;
    CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = eq3);
    CREATE OPERATOR public.### (LEFTARG = int, RIGHTARG = int, FUNCTION = eq3);
    CREATE TYPE mood AS ENUM ('ok');
    CREATE VIEW remote_write AS SELECT dblink_exec('dbname=' || current_database(), 'INSERT INTO writes DEFAULT VALUES') AS r;`);
  t = await startTestGateway();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  for (const [name, extra] of [['pg', {}], ['ops', { allowFunctions: ['==='] }], ['nodo', { guardrails: [{ type: 'deny-command', command: 'DO' }, { type: 'deny-unchecked-sql' }, { type: 'deny-unbounded-write' }] }]] as const) {
    expect((await t.api('POST', '/api/connections', { body: { name, url: target.url, reviewers: ['dba-team'], ...extra } })).status).toBe(201);
  }
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('reads that resolve to something other than a built-in are held for review', () => {
  it.each([
    ['SELECT "LOWER"(email) FROM users', 'LOWER'],
    ['SELECT lower(1)', 'public.lower(i integer)'],
    ['SELECT 1 === 1', 'the operator ==='],
    ['SELECT 1 OPERATOR(public.###) 1', 'public.###'],
    ["SELECT 'ok'::mood", 'mood'],
    ['SELECT * FROM remote_write', 'dblink_exec'],
  ])('%s (naming %s), and nothing is written', async (sql, name) => {
    const res = await exec('pg', sql);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('PENDING');
    expect(res.body.classification.kind).toBe('write');
    expect(JSON.stringify(res.body.classification.statements[0].warnings)).toContain(name);
    expect(await count('writes')).toBe(0);
    await t.api('PUT', `/api/reviews/${res.body.id}/reject`, { key: dana.apiKey });
  });

  it('runs a read whose user-defined operator the connection allow-lists', async () => {
    const res = await exec('ops', 'SELECT 1 === 1 AS same');
    expect(res.body).toMatchObject({ status: 'EXECUTED', readOnly: true });
    expect(res.body.output).toContain(' t');
  });
});

describe('a target that reads string literals differently', () => {
  it('cannot turn an auto-run read into a write: the gateway forces the parser\'s reading on every connection', async () => {
    await target.query(`ALTER DATABASE ${new URL(target.url).pathname.slice(1)} SET standard_conforming_strings = off`);
    try {
      const before = await count('users');
      const res = await exec('pg', "SELECT 'a\\''; COMMIT; DELETE FROM users; --'");
      expect(res.body.classification.statements).toHaveLength(1);
      expect(res.body.status).toBe('EXECUTED');
      expect(await count('users')).toBe(before);
    } finally {
      await target.query(`ALTER DATABASE ${new URL(target.url).pathname.slice(1)} RESET standard_conforming_strings`);
    }
  });

  it('makes a read unknown when the session does read them differently (a pooler that drops start-up options)', async () => {
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    try {
      await client.query('SET standard_conforming_strings = off');
      const found = await vetReadOnTarget(client, [{ functions: [], operators: [], types: [], relations: [] }], new Set());
      expect(found.unknown[0]).toContain('standard_conforming_strings = off');
    } finally {
      await client.end();
    }
  });

  it('has the server refuse a second statement hidden in an auto-run read', async () => {
    const executor = createSqlExecutor({ limits: { max: 2, maxWaiting: 2, waitMs: 1000 } });
    try {
      const text = 'SELECT 1; DELETE FROM keepme';
      const statement = { index: 0, kind: 'read' as const, command: 'SELECT', statement: text, tables: [], warnings: [], calls: { functions: [], operators: [], types: [], relations: [] } };
      const r = await executor.run({ name: 'pg', url: target.url }, text, { statementTimeoutMs: 2000, outputMaxBytes: 10_000, readOnly: true, statements: [statement] });
      expect(r.ok).toBe(false);
      expect(r.error).toContain('cannot insert multiple commands into a prepared statement');
      expect(await count('keepme')).toBe(1);
    } finally {
      await executor.close();
    }
  });
});

describe('guardrails see statements inside statements', () => {
  it.each([
    ["DO $$ BEGIN EXECUTE 'DROP TABLE keepme'; END $$", 'pg', 'no-drop-table'],
    ['DO $$ BEGIN DROP TABLE keepme; END $$', 'pg', 'no-drop-table'],
    ['DROP SCHEMA public', 'pg', 'no-drop-schema'],
    ['DROP SCHEMA public CASCADE', 'pg', 'no-drop-table'],
    ['DROP OWNED BY CURRENT_USER', 'pg', 'no-drop-table'],
    ["CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS 'TRUNCATE keepme'; SELECT wipe()", 'pg', 'no-truncate'],
    ["DO $$ BEGIN RAISE NOTICE 'hi'; END $$", 'nodo', 'deny-do'],
    ['PREPARE x AS DELETE FROM keepme; EXECUTE x', 'nodo', 'no-unbounded-write'],
    ["SELECT dblink_exec('dbname=x', 'DROP TABLE keepme')", 'nodo', 'no-unchecked-sql'],
  ])('%s on %s is blocked by %s and nothing runs', async (sql, conn, rule) => {
    const res = await exec(conn, sql);
    expect(res.status).toBe(422);
    expect(res.body.error.rule).toBe(rule);
    expect(await count('keepme')).toBe(1);
  });

  it('warns reviewers about SQL it cannot check, in the API and in Slack', async () => {
    const res = await exec('pg', "DO $$ BEGIN EXECUTE 'DROP ' || 'TABLE keepme'; END $$");
    expect(res.body.status).toBe('PENDING');
    expect(res.body.classification.statements[0].warnings[0]).toContain('contains SQL the guardrails cannot check');
    await t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.blocks ?? '').includes(res.body.id) && JSON.stringify(c.args.blocks).includes('cannot check')));
    await t.api('PUT', `/api/reviews/${res.body.id}/reject`, { key: dana.apiKey });
  });
});

describe('one request cannot stop the gateway', () => {
  it('refuses more statements than MAX_STATEMENTS_PER_REQUEST with a 400 naming the limit, and creates nothing', async () => {
    const before = await t.gateway.db.review.count();
    const res = await exec('pg', 'SELECT 1;'.repeat(1001));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'bad_input', limit: 1000, statements: 1001 });
    expect(res.body.error.message).toContain('MAX_STATEMENTS_PER_REQUEST');
    expect(await t.gateway.db.review.count()).toBe(before);
  });

  it('answers /healthz while a megabyte of SQL is being classified', async () => {
    const big = 'SELECT 1;'.repeat(110_000);
    let bigDone = false;
    const submit = exec('pg', big).then((r) => {
      bigDone = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 30));
    const health = await fetch(`${t.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(bigDone).toBe(false); // the health check did not wait for the classification
    expect((await submit).status).toBe(400);
  });
});

describe('a target under load', () => {
  let small: TestGateway;
  beforeAll(async () => {
    small = await startTestGateway({ slack: false, env: { TARGET_POOL_MAX: '2', TARGET_QUEUE_MAX: '2', TARGET_QUEUE_WAIT_MS: '300', STATEMENT_TIMEOUT_MS: '900' } });
    alice = { ...alice, apiKey: (await small.createUser('alice@example.com', ['developers'])).apiKey };
    await small.api('POST', '/api/connections', { body: { name: 'pg', url: target.url, reviewers: ['dba-team'] } });
  });
  afterAll(async () => {
    await small?.stop();
  });

  it('gets at most TARGET_POOL_MAX connections from a process, and a clear 503 with Retry-After when all are busy', async () => {
    let most = 0;
    const sampling = setInterval(async () => {
      const [{ n }] = await target.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'hoop-approvals' AND query LIKE '%pg_sleep%'");
      most = Math.max(most, n);
    }, 50);
    const answers = await Promise.all(Array.from({ length: 8 }, () => exec('pg', 'SELECT pg_sleep(0.5)', small)));
    clearInterval(sampling);
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(2);
    const busy = answers.filter((a) => a.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy[0].body.error.message).toMatch(/All 2 connections of the gateway to "pg" are in use .* nothing was run/);
    expect(most).toBeLessThanOrEqual(2);
  });

  it('stops a read whose statements together take longer than the limit of one request', async () => {
    const started = Date.now();
    const res = await exec('pg', 'SELECT pg_sleep(0.4); SELECT pg_sleep(0.4); SELECT pg_sleep(0.4); SELECT pg_sleep(0.4)', small);
    expect(res.body.status).toBe('FAILED');
    expect(res.body.error).toBe('the read took longer than 900 ms in all, the limit of a request; it was stopped');
    expect(Date.now() - started).toBeLessThan(1600);
  });
});
