// Runs commands on MySQL/MariaDB targets with mysql2, with the PostgreSQL executor's contract:
// reads that run without review go one statement at a time over a pooled connection that refuses
// multiple statements, inside START TRANSACTION READ ONLY, all within one time limit; approved
// commands run as the multi-statement text on their own connection. Every connection reads quotes
// and backslashes as the gateway's parser does (NO_BACKSLASH_ESCAPES and ANSI_QUOTES removed from
// its sql_mode), and every text is masked before it leaves: values by column lineage (the target's
// information_schema, read on the same connection), error texts withheld when the failing statement
// reads masked or untraceable data.
import mysql from 'mysql2/promise';
import { classifyMysql } from '../sql/classify-mysql.js';
import type { MysqlRelation } from '../sql/lineage-mysql.js';
import { LEXICAL_MODES, mysqlAutoRunRefusal } from '../sql/mysql-mode.js';
import { readableDefinition } from '../sql/mysql-statement.js';
import type { MaskingRules } from '../sql/masking.js';
import { formatResults, truncateUtf8, type StatementResult } from '../sql/psql-format.js';
import { strictestKind, type ClassifiedStatement } from '../sql/types.js';
import { maskingWith, relationsOnTarget, text, type MysqlOutputMasking } from './mysql-catalog.js';
import { maskResults, safeMessage, untraceableOf, withholdsMessages, type OutputMasking } from './output.js';
import { keepBudget, keepRow, type KeepBudget } from './keep-budget.js';
import { mysqlOutcome, openMysqlTracked } from './outcome-mysql.js';
import { TargetLimiter } from './target-limiter.js';
import { reapIdlePools } from './pool-reaper.js';
import { checkOnTarget, overTimeMessage, refused, type ExecutionResult, type PreviewRunOptions, type ReadCheck, type RunOptions, type SqlExecutorOptions, type SqlTarget, type TargetSession } from './types.js';
import type { ImpactPreview, PreviewStatement } from '../contracts/impact-preview.js';
import { limitsRows } from '../core/row-bound.js';

// mysql2 column type ids of numbers: DECIMAL, TINY, SHORT, LONG, FLOAT, DOUBLE, LONGLONG, INT24, YEAR, NEWDECIMAL.
const NUMERIC_TYPES = new Set([0, 1, 2, 3, 4, 5, 8, 9, 13, 246]);
const WRITES = new Set(['INSERT', 'REPLACE', 'UPDATE', 'DELETE']);
// Errors whose text names objects and limits, never row values: syntax, unknown table/column,
// access denied, read-only transaction, timeouts, lock waits and deadlocks.
const VALUE_FREE_ERRNOS = new Set([1044, 1045, 1054, 1064, 1142, 1143, 1146, 1205, 1213, 1792, 1969, 3024]);
// The catalog queries of a check before a read runs.
const CHECK_TIME_LIMIT_MS = 10_000;

