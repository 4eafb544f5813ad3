// Second outside review of issue 7, MySQL/MariaDB: an auto-run read that changes the server, and a
// table that shows other sessions' statements (with the values in them) in clear.
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlTarget, MYSQL_URL } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createMysqlTarget>>;
let alice: { id: string; apiKey: string };
let before: number;

const exec = (connection: string, input: string) => t.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input } });
const server = async <T>(sql: string): Promise<T> => {
  const c = await mysql.createConnection({ uri: MYSQL_URL });
  try {
    return (await c.query(sql))[0] as T;
  } finally {
    await c.end();
  }
};

beforeAll(async () => {
  target = await createMysqlTarget();
  before = (await server<{ v: number }[]>('SELECT @@GLOBAL.wait_timeout AS v'))[0].v;
  const c = await mysql.createConnection({ uri: target.url });
  // Objects a database already has: an ops helper function, and views over it and over a built-in.
  await c.query("CREATE VIEW deploy_lock AS SELECT GET_LOCK('hoop-review2-deploy', 0) AS locked");
  await c.query(`CREATE FUNCTION session_guard() RETURNS INT BEGIN SET GLOBAL wait_timeout = 1234; RETURN 1; END`);
  await c.query('CREATE VIEW guarded AS SELECT session_guard() AS ok');
  // A chain of views ten deep over GET_LOCK, one three deep over a table, and a hundred plain views.
  await c.query('CREATE VIEW deep10 AS SELECT locked FROM deploy_lock');
  for (let i = 9; i >= 0; i--) await c.query(`CREATE VIEW deep${i} AS SELECT * FROM deep${i + 1}`);
  await c.query('CREATE TABLE plain (x INT)');
  await c.query('INSERT INTO plain VALUES (7)');
  await c.query('CREATE VIEW shallow2 AS SELECT x FROM plain');
  for (let i = 1; i >= 0; i--) await c.query(`CREATE VIEW shallow${i} AS SELECT * FROM shallow${i + 1}`);
  for (let i = 0; i < 100; i++) await c.query(`CREATE VIEW many${i} AS SELECT ${i} AS x`);
  // A view the server prints as cast(x as char charset utf8mb4), which the parser reads only without the charset.
  await c.query('CREATE VIEW casted AS SELECT CAST(x AS CHAR) AS c FROM plain');
  await c.end();
  t = await startTestGateway();
  alice = await t.createUser('alice@example.com', ['developers']);
  await t.createUser('dana@example.com', ['dba-team']);
  expect((await t.api('POST', '/api/connections', { body: { name: 'my', url: target.url, reviewers: ['dba-team'] } })).status).toBe(201);
  expect((await t.api('POST', '/api/connections', { body: { name: 'mym', url: target.url, reviewers: ['dba-team'], maskColumns: ['email'] } })).status).toBe(201);
});

afterAll(async () => {
  await server(`SET GLOBAL wait_timeout = ${before}`).catch(() => {});
  await t?.stop();
  await target?.drop();
});

