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

type Fields = mysql.FieldPacket[] | undefined;

function toResult(res: unknown, fields: Fields, command: string, maxRows: number): { result: StatementResult; cut: boolean; affected: number | null } {
  if (Array.isArray(res) && fields) {
    const rows = res as unknown[][];
    return {
      result: {
        tag: `SELECT ${rows.length}`,
        columns: fields.map((f) => ({ name: f.name, numeric: NUMERIC_TYPES.has(f.columnType ?? f.type ?? -1) })),
        rows: rows.slice(0, maxRows).map((r) => r.map((v) => (v === null ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v)))),
        totalRows: rows.length,
      },
      cut: rows.length > maxRows,
      affected: null,
    };
  }
  const header = res as mysql.ResultSetHeader;
  const n = header?.affectedRows ?? 0;
  const base = command === 'UNKNOWN' ? 'OK' : command;
  return { result: { tag: WRITES.has(base) ? `${base} ${n}` : base }, cut: false, affected: WRITES.has(base) ? n : null };
}

/** Splits mysql2's answer to a (possibly multi-statement) query into one entry per statement. */
function perStatement(res: unknown, fields: unknown): [unknown, Fields][] {
  const isFieldList = (f: unknown) => Array.isArray(f) && f.length > 0 && !Array.isArray(f[0]) && f[0] !== undefined;
  if (!Array.isArray(res)) return [[res, undefined]];
  if (isFieldList(fields)) return [[res, fields as Fields]];
  const fl = (fields ?? []) as (Fields | undefined)[];
  return (res as unknown[]).map((r, i) => [r, fl[i] ?? undefined]);
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
    const answers: [unknown, Fields][] = [];
    if (options.readOnlyStatements) {
      await conn.query('START TRANSACTION READ ONLY');
      try {
        for (const statement of options.readOnlyStatements) {
          const [res, fields] = await conn.query(statement);
          answers.push([res, fields as Fields]);
        }
      } finally {
        await conn.query('ROLLBACK').catch(() => {});
      }
    } else {
      const [res, fields] = await conn.query(input);
      answers.push(...perStatement(res, fields));
    }
    const converted = answers.map(([res, fields], i) => toResult(res, fields, commands[i] ?? 'OK', maxRows));
    results = converted.map((c) => c.result);
    affected = converted.map((c) => c.affected);
    rowsCut = converted.some((c) => c.cut);
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
