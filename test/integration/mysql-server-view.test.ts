// The MySQL lexer's view of an input against the server's own reading, on the real MariaDB: the whole
// input run as one multi-statement query must do exactly what running each statement of the
// classifier's server view on its own does — same result sets, same rows written, an error exactly
// when the view says the server stops.
import mysql from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyMysql } from '../../src/sql/classify-mysql.js';
import { mysqlModeFrom, mysqlServerFrom, type MysqlLexOptions } from '../../src/sql/mysql-mode.js';
import { splitMysql } from '../../src/sql/mysql-split.js';
import { strictestKind } from '../../src/sql/types.js';
import { createMysqlTarget } from '../helpers/databases.js';

type Conn = mysql.Connection;
interface Run {
  selects: unknown[][][];
  error: string | null;
  log: unknown[];
}

let target: Awaited<ReturnType<typeof createMysqlTarget>>;
let whole: Conn;
let single: Conn;

function query(conn: Conn, sql: string): Promise<{ selects: unknown[][][]; error: string | null }> {
  return new Promise((resolve) => {
    const selects: unknown[][][] = [];
    let error: string | null = null;
    let rows: unknown[][] | null = null;
    conn
      .query({ sql, rowsAsArray: true })
      .on('fields', (fields) => {
        rows = fields ? [] : null;
        if (rows) selects.push(rows);
      })
      .on('result', (row) => void (rows && rows.push(row as unknown as unknown[])))
      .on('error', (e: Error) => void (error = e.message))
      .on('end', () => resolve({ selects, error }));
  });
}

async function readLog(): Promise<unknown[]> {
  const r = await query(single, 'SELECT v FROM log');
  await query(single, 'DELETE FROM log');
  return r.selects[0].map((row) => row[0]);
}

/** The input as the server runs it: one multi-statement query. */
async function asServer(sql: string): Promise<Run> {
  const r = await query(whole, sql);
  return { ...r, log: await readLog() };
}

/** The classifier's server view: each statement alone, until the one the view says the server stops at. */
async function asView(sql: string, options: MysqlLexOptions): Promise<Run & { stopsAt: number }> {
  const statements = splitMysql(sql, options);
  let stopsAt = statements.findIndex((s) => s.hazards.some((h) => h.kind === 'unreadable' || h.kind === 'after-empty'));
  if (stopsAt < 0) stopsAt = statements.length;
  const selects: unknown[][][] = [];
  let error: string | null = null;
  for (const s of statements.slice(0, stopsAt)) {
    const r = await query(single, s.serverText);
    selects.push(...r.selects);
    if ((error = r.error)) break;
  }
  return { selects, error: error ?? (stopsAt < statements.length ? 'the view says the server stops here' : null), log: await readLog(), stopsAt };
}

let baseMode = '';

/** Both sessions in the server's own sql_mode plus `flags`; the classifier options for it. */
async function setMode(flags: string): Promise<MysqlLexOptions> {
  const mode = [baseMode, flags].filter(Boolean).join(',');
  for (const c of [whole, single]) await query(c, `SET SESSION sql_mode = '${mode}'`);
  const r = await query(single, 'SELECT @@SESSION.sql_mode, VERSION()');
  const [sqlMode, version] = r.selects[0][0] as [string, string];
  return { ...mysqlModeFrom(sqlMode).mode, server: mysqlServerFrom(version) };
}

beforeAll(async () => {
  target = await createMysqlTarget();
  whole = mysql.createConnection({ uri: target.url, multipleStatements: true });
  single = mysql.createConnection({ uri: target.url, multipleStatements: false });
  await query(single, 'CREATE TABLE log (v int)');
  baseMode = (await query(single, 'SELECT @@SESSION.sql_mode')).selects[0][0][0] as string;
});

/** The same result sets, the same rows written, and an error exactly when the view says so. */
async function expectSameReading(sql: string, options: MysqlLexOptions): Promise<void> {
  const view = await asView(sql, options);
  const server = await asServer(sql);
  expect(server.log).toEqual(view.log);
  expect(server.selects).toEqual(view.selects);
  expect({ error: server.error !== null }).toEqual({ error: view.error !== null });
}

afterAll(async () => {
  whole?.end();
  single?.end();
  await target?.drop();
});

