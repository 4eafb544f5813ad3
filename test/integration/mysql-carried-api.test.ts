// Statements MariaDB runs inside other statements, through the API: what an outside review got
// approved (DROP TABLES, SET STATEMENT … FOR, ANALYZE DELETE, CREATE OR REPLACE TABLE) and their
// variants are refused at submit by the guardrails, and the tables stay as they were. The last part
// runs such statements on MariaDB itself, to show that the server does what the classifier says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlTarget } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createMysqlTarget>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

const TABLES = ['keep1', 'keep2', 'rows3', 'rows4', 'keep5'];
const exec = (connection: string, input: string) => t.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input } });
const reject = (id: string) => t.api('PUT', `/api/reviews/${id}/reject`, { key: dana.apiKey, body: { reason: 'test' } });

/** Every test table and its number of rows (a dropped table is missing). */
async function snapshot(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { name } of await target.query(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN (${TABLES.map((x) => `'${x}'`).join(', ')})`)) {
    out[name] = (await target.query(`SELECT count(*) AS n FROM \`${name}\``))[0].n;
  }
  return out;
}

beforeAll(async () => {
  target = await createMysqlTarget();
  for (const name of TABLES) {
    await target.query(`CREATE TABLE ${name} (id int PRIMARY KEY, v int)`);
    await target.query(`INSERT INTO ${name} VALUES (1, 1), (2, 2), (3, 3)`);
  }
  t = await startTestGateway();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  expect((await t.api('POST', '/api/connections', { body: { name: 'maria', url: target.url, reviewers: ['dba-team'] } })).status).toBe(201);
  const strict = { name: 'maria-strict', url: target.url, reviewers: ['dba-team'], guardrails: [{ type: 'deny-unbounded-write' }, { type: 'deny-unchecked-sql' }] };
  expect((await t.api('POST', '/api/connections', { body: strict })).status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

const FULL = Object.fromEntries(TABLES.map((name) => [name, 3]));

async function expectRefused(connection: string, input: string, rule: string): Promise<void> {
  const before = await t.gateway.db.review.count();
  const res = await exec(connection, input);
  expect(res.status, input).toBe(422);
  expect(res.body.error, input).toMatchObject({ code: 'guardrail_blocked', rule });
  expect(await t.gateway.db.review.count()).toBe(before);
  expect(await snapshot()).toEqual(FULL);
}

describe('the findings of the outside review', () => {
  it.each([
    ['maria', 'DROP TABLES keep1', 'no-drop-table'],
    ['maria', 'SET STATEMENT max_statement_time=100 FOR DROP TABLE keep2', 'no-drop-table'],
    ['maria-strict', 'SET STATEMENT max_statement_time=100 FOR DELETE FROM rows3', 'no-unbounded-write'],
    ['maria-strict', 'ANALYZE DELETE FROM rows4', 'no-unbounded-write'],
    ['maria', 'CREATE OR REPLACE TABLE keep5 (id int)', 'no-drop-table'],
  ])('on %s, %j is refused at submit by %s, and every table keeps its rows', async (connection, input, rule) => {
    await expectRefused(connection, input, rule);
  });
});

describe('their variants', () => {
  it.each([
    'drop /* x */ tables `keep1`, keep2',
    'DROP TABLE IF EXISTS keep1, keep2',
    'set statement max_statement_time = 100 , sql_mode = "" for\n  drop tables `keep2`',
    "PREPARE s FROM 'DROP TABLE keep1'; EXECUTE s",
    "EXECUTE IMMEDIATE 'DROP ' 'TABLE keep1'",
    "SET @q = 'DROP TABLE keep1'; EXECUTE IMMEDIATE @q",
    'create or replace table `keep5` as select 1 as id',
    'CREATE /* c */ OR REPLACE TABLE keep5 LIKE keep1',
    'BEGIN NOT ATOMIC SELECT 1; DROP TABLE keep1; END',
    'CREATE PROCEDURE p() BEGIN DROP TABLE keep1; END',
    'IF 1 THEN SELECT 1; ELSE DROP TABLE keep1; END IF',
  ])('%j is refused by no-drop-table', async (input) => {
    await expectRefused('maria', input, 'no-drop-table');
  });

  it.each([
    'TRUNCATE keep5',
    'SET STATEMENT max_statement_time=100 FOR TRUNCATE TABLE keep5',
    'ALTER TABLE keep5 TRUNCATE PARTITION p0',
    'CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO TRUNCATE keep5',
  ])('%j is refused by no-truncate', async (input) => {
    await expectRefused('maria', input, 'no-truncate');
  });

  it.each([
    'ANALYZE FORMAT=JSON DELETE FROM rows4',
    'DELETE FROM rows3 WHERE 1=1',
    'delete from rows3 where true',
    'UPDATE rows3 SET v = 0 WHERE id = 1 || 1',
    "PREPARE s FROM 'DELETE FROM rows3'; EXECUTE s",
    'CREATE TRIGGER tr BEFORE INSERT ON keep1 FOR EACH ROW DELETE FROM rows3',
  ])('%j is refused by no-unbounded-write', async (input) => {
    await expectRefused('maria-strict', input, 'no-unbounded-write');
  });

  it.each(['PREPARE s FROM @q; EXECUTE s', "EXECUTE IMMEDIATE CONCAT('DELETE FROM ', 'rows3')", 'EXECUTE s'])('%j is refused by no-unchecked-sql', async (input) => {
    await expectRefused('maria-strict', input, 'no-unchecked-sql');
  });
});

describe('what passes the guardrails', () => {
  it('waits for review as the write it carries, and tells the reviewers', async () => {
    const res = await exec('maria-strict', 'SET STATEMENT max_statement_time=100 FOR DELETE FROM rows3 WHERE id = 1');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'PENDING', readOnly: false, classification: { kind: 'write', statements: [{ kind: 'write', command: 'DELETE', tables: ['rows3'] }] } });
    expect(res.body.classification.statements[0].warnings).toContain('SET STATEMENT … FOR runs DELETE, with the settings before FOR');
    await reject(res.body.id);
    expect(await snapshot()).toEqual(FULL);
  });

  it('does not run a read inside ANALYZE at once', async () => {
    const res = await exec('maria', 'ANALYZE SELECT * FROM rows3');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'PENDING', readOnly: false, classification: { kind: 'unknown', statements: [{ command: 'SELECT' }] } });
    await reject(res.body.id);
  });
});