interface Answer {
  fields?: mysql.FieldPacket[];
  /** What the budget allowed; the rest were read but not kept. */
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

type Conn = mysql.Connection | mysql.PoolConnection;

/**
 * Streams a (possibly multi-statement) query keeping of each result what the budget allows, so a
 * huge result costs time but not memory. One answer per statement, in order.
 */
function boundedQuery(conn: Conn, sql: string, budget: KeepBudget, answers: Answer[]): Promise<void> {
  type Core = NodeJS.EventEmitter & { query(o: { sql: string; rowsAsArray: boolean }): CoreQuery };
  const core = (conn as unknown as { connection: Core }).connection;
  let done = () => {};
  return new Promise<void>((resolve, reject) => {
    // A connection lost mid-query (KILL, a restart) fails only the connection: mysql2 tells a query
    // without a callback nothing, so it would wait for ever. Its session's end fails it here.
    let query: CoreQuery | undefined;
    const resultIndex = () => (query as { _resultIndex?: unknown } | undefined)?._resultIndex;
    const lost = (error?: Error) => reject(Object.assign(error ?? new Error('Connection lost: The server closed the connection.'), { fatal: true, resultIndex: resultIndex() }));
    core.once('error', lost).once('end', lost);
    done = () => void core.off('error', lost).off('end', lost);
    // Each statement announces itself with a 'fields' event (undefined for one without rows).
    query = core
      .query({ sql, rowsAsArray: true })
      .on('fields', (fields) => void answers.push({ fields, rows: [], total: 0 }))
      .on('result', (row) => {
        const a = answers.at(-1);
        if (!a) return;
        if (!a.fields) a.header = row as mysql.ResultSetHeader;
        else {
          a.total++;
          keepRow(a.rows, row as unknown[], budget);
        }
      })
      // mysql2 counts the results it finished in _resultIndex: the failing statement's index.
      .on('error', (error) => reject(Object.assign(error, { resultIndex: resultIndex() })))
      .on('end', () => resolve());
  }).finally(() => done());
}

function toResult(a: Answer, command: string): { result: StatementResult; affected: number | null } {
  if (a.fields) {
    return {
      result: {
        tag: `SELECT ${a.total}`,
        columns: a.fields.map((f) => ({ name: f.name, numeric: NUMERIC_TYPES.has(f.columnType ?? f.type ?? -1) })),
        rows: a.rows.map((r) => r.map((v) => text(v as string | Buffer | null))),
        totalRows: a.total,
      },
      affected: null,
    };
  }
  const n = a.header?.affectedRows ?? 0;
  const base = command === 'UNKNOWN' ? 'OK' : command;
  return { result: { tag: WRITES.has(base) ? `${base} ${n}` : base }, affected: WRITES.has(base) ? n : null };
}

const sqlModeOf = async (conn: Conn): Promise<string> => String(((await conn.query('SELECT @@SESSION.sql_mode')) as unknown as [[[string]]])[0][0][0]);

/** Removes from the session's sql_mode the flags that change how literals are read; returns the mode it then has. */
async function normaliseSqlMode(conn: Conn): Promise<string> {
  const mode = await sqlModeOf(conn);
  const flags = mode.split(',').filter(Boolean);
  const kept = flags.filter((f) => !LEXICAL_MODES.includes(f));
  if (kept.length === flags.length) return mode;
  await conn.query('SET SESSION sql_mode = ?', [kept.join(',')]);
  return sqlModeOf(conn);
}

/**
 * Why the views a read goes through make it something other than a read: a view over a stored
 * function, GET_LOCK or anything else the classifier would not let a read call (their definitions,
 * as information_schema keeps them, are classified like the statement).
 */
function viewWrites(relations: readonly MysqlRelation[], unchecked: readonly string[]): string[] {
  const reasons: string[] = [];
  if (unchecked.length) {
    const listed = unchecked.slice(0, 5).join(', ') + (unchecked.length > 5 ? ` and ${unchecked.length - 5} more` : '');
    reasons.push(`it reads relations the gateway did not check (${listed}: views nested too deep, or too many names in one request), which may call stored code`);
  }
  for (const r of relations) {
    if (r.kind !== 'v') continue;
    const seen = r.definition ? classifyMysql(readableDefinition(r.definition)).statements : [];
    const kind = seen.length ? strictestKind(seen) : 'unknown';
    if (kind === 'read') continue;
    const why = seen.flatMap((s) => s.warnings).join('; ') || 'its definition cannot be read';
    reasons.push(`it reads the view ${r.schema}.${r.name}, which is not a plain read (${why})`);
  }
  return reasons;
}

/** Sets the statement time limit the way the server knows it (MariaDB seconds, MySQL milliseconds). */
async function setTimeLimit(conn: Conn, ms: number, mariadb: boolean): Promise<void> {
  if (mariadb) await conn.query(`SET SESSION max_statement_time = ${Math.max(0.001, ms / 1000).toFixed(3)}`);
  else await conn.query(`SET SESSION max_execution_time = ${Math.max(1, Math.floor(ms))}`);
}

/**
 * An error as it may leave. `trustErrno`: the failing statement runs no stored code, so a value-free
 * errno is the server's own (SIGNAL in a function, procedure or trigger sets any errno and text).
 */
function describeError(e: unknown, masking: OutputMasking | undefined, withhold: boolean, trustErrno: boolean): { text: string; message: string } {
  const err = e as { errno?: number; sqlState?: string; message?: string };
  const keep = trustErrno && err.errno !== undefined && VALUE_FREE_ERRNOS.has(err.errno);
  // Stored code chooses its SQLSTATE too: it must not be what decides that the text is kept (the
  // text line below still shows errno and SQLSTATE).
  const sqlstate = trustErrno ? err.sqlState : undefined;
  const message = safeMessage(err.message ?? String(e), masking, keep ? { withhold: false, kind: 'error' } : { withhold, sqlstate, kind: 'error' });
  return { text: err.errno ? `ERROR ${err.errno} (${err.sqlState}): ${message}` : `ERROR:  ${message}`, message };
}

/**
 * The statements of an approved input that may have failed: mysql2 reports results in order, so it
 * is the one after the last finished result, or the last that started when it failed while sending
 * rows; mysql2's own count of finished results tells which, when it agrees.
 */
function failedStatements(answers: Answer[], resultIndex: unknown): number[] {
  const near = answers.at(-1)?.fields ? [answers.length - 1, answers.length] : [answers.length];
  return typeof resultIndex === 'number' && near.includes(resultIndex) ? [resultIndex] : near;
}

interface Pooled {
  pool: mysql.Pool;
  limiter: TargetLimiter;
  mariadb?: boolean;
  lastUsed: number;
}

type Failure = { text: string; message: string };

/** A failure in the gateway's own words (they quote no value; the detectors still look at them). */
function own(message: string, masking: OutputMasking | undefined): Failure {
  const shown = safeMessage(message, masking, { withhold: false, kind: 'error' });
  return { text: `ERROR:  ${shown}`, message: shown };
}

/** What a run leaves to be made into its ExecutionResult. */
interface Outcome {
  answers: Answer[];
  failure: Failure | null;
  masking: MysqlOutputMasking | undefined;
  /** Not run: the target's check objected (RunOptions.hold). */
  held?: ReadCheck;
}

/** The MySQL/MariaDB half of the SqlExecutor. */
export function createMysqlExecutor(opts: SqlExecutorOptions) {
  const pooled = new Map<string, Pooled>();
  const common = { rowsAsArray: true, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, connectTimeout: 10_000 } as const;

  function target(t: SqlTarget): Pooled {
    reapIdlePools(pooled, (old) => old.pool.end(), opts.poolIdleCloseMs);
    let p = pooled.get(t.url);
    if (!p) {
      // multipleStatements off: the server refuses a second statement hidden in a read.
      const pool = mysql.createPool({ uri: t.url, ...common, multipleStatements: false, connectionLimit: opts.limits.max, maxIdle: opts.limits.max, idleTimeout: 30_000 });
      pool.pool.on('connection', (c) => {
        c.on('error', (error: Error) => opts.onPoolError?.(error));
      });
      p = { pool, limiter: new TargetLimiter(t.name, opts.limits), lastUsed: Date.now() };
      pooled.set(t.url, p);
    }
    p.lastUsed = Date.now();
    return p;
  }

  async function isMariadb(p: Pooled, conn: Conn): Promise<boolean> {
    if (p.mariadb === undefined) {
      const [[version]] = (await conn.query('SELECT VERSION()')) as unknown as [[[string]]];
      p.mariadb = /mariadb/i.test(version[0]);
    }
    return p.mariadb;
  }

  /**
   * What the target says of a read, on a pooled session: why its sql_mode or the views it reads
   * make it no plain read, and the masking of its output. The relations are looked up once for both.
   */
  async function inspectRead(
    p: Pooled,
    conn: Conn,
    statements: readonly ClassifiedStatement[],
    rules: MaskingRules | undefined,
  ): Promise<{ refusal: string | null; writes: string[]; masking?: MysqlOutputMasking }> {
    const refusal = mysqlAutoRunRefusal(await normaliseSqlMode(conn));
    if (refusal) return { refusal, writes: [] };
    // A pooled session keeps the time limit of its last read, which may have been almost spent.
    await setTimeLimit(conn, CHECK_TIME_LIMIT_MS, await isMariadb(p, conn));
    const unchecked: string[] = [];
    const relations = await relationsOnTarget(conn, [...new Set(statements.flatMap((s) => s.tables))], unchecked);
    return { refusal: null, writes: viewWrites(relations, unchecked), masking: await maskingWith(rules, statements, relations, undefined, opts.lineage) };
  }

  /** Checks an auto-run read on the target: the session's sql_mode, the views it reads, and whether masking can trace it. */
  async function run(t: SqlTarget, input: string, options: RunOptions): Promise<ExecutionResult> {
    const p = target(t);
    const release = await p.limiter.acquireOrRefuse({ patient: options.waitForConnection === true });
    if (typeof release !== 'function') return release;
    try {
      const outcome = options.readOnly ? await runRead(p, options.statements, options) : await runApproved(t, p, input, options.statements, options);
      if (outcome.held) return { ...refused('held for review: the target says this read is not provably side-effect free'), held: outcome.held };
      return finish(outcome, options.statements, options);
    } finally {
      release();
    }
  }

  /** An auto-run read: pooled, checked again on the session that reads, statement by statement, one time limit for all. */
  async function runRead(p: Pooled, statements: readonly ClassifiedStatement[], options: RunOptions): Promise<Outcome> {
    const answers: Answer[] = [];
    let masking: MysqlOutputMasking | undefined = options.masking ? { rules: options.masking } : undefined;
    let conn: mysql.PoolConnection | undefined;
    let broken = false;
    let deadline = Infinity;
    try {
      conn = await p.pool.getConnection();
      // The mode and the views are checked again: they may have changed since submit.
      const inspected = await inspectRead(p, conn, statements, options.masking);
      if (options.hold) {
        const check = { writes: inspected.writes, unknown: inspected.refusal ? [inspected.refusal] : [], untraceable: untraceableOf(inspected.masking) };
        if (check.writes.length + check.unknown.length + check.untraceable.length > 0) return { answers, masking, failure: null, held: check };
      }
      if (inspected.refusal) return { answers, masking, failure: own(`this request ran without review as a read, but it may not: ${inspected.refusal}`, masking) };
      if (inspected.writes.length) return { answers, masking, failure: own(`this request ran without review as a read, but it is not one: ${inspected.writes.join('; ')}`, masking) };
      masking = inspected.masking;
      const mariadb = await isMariadb(p, conn);
      deadline = Date.now() + options.statementTimeoutMs;
      await conn.query('START TRANSACTION READ ONLY');
      try {
        for (const [i, s] of statements.entries()) {
          const left = deadline - Date.now();
          if (left <= 0) return { answers, masking, failure: own(overTimeMessage(options.statementTimeoutMs), masking) };
          await setTimeLimit(conn, left, mariadb);
          await boundedQuery(conn, s.statement, keepBudget(options), answers).catch((error) => {
            throw Object.assign(error as object, { statement: i });
          });
        }
      } finally {
        await conn.query('ROLLBACK').catch(() => {
          broken = true;
        });
      }
      return { answers, masking, failure: null };
    } catch (error) {
      const e = error as { errno?: number; statement?: number };
      broken ||= lostSession(error);
      // The server stopped a statement at the time left to the read: say so, as on PostgreSQL.
      if ((e.errno === 1969 || e.errno === 3024) && Date.now() >= deadline - 5) return { answers, masking, failure: own(overTimeMessage(options.statementTimeoutMs), masking) };
      const failed = e.statement === undefined ? undefined : [e.statement];
      return { answers, masking, failure: failureOf(error, masking, failed) };
    } finally {
      if (broken) conn?.destroy();
      else conn?.release();
    }
  }

  /** An approved command: the whole text on a connection of its own that takes several statements. */
  async function runApproved(t: SqlTarget, p: Pooled, input: string, statements: readonly ClassifiedStatement[], options: RunOptions): Promise<Outcome> {
    // A row limit is kept by rolling back, which MySQL cannot promise (DDL commits on its own): refused, as the vote refuses it.
    if (limitsRows(options.rowBound)) return { answers: [], masking: undefined, failure: own('a row limit cannot be enforced on MySQL or MariaDB; nothing ran. Ask for it again and have it approved without a row limit', undefined) };
    const answers: Answer[] = [];
    let masking: MysqlOutputMasking | undefined = options.masking ? { rules: options.masking } : undefined;
    let conn: mysql.Connection | undefined;
    let session: TargetSession | undefined;
    let sent = false;
    try {
      conn = await mysql.createConnection({ uri: t.url, ...common, multipleStatements: true });
      // A session the server ends between two commands (KILL, a restart) emits 'error' with no
      // command to fail: unheard, it would end the process. The next command fails instead.
      conn.on('error', (error: Error) => opts.onPoolError?.(error));
      await normaliseSqlMode(conn);
      await setTimeLimit(conn, options.statementTimeoutMs, await isMariadb(p, conn));
      if (options.masking?.columns.length) {
        const relations = await relationsOnTarget(conn, [...new Set(statements.flatMap((s) => s.tables))]);
        masking = await maskingWith(options.masking, statements, relations, input, opts.lineage);
      }
      session = await openMysqlTracked(conn);
      if (options.track) {
        try {
          await options.track(session);
        } catch (error) {
          return { answers, masking, failure: own(`the gateway could not record the run in its own database before sending it, so it did not send it: nothing ran (${(error as Error).message})`, masking) };
        }
      }
      sent = true;
      await boundedQuery(conn, input, keepBudget(options), answers);
      return { answers, masking, failure: null };
    } catch (error) {
      if (sent && session && lostSession(error)) {
        // What ran is unknown here; the connection is killed if it still runs, so nothing more does.
        const outcome = await mysqlOutcome(t.url, session);
        const message = `outcome unknown: the connection to ${t.name} was lost while the command ran (${(error as Error).message}), and ${outcome.kind === 'unknown' ? outcome.reason : 'the target could not say more'}. ${checkOnTarget(t.name, session)}`;
        return { answers, masking, failure: own(message, masking) };
      }
      return { answers, masking, failure: failureOf(error, masking, failedStatements(answers, (error as { resultIndex?: unknown }).resultIndex)) };
    } finally {
      await conn?.end().catch(() => {});
    }
  }

  /** The error as it may leave: withheld when the failing statement reads masked or untraceable data (all, when unknown). */
  function failureOf(error: unknown, masking: MysqlOutputMasking | undefined, failed: number[] | undefined): Failure {
    const withhold = failed ? failed.some((i) => withholdsMessages(masking, i)) : withholdsMessages(masking);
    // Without masked columns there is no lineage, and no stored code to distrust.
    const lineage = masking?.rules.columns.length ? masking.lineage : [];
    const code = !lineage || (failed ? failed.some((i) => lineage[i]?.runsCode ?? true) : lineage.some((l) => l.runsCode));
    return describeError(error, masking, withhold, !code);
  }

  function finish({ answers, failure, masking }: Outcome, statements: readonly ClassifiedStatement[], options: RunOptions): ExecutionResult {
    const converted = answers.map((a, i) => toResult(a, statements[i]?.command ?? 'OK'));
    const results = maskResults(converted.map((c) => c.result), masking);
    const cut = truncateUtf8(failure ? failure.text : formatResults(results, options.outputMaxBytes), options.outputMaxBytes);
    const writes = converted.map((c) => c.affected).filter((n): n is number => n !== null);
    return {
      ok: failure === null,
      output: cut.text,
      outputTruncated: cut.truncated || answers.some((a) => a.total > a.rows.length),
      commandTags: failure ? [] : results.map((r) => r.tag),
      rowsAffected: !failure && writes.length ? writes.reduce((a, b) => a + b, 0) : null,
      error: failure ? failure.message : null,
    };
  }

  /**
   * The impact preview on MySQL/MariaDB: the planner's estimate of each write (EXPLAIN runs
   * nothing), on a session of its own, in a transaction rolled back. No dry run: DDL and some
   * statements commit on their own there, so a rollback is no promise.
   */
  async function preview(t: SqlTarget, options: PreviewRunOptions): Promise<ImpactPreview> {
    const started = Date.now();
    const done = (p: Omit<ImpactPreview, 'at' | 'tookMs' | 'error'> & { error?: string | null }): ImpactPreview => ({ error: null, ...p, at: new Date().toISOString(), tookMs: Date.now() - started });
    if (!options.parsed) return done({ state: 'none', reason: 'the gateway cannot parse the command, so it cannot tell what it would change', statements: [] });
    const writes = options.statements.filter((s) => s.kind === 'write' && WRITES.has(s.command.toUpperCase()));
    if (!writes.length) return done({ state: 'none', reason: 'the command changes no rows the gateway can count', statements: [] });
    const p = target(t);
    const release = await p.limiter.acquireOrRefuse({ patient: false });
    if (typeof release !== 'function') return done({ state: 'none', reason: `every connection the gateway may open to ${t.name} is busy`, statements: [] });
    let conn: mysql.Connection | undefined;
    const statements: PreviewStatement[] = [];
    let stopped: string | null = null;
    let failure: string | null = null;
    // One budget for the whole estimate: past it the session is cut (the server then rolls back).
    let timer: NodeJS.Timeout | undefined;
    try {
      conn = await mysql.createConnection({ uri: t.url, ...common, connectTimeout: 5_000 });
      conn.on('error', () => {});
      const c = conn;
      timer = setTimeout(() => c.destroy(), options.statementTimeoutMs + options.lockTimeoutMs + 5_000);
      await normaliseSqlMode(conn);
      await setTimeLimit(conn, options.statementTimeoutMs, await isMariadb(p, conn));
      // Row locks and metadata locks (EXPLAIN of a write takes the table's): wait seconds at most, never a year.
      const lockSec = Math.max(1, Math.ceil(options.lockTimeoutMs / 1000));
      await conn.query(`SET SESSION innodb_lock_wait_timeout = ${lockSec}`).catch(() => {});
      await conn.query(`SET SESSION lock_wait_timeout = ${lockSec}`).catch(() => {});
      await conn.query('START TRANSACTION');
      for (const s of writes) {
        const entry: PreviewStatement = { index: s.index, command: s.command.toUpperCase() === 'REPLACE' ? 'INSERT' : s.command.toUpperCase(), table: s.tables[0] ?? null, rows: null, estimate: true };
        statements.push(entry);
        if (stopped) continue;
        try {
          const [rows, fields] = (await conn.query({ sql: `EXPLAIN ${s.statement}`, rowsAsArray: true })) as unknown as [unknown[][], mysql.FieldPacket[]];
          const at = fields.findIndex((f) => f.name === 'rows');
          const counts = rows.map((r) => Number(r[at])).filter((n) => Number.isFinite(n) && n >= 0);
          // Several rows: a join, estimated as the product of its steps.
          if (at >= 0 && counts.length === rows.length && counts.length) entry.rows = Math.round(counts.reduce((a, b) => a * b, 1));
        } catch (error) {
          stopped = `statement ${s.index + 1} cannot be planned`;
          failure = failureOf(error, options.masking ? { rules: options.masking } : undefined, [s.index]).message;
        }
      }
      await conn.query('ROLLBACK').catch(() => {});
    } catch (error) {
      return done({ state: 'none', reason: `the gateway could not measure it on ${t.name} (${(error as Error).message})`, statements: [] });
    } finally {
      clearTimeout(timer);
      await conn?.end().catch(() => {});
      release();
    }
    const reason = ['MySQL and MariaDB get the planner\'s estimate (no dry run)', stopped].filter(Boolean).join('; ');
    if (!statements.some((s) => s.rows !== null)) return done({ state: 'none', reason, error: failure, statements: [] });
    return done({ state: 'estimated', reason, error: failure, statements });
  }

  async function close(): Promise<void> {
    const all = [...pooled.values()];
    pooled.clear();
    await Promise.all(all.map((p) => p.pool.end().catch(() => {})));
  }

  return { run, preview, outcome: (t: SqlTarget, session: TargetSession) => mysqlOutcome(t.url, session), close };
}

/** A server error (errno > 0) leaves the session usable; a lost connection (no errno, a system errno below 0, or fatal) does not. */
function lostSession(error: unknown): boolean {
  const e = error as { errno?: number; fatal?: boolean };
  return e.errno === undefined || e.errno < 0 || e.fatal === true;
}
