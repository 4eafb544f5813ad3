// Runs commands on PostgreSQL targets. Reads that run without review use pooled connections: one
// statement at a time over the extended query protocol (the server itself refuses a second
// statement hidden in one), inside BEGIN READ ONLY, after the target's catalog confirmed they call
// only built-ins, all within one time limit. Approved commands run as psql -c would, on their own
// connection. Every connection reads string literals as the gateway's parser does
// (standard_conforming_strings forced on at start-up), and every text is masked before it leaves.
import pg from 'pg';
import { unsafeCallsIn } from '../sql/classify-postgres.js';
import { lineageInline } from '../sql/classify-inline.js';
import { allowListSet, isSafeBuiltinFunction } from '../sql/safe-functions.js';
import type { MaskingRules } from '../sql/masking.js';
import { formatResults, truncateUtf8, type StatementResult } from '../sql/psql-format.js';
import type { ClassifiedStatement } from '../sql/types.js';
import { masks, maskResults, safeMessage, untraceableOf, withholdsMessages, type OutputMasking } from './output.js';
import { inspectOnTarget, relationsOnTarget, type CatalogRelation } from './postgres-catalog.js';
import { keepBudget, keepRow, type KeepBudget } from './keep-budget.js';
import { askUntilKnown, isConnectionLoss, openTracked, postgresOutcome, runsInTransaction } from './outcome-postgres.js';
import { TargetLimiter } from './target-limiter.js';
import { reapIdlePools } from './pool-reaper.js';
import { HotCache } from '../hot-cache.js';
import { checkOnTarget, overTimeMessage, refused, type ExecutionResult, type PreviewRunOptions, type ReadCheck, type RunOptions, type SqlExecutorOptions, type SqlTarget, type TargetSession } from './types.js';
import { changedRows, previewOnTarget, rowsOfTag, type PreviewDeps } from './postgres-preview.js';
import { planPreview } from '../sql/preview-plan.js';
import { boundBreach, limitsRows } from '../core/row-bound.js';
import type { ImpactPreview } from '../contracts/impact-preview.js';

// Numeric type OIDs: int2, int4, int8, oid, float4, float8, numeric, money.
const NUMERIC_OIDS = new Set([20, 21, 23, 26, 700, 701, 1700, 790]);
// Values as PostgreSQL's text output, exactly what psql shows (no Date or JSON parsing).
const AS_TEXT = { getTypeParser: () => (value: string) => value };

type Protocol = 'simple' | 'extended';
type PgConnection = { on(e: string, f: (m: { text: string }) => void): void; off(e: string, f: (m: { text: string }) => void): void };

interface Notice {
  severity: string;
  text: string;
  sqlstate?: string;
}

interface Answer {
  fields: pg.FieldDef[];
  /** What the budget allowed; the rest were read from the wire but not kept. */
  rows: unknown[][];
  total: number;
  tag: string;
}

/**
 * Runs one query keeping, of each result, what the budget allows — so a huge result, or a few huge
 * values, cost time but not memory; one answer per statement with its full command tag (pg keeps
 * only "CREATE" of "CREATE TABLE").
 */
function boundedQuery(client: pg.ClientBase, text: string, budget: KeepBudget, protocol: Protocol, tags: string[]): Promise<Answer[]> {
  return new Promise((resolve, reject) => {
    const connection = (client as unknown as { connection: PgConnection }).connection;
    const onTag = (m: { text: string }) => tags.push(m.text);
    connection.on('commandComplete', onTag);
    const done = () => connection.off('commandComplete', onTag);
    const query = new pg.Query({ text, rowMode: 'array', types: AS_TEXT, ...(protocol === 'extended' ? { queryMode: 'extended' } : {}) } as pg.QueryConfig);
    const kept = new Map<object, { rows: unknown[][]; total: number }>();
    // A 'row' listener stops pg from accumulating rows itself.
    query.on('row', (row: unknown[], result?: object) => {
      if (!result) return;
      const entry = kept.get(result) ?? { rows: [], total: 0 };
      kept.set(result, entry);
      entry.total++;
      keepRow(entry.rows, row, budget);
    });
    query.on('error', (error) => {
      done();
      reject(error);
    });
    query.on('end', (res: pg.QueryResult | pg.QueryResult[]) => {
      done();
      const results = Array.isArray(res) ? res : [res];
      const first = tags.length - results.length;
      resolve(
        results.map((r, i) => {
          const entry = kept.get(r) ?? { rows: [], total: 0 };
          const tag = tags[first + i] ?? [r.command, r.rowCount].filter((x) => x !== null && x !== undefined).join(' ');
          return { fields: r.fields ?? [], rows: entry.rows, total: entry.total, tag };
        }),
      );
    });
    client.query(query);
  });
}

