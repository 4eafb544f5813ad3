// Runs approved commands on MySQL/MariaDB with mysql2, with the same contract as the PostgreSQL
// proxy: a statement timeout, reads statement by statement in a read-only transaction, masking,
// and psql-style rendering of tags and tables.
import mysql from 'mysql2/promise';
import { classifyMysql } from '../sql/classify-mysql.js';
import { maskResults } from '../sql/masking.js';
import { formatResults, truncateUtf8, type StatementResult } from '../sql/psql-format.js';
import type { ExecuteOptions, ExecutionResult } from './execution.js';

// mysql2 column type ids of numbers: DECIMAL, TINY, SHORT, LONG, FLOAT, DOUBLE, LONGLONG, INT24, YEAR, NEWDECIMAL.
const NUMERIC_TYPES = new Set([0, 1, 2, 3, 4, 5, 8, 9, 13, 246]);
const WRITES = new Set(['INSERT', 'REPLACE', 'UPDATE', 'DELETE']);

interface Answer {
  fields?: mysql.FieldPacket[];
  /** At most maxRows rows; the rest were read but not kept. */
  rows: unknown[][];
  total: number;
  header?: mysql.ResultSetHeader;
}

interface CoreQuery {
  on(event: 'fields', listener: (fields: mysql.FieldPacket[] | undefined) => void): CoreQuery;
  on(event: 'result', listener: (row: unknown) => void): CoreQuery;
  on(event: 'error', listener: (error: Error) => void): CoreQuery;
  on(event: 'end', listener: () => void): CoreQuery;
}

/**
 * Streams a (possibly multi-statement) query keeping at most `maxRows` rows of each result, so a
 * huge result costs time but not memory. One answer per statement, in order.
 */
function boundedQuery(conn: mysql.Connection, sql: string, maxRows: number): Promise<Answer[]> {
  const core = (conn as unknown as { connection: { query(o: { sql: string; rowsAsArray: boolean }): CoreQuery } }).connection;
  return new Promise((resolve, reject) => {
    const answers: Answer[] = [];
    // Each statement announces itself with a 'fields' event (undefined for one without rows).
    core
      .query({ sql, rowsAsArray: true })
      .on('fields', (fields) => void answers.push({ fields, rows: [], total: 0 }))
      .on('result', (row) => {
        const a = answers.at(-1);
        if (!a) return;
        if (!a.fields) a.header = row as mysql.ResultSetHeader;
        else if (a.total++ < maxRows) a.rows.push(row as unknown[]);
      })
      .on('error', reject)
      .on('end', () => resolve(answers));
  });
}

function toResult(a: Answer, command: string): { result: StatementResult; affected: number | null } {
  if (a.fields) {
    return {
      result: {
        tag: `SELECT ${a.total}`,
        columns: a.fields.map((f) => ({ name: f.name, numeric: NUMERIC_TYPES.has(f.columnType ?? f.type ?? -1) })),
        rows: a.rows.map((r) => r.map((v) => (v === null ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v)))),
        totalRows: a.total,
      },
      affected: null,
    };
  }
  const n = a.header?.affectedRows ?? 0;
  const base = command === 'UNKNOWN' ? 'OK' : command;
  return { result: { tag: WRITES.has(base) ? `${base} ${n}` : base }, affected: WRITES.has(base) ? n : null };
}

/** Runs `input` on the MySQL/MariaDB at `url`; the same contract as executeSql. */
export async function executeMysql(url: string, input: string, options: ExecuteOptions): Promise<ExecutionResult> {
  const maxRows = options.maxRows ?? 10_000;
  const commands = classifyMysql(input).statements.map((s) => s.command);
  let conn: mysql.Connection | undefined;
  let results: StatementResult[] = [];
  let affected: (number | null)[] = [];
  let error: string | null = null;
  let rowsCut = false;
  try {
    conn = await mysql.createConnection({ uri: url, multipleStatements: true, rowsAsArray: true, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, connectTimeout: 10_000 });
    const [[version]] = (await conn.query('SELECT VERSION()')) as unknown as [[[string]]];
    const seconds = Math.max(1, Math.ceil(options.statementTimeoutMs / 1000));
    if (/mariadb/i.test(version[0])) await conn.query(`SET SESSION max_statement_time = ${seconds}`);
    else await conn.query(`SET SESSION max_execution_time = ${options.statementTimeoutMs}`);
    const answers: Answer[] = [];
    if (options.readOnlyStatements) {
      await conn.query('START TRANSACTION READ ONLY');
      try {
        for (const statement of options.readOnlyStatements) answers.push(...(await boundedQuery(conn, statement, maxRows)));
      } finally {
        await conn.query('ROLLBACK').catch(() => {});
      }
    } else {
      answers.push(...(await boundedQuery(conn, input, maxRows)));
    }
    const converted = answers.map((a, i) => toResult(a, commands[i] ?? 'OK'));
    results = converted.map((c) => c.result);
    affected = converted.map((c) => c.affected);
    rowsCut = answers.some((a) => a.total > maxRows);
    if (options.masking) results = maskResults(results, options.masking);
  } catch (e) {
    const err = e as { errno?: number; sqlState?: string; message?: string };
    error = err.errno ? `ERROR ${err.errno} (${err.sqlState}): ${err.message}` : `ERROR:  ${err.message ?? String(e)}`;
  } finally {
    await conn?.end().catch(() => {});
  }
  const parts = [error ?? formatResults(results)];
  const cut = truncateUtf8(parts.join('\n'), options.outputMaxBytes);
  const writes = affected.filter((n): n is number => n !== null);
  return {
    ok: error === null,
    output: cut.text,
    outputTruncated: cut.truncated || rowsCut,
    commandTags: error ? [] : results.map((r) => r.tag),
    rowsAffected: !error && writes.length ? writes.reduce((a, b) => a + b, 0) : null,
    error: error ? error.replace(/^ERROR( \d+ \([0-9A-Z]+\))?:\s+/, '') : null,
  };
}