const DEFAULT_MODE = [
  'INSERT INTO log SELECT 1 --1; INSERT INTO log SELECT 7; -- note',
  "UPDATE users SET status='x' WHERE id=1 --1; INSERT INTO log SELECT 8; -- note",
  'INSERT INTO log SELECT 10 --\t; INSERT INTO log SELECT 11\n; INSERT INTO log SELECT 12',
  'INSERT INTO log SELECT 20 -- ; INSERT INTO log SELECT 21\n; INSERT INTO log SELECT 22 --',
  'INSERT INTO log SELECT 30 --\u0001; INSERT INTO log SELECT 31\n; SELECT 32 --\u007f x',
  'SELECT 40 --\u00a0x',
  'SELECT 180 --1 + 1; SELECT 200 -1--1; SELECT 201 ---1',
  'INSERT INTO log SELECT 50 # ; INSERT INTO log SELECT 51\n; SELECT 52 #',
  'SELECT 60 /* a /* b */ + 1; SELECT 61 /* ; */',
  'SELECT 62 /* a /* b */ + 1 */',
  'SELECT 70 /*! + 1 */; SELECT 71 /*!50000 + 1 */; SELECT 72 /*!50700 + 1 */; SELECT 73 /*!99999 + 1 */; SELECT 74 /*M! + 1 */',
  'SELECT 75 /*M!100100 + 1 */; SELECT 76 /*!100100 + 1 */; SELECT 77 /*M!999999 + 1 */; SELECT 78 /*!40000+1*/',
  'INSERT INTO log SELECT 80 /*! ; INSERT INTO log SELECT 81 */; INSERT INTO log SELECT 82',
  'SELECT 83 /*!50700 ; INSERT INTO log SELECT 84 */; INSERT INTO log SELECT 85',
  'SELECT 90 /*! , 91 /* c */ , 92 */; SELECT 93 /*! + /*! 1 */',
  'SELECT 100 /*!99999 /* nested */ + 1 */ + 1',
  'SELECT 101 /*!123 + 1 */',
  'SELECT /*+ NO_SUCH_HINT */ 110',
  "SELECT 'a\\'b;c', 'it''s;', \"d\\\"e;f\", `g;h` FROM (SELECT 1 AS `g;h`) t",
  "SELECT _utf8mb4'x;y', N'z\\';w', X'41', B'01', 0x42, 0b1, \\N",
  "SELECT 'héllo; wörld', '😀;' ; SELECT 'ok'",
  'SELECT a.5e-- 1\nFROM (SELECT 1 AS `5e`) a',
  'SELECT @a.5e--1',
  'INSERT INTO log SELECT 120; SELECT 1.5e-- 1; INSERT INTO log SELECT 121',
  "INSERT INTO log SELECT 130; SELECT X'4G'; INSERT INTO log SELECT 131",
  "INSERT INTO log SELECT 132; SELECT X'414'; INSERT INTO log SELECT 133",
  "INSERT INTO log SELECT 140; SELECT 'open",
  "INSERT INTO log SELECT 141; SELECT 'a\\'; INSERT INTO log SELECT 142; -- '",
  'INSERT INTO log SELECT 150;; INSERT INTO log SELECT 151',
  'INSERT INTO log SELECT 160; /* c */ ; INSERT INTO log SELECT 161',
  'SELECT 170; -- trailing',
  'INSERT INTO log SELECT 171; SELECT 1 /*! + 1',
  "SELECT 'a' 'b;c', 172 AS `😀;`, 0x4g FROM (SELECT 1 AS `0x4g`) t",
  'INSERT INTO log SELECT 173; SELECT `never closed; INSERT INTO log SELECT 174',
  'INSERT INTO log SELECT 175; SELECT 1\u0000; INSERT INTO log SELECT 176',
  'INSERT INTO log SELECT 177; SELECT \\x; INSERT INTO log SELECT 178',
  'SELECT @@version IS NOT NULL; INSERT INTO log SELECT 179; SELECT @@ x; INSERT INTO log SELECT 180',
  'INSERT INTO log SELECT 181 -- \r\n; INSERT INTO log SELECT 182',
  'SELECT 1 AS delimiter; SELECT 183 AS `DELIMITER`',
];

describe('the lexer reads input as MariaDB does', () => {
  it.each(DEFAULT_MODE)('in the default sql_mode: %j', async (sql) => {
    const options = await setMode('');
    await expectSameReading(sql, options);
    expect(classifyMysql(sql, options).statements).toHaveLength(splitMysql(sql, options).length);
  });

  it.each([
    "INSERT INTO log SELECT length('a\\'); INSERT INTO log SELECT 301; -- ')",
    "SELECT 'C:\\dir\\', 302",
    'SELECT "x\\"; SELECT 303; -- "',
    "SELECT 'a''b', 304",
  ])('with NO_BACKSLASH_ESCAPES: %j', async (sql) => {
    const options = await setMode('NO_BACKSLASH_ESCAPES');
    expect(options.noBackslashEscapes).toBe(true);
    await expectSameReading(sql, options);
  });

  it.each([
    'SELECT "g;h" FROM (SELECT 1 AS "g;h") t; SELECT 401',
    'INSERT INTO log SELECT 400 FROM (SELECT 1 AS "a\\") t; INSERT INTO log SELECT 402; -- "',
    "SELECT 'a\\'b;c', 403",
  ])('with ANSI_QUOTES: %j', async (sql) => {
    const options = await setMode('ANSI_QUOTES');
    expect(options.ansiQuotes).toBe(true);
    await expectSameReading(sql, options);
  });

  it('is tested on inputs where a plain parser is wrong: they are unknown, never auto-run', async () => {
    const options = await setMode('');
    const tricky = DEFAULT_MODE.filter((sql) => strictestKind(classifyMysql(sql, options).statements) === 'unknown');
    expect(tricky.length).toBeGreaterThan(18);
  });

  it('holds compound statements, which the server reads past their inner ;', async () => {
    const sql = 'INSERT INTO log SELECT 500; BEGIN NOT ATOMIC INSERT INTO log SELECT 501; INSERT INTO log SELECT 502; END; INSERT INTO log SELECT 503';
    const options = await setMode('');
    const server = await asServer(sql);
    expect(server).toMatchObject({ error: null, log: [500, 501, 502, 503] });
    const c = classifyMysql(sql, options);
    expect(c.statements.map((s) => s.kind)).toEqual(['write', 'unknown', 'unknown', 'unknown', 'unknown']);
    expect(c.statements[1].warnings.join(' ')).toContain('compound statement');
  });
});