function toResult(a: Answer): StatementResult {
  if (a.fields.length === 0) return { tag: a.tag };
  return {
    tag: a.tag,
    columns: a.fields.map((f) => ({ name: f.name, numeric: NUMERIC_OIDS.has(f.dataTypeID) })),
    rows: a.rows.map((row) => row.map((v) => (v === null ? null : String(v)))),
    totalRows: a.total,
  };
}

/** psql's rendering of an error, its fields masked or withheld (a withheld error keeps no DETAIL or HINT). */
function describeError(error: unknown, masking: OutputMasking | undefined, withhold: boolean): { text: string; message: string } {
  const e = error as pg.DatabaseError;
  const sqlstate = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  const safe = (t: string) => safeMessage(t, masking, { withhold, sqlstate, kind: 'error' });
  const message = safe(e.message ?? String(error));
  const lines = [`ERROR:  ${message}`];
  const strict = withhold && masks(masking);
  if (e.detail && !strict) lines.push(`DETAIL:  ${safe(e.detail)}`);
  if (e.hint && !strict) lines.push(`HINT:  ${safe(e.hint)}`);
  return { text: lines.join('\n'), message };
}

// A checked-out client has no pool listener: a dropped connection must not be an unhandled 'error'
// event (the failing query reports it).
const ignore = () => {};

interface Pooled {
  pool: pg.Pool;
  limiter: TargetLimiter;
  /** Recent clean verdicts of the target's check, by what was checked (see readCheckKey). */
  checks: HotCache<Inspected>;
  lastUsed: number;
  /** Bumped whenever a command that may change the catalog starts or ends on the target. */
  generation: number;
  /** Such commands running on the target now: no verdict is cached meanwhile. */
  changing: number;
}

type Inspected = { writes: string[]; unknown: string[]; masking: OutputMasking | undefined };

// The statement_timeout each pooled session has now (set once; a read of several statements sets its own per statement).
const sessionLimit = new WeakMap<pg.ClientBase, number>();

