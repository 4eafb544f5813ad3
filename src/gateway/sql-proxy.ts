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

interface Answer {
  fields: pg.FieldDef[];
  /** At most maxRows rows; the rest were read from the wire but not kept. */
  rows: unknown[][];
  total: number;
  command: string;
  rowCount: number | null;
}

/**
 * Runs one simple-protocol query keeping at most `maxRows` rows of each result, so a huge result
 * costs time but not memory. Resolves with one answer per statement.
 */
function boundedQuery(client: pg.Client, text: string, maxRows: number): Promise<Answer[]> {
  return new Promise((resolve, reject) => {
    const query = new pg.Query({ text, rowMode: 'array', types: AS_TEXT } as pg.QueryConfig);
    const kept = new Map<object, { rows: unknown[][]; total: number }>();
    // A 'row' listener stops pg from accumulating rows itself.
    query.on('row', (row: unknown[], result?: object) => {
      if (!result) return;
      const entry = kept.get(result) ?? { rows: [], total: 0 };
      kept.set(result, entry);
      if (entry.total++ < maxRows) entry.rows.push(row);
    });
    query.on('error', reject);
    query.on('end', (res: pg.QueryResult | pg.QueryResult[]) => {
      resolve(
        (Array.isArray(res) ? res : [res]).map((r) => {
          const entry = kept.get(r) ?? { rows: [], total: 0 };
          return { fields: r.fields ?? [], rows: entry.rows, total: entry.total, command: r.command, rowCount: r.rowCount };
        }),
      );
    });
    client.query(query);
  });
}

function toResult(a: Answer, tag: string): StatementResult {
  if (a.fields.length === 0) return { tag };
  return {
    tag,
    columns: a.fields.map((f) => ({ name: f.name, numeric: NUMERIC_OIDS.has(f.dataTypeID) })),
    rows: a.rows.map((row) => row.map((v) => (v === null ? null : String(v)))),
    totalRows: a.total,
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
    const answers: Answer[] = [];
    if (options.readOnlyStatements) {
      await client.query('BEGIN READ ONLY');
      tags.length = 0;
      try {
        for (const statement of options.readOnlyStatements) answers.push(...(await boundedQuery(client, statement, maxRows)));
      } finally {
        await client.query('ROLLBACK').catch(() => {});
        tags.splice(answers.length); // ROLLBACK's own tag
      }
    } else {
      answers.push(...(await boundedQuery(client, input, maxRows)));
    }
    rowsCut = answers.some((a) => a.total > maxRows);
    results = answers.map((a, i) => toResult(a, tags[i] ?? [a.command, a.rowCount].filter((x) => x !== null && x !== undefined).join(' ')));
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
