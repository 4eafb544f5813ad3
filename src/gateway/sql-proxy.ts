import pg from 'pg';
import type { ExecuteOptions, ExecutionResult } from './execution.js';
import { maskResults } from '../sql/masking.js';
import { formatResults, truncateUtf8, type StatementResult } from '../sql/psql-format.js';

export type { ExecuteOptions, ExecutionResult };

// Numeric type OIDs: int2, int4, int8, oid, float4, float8, numeric, money.
const NUMERIC_OIDS = new Set([20, 21, 23, 26, 700, 701, 1700, 790]);
const WRITE_TAG = /^(?:INSERT|UPDATE|DELETE|MERGE|COPY)\b.*?(\d+)$/;
// Values as PostgreSQL's text output, exactly what psql shows (no Date or JSON parsing).
const AS_TEXT = { getTypeParser: () => (value: string) => value };

function affected(tag: string): number | null {
  const m = WRITE_TAG.exec(tag);
  return m ? Number(m[1]) : null;
}

function describeError(error: unknown): string {
  const e = error as pg.DatabaseError;
  const lines = [`ERROR:  ${e.message ?? String(error)}`];
  if (e.detail) lines.push(`DETAIL:  ${e.detail}`);
  if (e.hint) lines.push(`HINT:  ${e.hint}`);
  return lines.join('\n');
}

function toResult(r: pg.QueryArrayResult, tag: string, maxRows: number): { result: StatementResult; cut: boolean } {
  if (!r.fields || r.fields.length === 0) return { result: { tag }, cut: false };
  return {
    result: {
      tag,
      columns: r.fields.map((f) => ({ name: f.name, numeric: NUMERIC_OIDS.has(f.dataTypeID) })),
      rows: r.rows.slice(0, maxRows).map((row) => row.map((v) => (v === null ? null : String(v)))),
    },
    cut: r.rows.length > maxRows,
  };
}

/**
 * Runs `input` on the PostgreSQL at `url` as psql -c would: one simple-protocol query (so a
 * multi-statement input runs in one implicit transaction), with a statement timeout; or, for
 * reads, statement by statement in a read-only transaction. Captures each statement's command tag
 * or result table (masked), server notices, and the error when it fails.
 */
export async function executeSql(url: string, input: string, options: ExecuteOptions): Promise<ExecutionResult> {
  if (/^mysql:/i.test(url)) {
    const { executeMysql } = await import('./mysql-proxy.js');
    return executeMysql(url, input, options);
  }
  const maxRows = options.maxRows ?? 10_000;
  const client = new pg.Client({
    connectionString: url,
    statement_timeout: options.statementTimeoutMs,
    connectionTimeoutMillis: 10_000,
    application_name: 'hoop-approvals',
  });
  const tags: string[] = [];
  const notices: string[] = [];
  client.on('notice', (n) => notices.push(`${n.severity ?? 'NOTICE'}:  ${n.message}`));
  // pg keeps only the first word of a command tag ("CREATE"); psql shows the whole ("CREATE TABLE").
  const connection = (client as unknown as { connection: { on(e: string, f: (m: { text: string }) => void): void } }).connection;
  connection.on('commandComplete', (msg) => tags.push(msg.text));
  client.on('error', () => {});
  let results: StatementResult[] = [];
  let error: string | null = null;
  let rowsCut = false;
  try {
    await client.connect();
    const raws: pg.QueryArrayResult[] = [];
    if (options.readOnlyStatements) {
      await client.query('BEGIN READ ONLY');
      tags.length = 0;
      try {
        for (const statement of options.readOnlyStatements) raws.push(await client.query({ text: statement, rowMode: 'array', types: AS_TEXT }));
      } finally {
        await client.query('ROLLBACK').catch(() => {});
        tags.splice(raws.length); // ROLLBACK's own tag
      }
    } else {
      const raw = (await client.query({ text: input, rowMode: 'array', types: AS_TEXT })) as unknown as pg.QueryArrayResult | pg.QueryArrayResult[];
      raws.push(...(Array.isArray(raw) ? raw : [raw]));
    }
    results = raws.map((r, i) => {
      const { result, cut } = toResult(r, tags[i] ?? [r.command, r.rowCount].filter((x) => x !== null && x !== undefined).join(' '), maxRows);
      if (cut) rowsCut = true;
      return result;
    });
    if (options.masking) results = maskResults(results, options.masking);
  } catch (e) {
    error = describeError(e);
  } finally {
    await client.end().catch(() => {});
  }
  const parts = [...notices];
  if (error) {
    parts.push(error);
    if (tags.length > 0) parts.push('(the statements before the error were rolled back)');
  } else {
    parts.push(formatResults(results));
    if (rowsCut) parts.push(`(only the first ${maxRows} rows of a result are kept)`);
  }
  const cut = truncateUtf8(parts.join('\n'), options.outputMaxBytes);
  const writes = error ? [] : tags.map(affected).filter((n): n is number => n !== null);
  return {
    ok: error === null,
    output: cut.text,
    outputTruncated: cut.truncated || rowsCut,
    commandTags: error ? [] : tags,
    rowsAffected: writes.length ? writes.reduce((a, b) => a + b, 0) : null,
    error: error ? error.split('\n')[0].replace(/^ERROR:\s+/, '') : null,
  };
}