/** The PostgreSQL half of the SqlExecutor: a pool and a limiter per target URL. */
export function createPostgresExecutor(opts: SqlExecutorOptions) {
  const lineage = opts.lineage ?? lineageInline;
  const checkCacheMs = opts.readCheckCacheMs ?? 1_000;

  /**
   * What a verdict of the target's check is cached under: the names it checked and the functions
   * the connection allows. None when the connection masks columns (their lineage follows the
   * target's columns, read afresh for every read) or the cache is off.
   */
  function readCheckKey(statements: readonly ClassifiedStatement[], allowFunctions: readonly string[], rules: MaskingRules | undefined): string | undefined {
    if (checkCacheMs <= 0 || rules?.columns.length) return undefined;
    return JSON.stringify([callsOf(statements), tablesOf(statements), allowFunctions, rules?.detectors ?? []]);
  }
  const pooled = new Map<string, Pooled>();
  const base = (url: string, extra = ''): pg.ClientConfig => {
    // pg lets the URL's own `options` replace the config's: the gateway's settings are appended to
    // the URL's instead (the later -c wins), so no URL can take them away.
    const { connectionString, options } = withoutOptions(url);
    return {
      connectionString,
      connectionTimeoutMillis: 10_000,
      application_name: 'hoop-approvals',
      // The server must split and read literals exactly as libpg-query did: no backslash escapes in ''.
      options: [options, '-c standard_conforming_strings=on', extra].filter(Boolean).join(' '),
    };
  };

  function target(t: SqlTarget): Pooled {
    reapIdlePools(pooled, (old) => old.pool.end(), opts.poolIdleCloseMs);
    let p = pooled.get(t.url);
    if (!p) {
      // Pooled sessions serve reads only: every transaction read-only unless it says otherwise, and
      // the target's check (a prepared statement) planned once for any names.
      const pool = new pg.Pool({ ...base(t.url, '-c default_transaction_read_only=on -c plan_cache_mode=force_generic_plan'), max: opts.limits.max, idleTimeoutMillis: 30_000 });
      // A connection the server dropped must not become an unhandled 'error' event: pg-pool's own
      // listener is off a client while it is handed out, so every client keeps one of ours.
      pool.on('error', (error) => opts.onPoolError?.(error));
      pool.on('connect', (client) => client.on('error', (error) => opts.onPoolError?.(error)));
      p = { pool, limiter: new TargetLimiter(t.name, opts.limits), checks: new HotCache<Inspected>(checkCacheMs, 1_000), lastUsed: Date.now(), generation: 0, changing: 0 };
      pooled.set(t.url, p);
    }
    p.lastUsed = Date.now();
    return p;
  }

  const callsOf = (statements: readonly ClassifiedStatement[]) => statements.map((s) => s.calls ?? { functions: [], operators: [], types: [], relations: s.tables });
  const tablesOf = (statements: readonly ClassifiedStatement[]) => [...new Set(statements.flatMap((s) => [...s.tables, ...(s.calls?.relations ?? [])]))];

  /** The connection's masking of `sql`: its rules, with column lineage over `relations` when it masks columns. */
  async function maskingFor(rules: MaskingRules | undefined, sql: string, relations: () => Promise<CatalogRelation[]>): Promise<OutputMasking | undefined> {
    if (!rules) return undefined;
    if (!rules.columns.length) return { rules };
    return { rules, lineage: await lineage({ dialect: 'postgres', sql, maskColumns: rules.columns, relations: await relations() }) };
  }

  /**
   * What the target says of reads, asked in the transaction that reads: names that resolve to user
   * or extension objects, user views and row-level security policies that call anything but a
   * side-effect-free built-in, literal rules the parser does not share — and, when the connection
   * masks columns, the lineage that masks the output.
   */
  async function inspectRead(client: pg.ClientBase, statements: readonly ClassifiedStatement[], allowFunctions: readonly string[], rules: MaskingRules | undefined) {
    const { writes, unknown, relations } = await inspectOnTarget(client, callsOf(statements), tablesOf(statements), allowListSet(allowFunctions));
    for (const r of relations) {
      if (r.userDefined && r.definition) {
        for (const call of unsafeCallsIn(r.definition, allowFunctions)) writes.push(`it reads the view ${r.schema}.${r.name}, which calls ${call}`);
      }
      for (const p of r.policies) {
        for (const expr of [p.qual, p.withCheck]) {
          for (const call of expr ? unsafeCallsIn(`SELECT ${expr}`, allowFunctions) : []) writes.push(`it reads ${r.schema}.${r.name}, whose row-level security policy ${p.name} calls ${call}`);
        }
      }
    }
    const masking = await maskingFor(rules, statements.map((s) => s.statement).join(';\n'), async () => relations);
    return { writes: [...new Set(writes)], unknown, masking };
  }

  async function run(t: SqlTarget, input: string, options: RunOptions): Promise<ExecutionResult> {
    const p = target(t);
    const release = await p.limiter.acquireOrRefuse({ patient: options.waitForConnection === true });
    if (typeof release !== 'function') return release;
    if (!options.readOnly) {
      try {
        return await runApproved(t, input, options);
      } finally {
        release();
      }
    }
    // A read answers as soon as its rows are in; its ROLLBACK and the return of its connection to
    // the pool follow, and only then is its place at the target given to the next request.
    let cleanup: Promise<void> = Promise.resolve();
    try {
      return await runRead(p, input, options, (done) => {
        cleanup = done;
      });
    } finally {
      void cleanup.finally(release);
    }
  }

  function finish(answers: Answer[], tags: string[], notices: Notice[], failure: { text: string; message: string } | null, masking: OutputMasking | undefined, options: RunOptions): ExecutionResult {
    const results = maskResults(answers.map(toResult), masking);
    const withholdAll = withholdsMessages(masking);
    const parts = notices.map((n) => `${n.severity}:  ${safeMessage(n.text, masking, { withhold: withholdAll, sqlstate: n.sqlstate, kind: 'notice' })}`);
    if (failure) {
      parts.push(failure.text);
      if (tags.length > 0 && !options.readOnly) parts.push('(the statements before the error were rolled back)');
    } else parts.push(formatResults(results, options.outputMaxBytes));
    const cut = truncateUtf8(parts.join('\n'), options.outputMaxBytes);
    const writes = failure ? [] : tags.map(rowsOfTag).filter((n): n is number => n !== null);
    return {
      ok: failure === null,
      output: cut.text,
      outputTruncated: cut.truncated || answers.some((a) => a.total > a.rows.length),
      commandTags: failure ? [] : results.length === tags.length ? results.map((r) => r.tag) : tags,
      rowsAffected: writes.length ? writes.reduce((a, b) => a + b, 0) : null,
      error: failure ? failure.message : null,
    };
  }

  /**
   * An auto-run read: pooled, read-only, statement by statement, one time limit for all. The
   * transaction and the first statement's time limit go in one round trip, the target's check in
   * one more (a prepared statement), then each statement; the ROLLBACK is sent after the answer
   * (`cleanup` tells when the connection is back in the pool). With `options.hold`, a read the
   * target's check objects to is not run: the result carries `held` (the caller has it reviewed).
   */
  async function runRead(p: Pooled, input: string, options: RunOptions, cleanup: (done: Promise<void>) => void): Promise<ExecutionResult> {
    const statements = options.statements;
    const budget = keepBudget(options);
    const deadline = Date.now() + options.statementTimeoutMs;
    const tags: string[] = [];
    const notices: Notice[] = [];
    const answers: Answer[] = [];
    let masking: OutputMasking | undefined = options.masking ? { rules: options.masking } : undefined;
    let client: pg.PoolClient;
    try {
      client = await p.pool.connect();
    } catch (error) {
      return finish([], [], [], describeError(error, undefined, false), undefined, options);
    }
    const onNotice = (n: { severity?: string; message?: string; code?: string }) => notices.push({ severity: n.severity ?? 'NOTICE', text: n.message ?? '', sqlstate: n.code });
    client.on('notice', onNotice);
    client.on('error', ignore);
    let failure: { text: string; message: string } | null = null;
    let held: ReadCheck | undefined;
    let broken = false;
    const limitLeft = () => Math.max(1, Math.floor(deadline - Date.now()));
    // One statement that calls only built-ins runs on its own in the session's read-only default
    // under the session's time limit (one round trip). Several statements, or one calling a function
    // the connection allows, run in one read-only transaction that is rolled back — and a session
    // that ran an allowed function is closed afterwards (it may have changed the session in ways a
    // ROLLBACK does not undo: advisory locks, a setting made outside the transaction).
    const callsAllowed = statements.some((s) => (s.calls?.functions ?? []).some((f) => !isSafeBuiltinFunction(f)));
    const single = statements.length === 1 && !callsAllowed;
    if (callsAllowed) broken = true;
    let open = false;
    let inspecting = false;
    try {
      if (!single) {
        await client.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${limitLeft()}`);
        open = true;
      }
      const key = readCheckKey(statements, options.allowFunctions ?? [], options.masking);
      let inspected = key ? p.checks.get(key) : undefined;
      if (!inspected) {
        // Asked of the target right before the read: the catalog may have changed since the
        // statement was classified. A clean verdict is reused for readCheckCacheMs at most, and
        // dropped when this process runs anything but a read on the target.
        const generation = p.generation;
        inspecting = true;
        inspected = await inspectRead(client, statements, options.allowFunctions ?? [], options.masking);
        inspecting = false;
        const clean = inspected.writes.length + inspected.unknown.length === 0 && !untraceableOf(inspected.masking).length;
        if (key && clean && p.changing === 0 && p.generation === generation) p.checks.set(key, inspected);
      }
      const untraceable = untraceableOf(inspected.masking);
      if (options.hold && inspected.writes.length + inspected.unknown.length + untraceable.length > 0) {
        held = { writes: inspected.writes, unknown: inspected.unknown, untraceable };
      } else if (inspected.writes.length + inspected.unknown.length > 0) {
        const reasons = [...inspected.writes, ...inspected.unknown].join('; ');
        failure = { text: `ERROR:  this request ran without review as a read, but it is not one: ${reasons}`, message: `this request ran without review as a read, but it is not one: ${reasons}` };
      } else {
        masking = inspected.masking;
        if (single && sessionLimit.get(client) !== options.statementTimeoutMs) {
          await client.query(`SET statement_timeout = ${Math.max(1, Math.floor(options.statementTimeoutMs))}`);
          sessionLimit.set(client, options.statementTimeoutMs);
        }
        for (const [i, s] of statements.entries()) {
          // As the server's own timeout would (57014), so both end in one place below.
          if (deadline - Date.now() <= 0) throw Object.assign(new Error(overTimeMessage(options.statementTimeoutMs)), { code: '57014', statement: i });
          if (i > 0) await client.query(`SET LOCAL statement_timeout = ${limitLeft()}`);
          try {
            answers.push(...(await boundedQuery(client, s.statement, budget, 'extended', tags)));
          } catch (error) {
            throw Object.assign(error as object, { statement: i });
          }
        }
      }
    } catch (error) {
      const e = error as { statement?: number; code?: string; message?: string };
      broken ||= !e.code;
      // The target could not be asked: a read that would be held for review is held, not failed.
      if (inspecting && options.hold) held = { writes: [], unknown: [`the gateway could not check the target's catalog (${e.message ?? String(error)})`], untraceable: [] };
      const timedOut = e.code === '57014' && Date.now() >= deadline - 5;
      const withhold = withholdsMessages(masking, e.statement);
      failure = timedOut ? { text: `ERROR:  ${overTimeMessage(options.statementTimeoutMs)}`, message: overTimeMessage(options.statementTimeoutMs) } : describeError(error, masking, withhold);
    }
    client.off('notice', onNotice);
    const c = client;
    const giveBack = (usable: boolean) => {
      c.off('error', ignore);
      c.release(usable ? undefined : new Error('connection left in an unknown state'));
    };
    if (!open) {
      // A failed single statement ended its own implicit transaction; a broken session is dropped.
      giveBack(!broken);
      cleanup(Promise.resolve());
    } else cleanup(c.query('ROLLBACK').then(() => giveBack(!broken), () => giveBack(false)));
    if (held) return { ...refused('held for review: the target says this read is not provably side-effect free'), held };
    return finish(answers, tags, notices, failure, masking, options);
  }

  /**
   * An approved command: its own connection, one simple-protocol query as psql -c sends it —
   * inside an explicit transaction whose id is recorded (options.track) before the input is sent,
   * so its outcome can be asked of the target if this process or its connection is lost.
   */
  async function runApproved(t: SqlTarget, input: string, options: RunOptions): Promise<ExecutionResult> {
    // Whatever it changes on the target, no read's cached check of it stands: none is cached while
    // it runs, and a check asked before it ended is not kept (the generation moved on).
    const p = target(t);
    const changed = () => {
      p.generation++;
      p.checks.clear();
    };
    p.changing++;
    changed();
    try {
      return await runApprovedOnce(t, input, options);
    } finally {
      p.changing--;
      changed();
    }
  }

  async function runApprovedOnce(t: SqlTarget, input: string, options: RunOptions): Promise<ExecutionResult> {
    const client = new pg.Client({ ...base(t.url), statement_timeout: options.statementTimeoutMs });
    const tags: string[] = [];
    const notices: Notice[] = [];
    client.on('notice', (n) => notices.push({ severity: n.severity ?? 'NOTICE', text: n.message ?? '', sqlstate: n.code }));
    client.on('error', ignore);
    const answers: Answer[] = [];
    let masking: OutputMasking | undefined = options.masking ? { rules: options.masking } : undefined;
    let failure: { text: string; message: string } | null = null;
    let session: TargetSession | undefined;
    let sent = false;
    let exceeded: string | undefined;
    try {
      await client.connect();
      masking = await maskingFor(options.masking, input, () => relationsOnTarget(client, tablesOf(options.statements)));
      let mode: TargetSession['mode'] = runsInTransaction(options.statements) ? 'transaction' : 'session';
      const bounded = limitsRows(options.rowBound);
      for (;;) {
        if (mode === 'session' && bounded) {
          // A row bound is kept by rolling back: outside a transaction there is nothing to roll back.
          const message = 'this command cannot run inside a transaction, so the row limit of its approval cannot be enforced; nothing ran. Ask for it again and have it approved without a row limit';
          failure = { text: `ERROR:  ${message}`, message };
          break;
        }
        session = await openTracked(client, mode);
        if (options.track) {
          try {
            await options.track(session);
          } catch (error) {
            const message = `the gateway could not record the run in its own database before sending it, so it did not send it: nothing ran (${(error as Error).message})`;
            failure = { text: `ERROR:  ${message}`, message };
            break;
          }
        }
        sent = true;
        try {
          answers.push(...(await boundedQuery(client, input, keepBudget(options), 'simple', tags)));
          // Rows changed in every table by this transaction (cascades, triggers, functions, writable
          // CTEs included), as the target counts them; and one tag per statement, else no guess.
          const breach = bounded && mode === 'transaction'
            ? tags.length !== options.statements.length && options.rowBound!.statements.length
              ? `the command answered ${tags.length} results for ${options.statements.length} statements, so its rows cannot be matched to what was approved; rolled back, nothing was changed`
              : boundBreach(options.rowBound!, countsOf(tags, options.statements.length), await changedRows(client))
            : null;
          if (breach) {
            await client.query('ROLLBACK');
            failure = { text: `ERROR:  ${breach}`, message: breach };
            exceeded = breach;
            break;
          }
          if (mode === 'transaction') await client.query('COMMIT');
          break;
        } catch (error) {
          // VACUUM, CREATE INDEX CONCURRENTLY, CREATE DATABASE... refuse a transaction block before
          // doing anything: when the first statement did, run the input as psql -c would.
          if (mode === 'transaction' && (error as { code?: string }).code === '25001' && tags.length === 0) {
            await client.query('ROLLBACK');
            mode = 'session';
            sent = false;
            answers.length = 0;
            continue;
          }
          throw error;
        }
      }
    } catch (error) {
      if (sent && session && isConnectionLoss(error)) {
        await client.end().catch(() => {});
        return lostDuringRun(t, session, error as Error, { answers, tags, notices, masking }, options);
      }
      // The failing statement is the one after the last that completed (none: the COMMIT).
      const failed = tags.length < options.statements.length ? tags.length : undefined;
      failure = describeError(error, masking, withholdsMessages(masking, failed));
    } finally {
      await client.end().catch(() => {});
    }
    const result = finish(answers, tags, notices, failure, masking, options);
    return exceeded ? { ...result, boundExceeded: exceeded } : result;
  }

  /** The connection of a run dropped after its input was sent: the target is asked what became of it. */
  async function lostDuringRun(t: SqlTarget, session: TargetSession, error: Error, got: { answers: Answer[]; tags: string[]; notices: Notice[]; masking: OutputMasking | undefined }, options: RunOptions): Promise<ExecutionResult> {
    const outcome = await askUntilKnown(() => postgresOutcome(t.url, session), options.outcomeWaitMs ?? 60_000);
    const lost = `the connection to ${t.name} was lost while the command ran (${error.message})`;
    if (outcome.kind === 'committed') {
      // COMMIT is sent only after every statement succeeded: all answers are in.
      const r = finish(got.answers, got.tags, got.notices, null, got.masking, options);
      const note = `(${lost} while it committed; the target reports that transaction ${session.xid} committed)`;
      return { ...r, output: truncateUtf8(`${r.output}\n${note}`, options.outputMaxBytes).text };
    }
    const message =
      outcome.kind === 'aborted'
        ? `${lost}; the target reports that transaction ${session.xid} was rolled back: nothing was committed`
        : `outcome unknown: ${lost}, and ${outcome.reason}. ${checkOnTarget(t.name, session)}`;
    return finish(got.answers, got.tags, got.notices, { text: `ERROR:  ${message}`, message }, got.masking, options);
  }

  /**
   * The impact preview of a write request: its own session (not a pooled read-only one), a dry run
   * or the planner's estimate (postgres-preview.ts), always rolled back. A session that outlives
   * twice its limits is cut (the server then rolls it back), so a preview never holds locks long.
   */
  async function preview(t: SqlTarget, options: PreviewRunOptions): Promise<ImpactPreview> {
    const plan = planPreview(options.statements, options.parsed);
    const none = (reason: string): ImpactPreview => ({ state: 'none', reason, error: null, statements: [], at: new Date().toISOString(), tookMs: 0 });
    if (plan.kind === 'none') return none(plan.reason);
    const p = target(t);
    const release = await p.limiter.acquireOrRefuse({ patient: false });
    if (typeof release !== 'function') return none(`every connection the gateway may open to ${t.name} is busy`);
    // One budget for the dry run and one for a fallback estimate (each statement gets the time its
    // budget has left, so the server itself stops it in time), the catalog checks, and a margin.
    const budgetMs = 2 * (options.statementTimeoutMs + options.lockTimeoutMs) + 5_000;
    const client = new pg.Client({ ...base(t.url, `-c idle_in_transaction_session_timeout=${budgetMs}`), statement_timeout: options.statementTimeoutMs, connectionTimeoutMillis: 5_000 });
    client.on('error', ignore);
    const rules = options.masking;
    const masking: OutputMasking | undefined = rules ? { rules } : undefined;
    const deps: PreviewDeps = {
      async query(text, keep, wholeValues) {
        const [a] = await boundedQuery(client, text, wholeValues ? { rows: keep, chars: 8_000_000, cellChars: 4_000_000 } : { rows: keep, chars: 64_000, cellChars: 2_000 }, 'extended', []);
        return { columns: a.fields.map((f) => f.name), rows: a.rows.map((r) => r.map((v) => (v === null ? null : String(v)))), total: a.total, tag: a.tag };
      },
      async mask(answer, text, index) {
        const tables = options.statements.find((s) => s.index === index)?.tables ?? [];
        const m = await maskingFor(rules, text, () => relationsOnTarget(client, tables));
        const [r] = maskResults([{ tag: answer.tag, columns: answer.columns.map((name) => ({ name, numeric: false })), rows: answer.rows, totalRows: answer.total }], m);
        return { ...answer, rows: (r.rows ?? []) as (string | null)[][] };
      },
      message: (error) => describeError(error, masking, Boolean(rules?.columns.length)).message,
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      await client.connect();
      const cut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // Ending the socket ends the session: the server rolls the transaction back once the
          // statement it runs stops (at its statement_timeout, which never exceeds the budget left).
          (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
          reject(new Error(`the preview took longer than its ${budgetMs} ms budget`));
        }, budgetMs);
      });
      return await Promise.race([previewOnTarget(client, plan, { statementTimeoutMs: options.statementTimeoutMs, lockTimeoutMs: options.lockTimeoutMs, sampleRows: options.sampleRows ?? 5, dryRun: options.dryRun }, deps), cut]);
    } catch (error) {
      return none(`the gateway could not measure it on ${t.name} (${describeError(error, masking, Boolean(rules?.columns.length)).message})`);
    } finally {
      clearTimeout(timer);
      await client.end().catch(() => {});
      release();
    }
  }

  async function close(): Promise<void> {
    const all = [...pooled.values()];
    pooled.clear();
    await Promise.all(all.map((p) => p.pool.end().catch(() => {})));
  }

  return { run, preview, outcome: (t: SqlTarget, session: TargetSession) => postgresOutcome(t.url, session), close };
}

/**
 * The rows each statement changed, from its command tag (null for one that changes none): one tag
 * per statement when every statement answered; otherwise by position, as far as they go.
 */
function countsOf(tags: readonly string[], statements: number): (number | null)[] {
  const counts = tags.map(rowsOfTag);
  return counts.length >= statements ? counts : [...counts, ...Array<null>(statements - counts.length).fill(null)];
}

/**
 * `url` without its `options` parameter, and that parameter (decoded): pg would let it replace the
 * options the gateway sets, so the gateway puts it first in its own.
 */
function withoutOptions(url: string): { connectionString: string; options: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { connectionString: url, options: '' };
  }
  const options = parsed.searchParams.get('options') ?? '';
  if (!parsed.searchParams.has('options')) return { connectionString: url, options: '' };
  parsed.searchParams.delete('options');
  return { connectionString: parsed.toString(), options };
}