// Second review, finding S (fixed; high) — on MySQL/MariaDB the catalog check of an auto-run read looks only at sql_mode
// and, when the connection masks columns, at lineage (src/execution/mysql.ts checkRead returns
// `writes: []` always). On a connection without masking, a view that calls a stored function or a
// side-effecting built-in is a plain read: `SELECT * FROM guarded` runs session_guard(), whose
// `SET GLOBAL` changes the whole server (read_only, max_connections… alike) — a READ ONLY transaction
// does not stop it — and `SELECT * FROM deploy_lock` leaves GET_LOCK's lock held by the pooled
// connection after the read. The first round fixed exactly this for PostgreSQL (views over
// pg_advisory_lock / user functions); the README's "What runs without review" promises it for both.
describe('views over stored or side-effecting functions are held for review (no masking)', () => {
  it('SELECT * FROM guarded — SET GLOBAL from a stored function', async () => {
    const res = await exec('my', 'SELECT * FROM guarded');
    const now = (await server<{ v: number }[]>('SELECT @@GLOBAL.wait_timeout AS v'))[0].v;
    expect({ status: res.body.status, wait_timeout: now }).toEqual({ status: 'PENDING', wait_timeout: before });
  });

  it('SELECT * FROM deploy_lock — GET_LOCK outlives the read', async () => {
    const res = await exec('my', 'SELECT * FROM deploy_lock');
    const holder = (await server<{ h: number | null }[]>("SELECT IS_USED_LOCK('hoop-review2-deploy') AS h"))[0].h;
    expect({ status: res.body.status, holder }).toEqual({ status: 'PENDING', holder: null });
  });

  it.each([
    ['ten views deep', 'SELECT * FROM deep0'],
    ['nine views deep', 'SELECT * FROM deep1'],
    ['behind a hundred other names', Array.from({ length: 100 }, (_, i) => `SELECT x FROM many${i}`).join(' UNION ALL ') + ' UNION ALL SELECT locked FROM deploy_lock'],
  ])('held: a view the gateway does not get to check (%s) is no plain read', async (_, sql) => {
    const res = await exec('my', sql);
    const holder = (await server<{ h: number | null }[]>("SELECT IS_USED_LOCK('hoop-review2-deploy') AS h"))[0].h;
    expect({ status: res.body.status, holder }).toEqual({ status: 'PENDING', holder: null });
    expect(res.body.classification.statements[0].warnings.join(' ')).toContain('did not check');
  });

  it('a view over CAST(… AS CHAR) runs at once', async () => {
    const res = await exec('my', 'SELECT c FROM casted');
    expect(res.body.status).toBe('EXECUTED');
    expect(res.body.output).toContain('7');
  });

  it('a view chain the gateway checks to the end runs at once', async () => {
    const res = await exec('my', 'SELECT * FROM shallow0');
    expect(res.body.status).toBe('EXECUTED');
    expect(res.body.output).toContain('7');
  });

  it('held: with masking the same views are held (lineage sees the calls)', async () => {
    for (const sql of ['SELECT * FROM guarded', 'SELECT * FROM deploy_lock']) expect((await exec('mym', sql)).body.status).toBe('PENDING');
  });
});

// Second review, finding T (fixed; medium) — information_schema.INNODB_TRX.trx_query is the text of the statement every
// open InnoDB transaction is running, with its literals: the same as PROCESSLIST.INFO, which the
// first round treats as untraceable (lineage-mysql-query.ts HOLDS_VALUES lists processlist,
// events_statements_*, the general and slow logs, not INNODB_TRX, nor performance_schema.threads'
// PROCESSLIST_INFO). An auto-run read on a connection masking `email` returns another session's
// `... WHERE email = 'ann@example.com'` in clear.
describe('INNODB_TRX does not show other sessions\' statements in clear', () => {
  it('SELECT trx_query FROM information_schema.INNODB_TRX', async () => {
    const other = await mysql.createConnection({ uri: target.url });
    const running = other.query("SELECT id, SLEEP(3) FROM users WHERE email = 'ann@example.com'");
    await new Promise((r) => setTimeout(r, 500));
    // The control: the other session's statement, with its value, is there to be read.
    const seen = await server<{ q: string | null }[]>(`SELECT trx_query AS q FROM information_schema.INNODB_TRX`);
    const res = await exec('mym', 'SELECT trx_query FROM information_schema.INNODB_TRX');
    await running;
    await other.end();
    expect(seen.map((r) => r.q).join(' ')).toContain('ann@example.com');
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('PENDING'); // untraceable: held for review
    expect(JSON.stringify(res.body)).not.toContain('ann@example.com');
  });

  it('held: PROCESSLIST is held for review', async () => {
    expect((await exec('mym', 'SELECT INFO FROM information_schema.PROCESSLIST')).body.status).toBe('PENDING');
  });
});

// Finding A2, MySQL/MariaDB (high) — MariaDB lets a CTE of WITH RECURSIVE read one defined after it;
// lineage-mysql-query.ts withClause() sets CTEs in order, so `statuses` inside `a` is the (clean)
// table to the gateway and the CTE over users.email to the server. Auto-run, in clear.
describe('WITH RECURSIVE forward references are traced (MariaDB)', () => {
  it('WITH RECURSIVE a AS (SELECT * FROM statuses), statuses AS (SELECT email ...) SELECT * FROM a', async () => {
    await target.query("CREATE TABLE IF NOT EXISTS statuses (status varchar(50) PRIMARY KEY, label varchar(50))");
    const sql = 'WITH RECURSIVE a AS (SELECT * FROM statuses), statuses AS (SELECT email AS status, id AS label FROM users) SELECT * FROM a';
    // The control: without masking the server does return the email through the forward reference.
    const clear = await exec('my', sql);
    expect(clear.body.status).toBe('EXECUTED');
    expect(clear.body.output).toContain('ann@example.com');
    const res = await exec('mym', sql);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('EXECUTED');
    expect(res.body.output).toMatch(/\(\d+ rows?\)/);
    expect(JSON.stringify(res.body)).not.toContain('ann@example.com');
  });
});