describe('what MariaDB itself does with them', () => {
  const count = async (table: string) => (await target.query(`SELECT count(*) AS n FROM ${table}`))[0].n;
  const scratch = async (name: string) => {
    await target.query(`CREATE OR REPLACE TABLE ${name} (id int PRIMARY KEY)`);
    await target.query(`INSERT INTO ${name} VALUES (1), (2)`);
  };

  it('runs the DELETE of SET STATEMENT … FOR and of ANALYZE', async () => {
    await scratch('scratch_a');
    await target.query('SET STATEMENT max_statement_time=100 FOR DELETE FROM scratch_a WHERE id = 1');
    expect(await count('scratch_a')).toBe(1);
    await target.query('ANALYZE DELETE FROM scratch_a');
    expect(await count('scratch_a')).toBe(0);
  });

  it('drops with DROP TABLES, and drops the rows with CREATE OR REPLACE TABLE', async () => {
    await scratch('scratch_b');
    await target.query('CREATE OR REPLACE TABLE scratch_b (id int)');
    expect(await count('scratch_b')).toBe(0);
    await target.query('DROP TABLES scratch_b');
    expect(await target.query("SHOW TABLES LIKE 'scratch_b'")).toEqual([]);
  });

  it('refuses to RENAME TABLE over an existing table, so a rename drops nothing', async () => {
    await scratch('scratch_c');
    await scratch('scratch_d');
    await expect(target.query('RENAME TABLE scratch_c TO scratch_d')).rejects.toThrow(/already exists/);
    expect([await count('scratch_c'), await count('scratch_d')]).toEqual([2, 2]);
  });
});
