// The impact preview on a PostgreSQL target (issue 14). A dry run sends each write of the request,
// one statement per query, inside a transaction that is always rolled back, under a short
// lock_timeout and ONE statement_timeout for all its statements together (each statement gets what
// is left, so N statements never hold their locks N times as long). Just before a write runs, the
// target is asked whether a rollback undoes everything it does: the names it calls must resolve to
// built-ins (the read path's check), and no table it reaches — partitions, inheritance children,
// tables its foreign keys cascade to — may have triggers, rules, a foreign table, a sequence it
// would draw from, or a default, check, index or policy that calls a user function. The rows it
// changes are counted in every table (pg_stat_xact_all_tables), so a cascade shows. Where there is
// no dry run the planner's estimate (EXPLAIN, which runs nothing) is shown instead, labelled as
// such, from a READ ONLY transaction (the planner may fold a user's IMMUTABLE function).
import type pg from 'pg';
import type { ImpactPreview, PreviewStatement } from '../contracts/impact-preview.js';
import { callsIn } from '../sql/classify-postgres.js';
import { isWriteStep, quotedName, tableWords, type PreviewPlan, type PreviewStep, type SettingStep } from '../sql/preview-plan.js';
import { inspectOnTarget } from './postgres-catalog.js';

/** One answer of a query the preview sends: the rows kept (at most what it asked for), their count, the tag. */
export interface PreviewAnswer {
  columns: string[];
  rows: (string | null)[][];
  total: number;
  tag: string;
}

export interface PreviewDeps {
  /** Sends one statement (extended protocol: the server refuses a second), keeping at most `keep` rows (values cut at 2,000 characters unless `wholeValues`). */
  query(text: string, keep: number, wholeValues?: boolean): Promise<PreviewAnswer>;
  /** The sample rows of `text` (statement `index` of the input) as any output of it would leave the gateway: masked. */
  mask(answer: PreviewAnswer, text: string, index: number): Promise<PreviewAnswer>;
  /** A database message as it may leave the gateway (masked, or withheld when the connection masks columns). */
  message(error: unknown): string;
}

export interface PreviewLimits {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  /** Rows kept per statement as its sample. */
  sampleRows: number;
  /** false: the planner's estimate only (the connection's previewMode 'estimate'). */
  dryRun: boolean;
}

/** A write the dry run must not send, and why (a rollback may not undo all it does). */
class NotUndoable extends Error {}

// A writing statement's command tag and the rows it counts (INSERT 0 5, UPDATE 3, COPY 12).
const WRITE_TAG = /^(?:INSERT|UPDATE|DELETE|MERGE|COPY)\b.*?(\d+)$/;

// What the target says of a written table and everything a write to it reaches: the table, its
// partitions and inheritance children, and the tables its foreign keys cascade to (and theirs).
// Any of them with triggers or rules, a foreign table among them, a sequence a column draws from,
// or a default, check, index or row-level security policy that calls a user's function (object ids
// from 16384 are a user's; built-ins are below) makes the dry run unsafe.
const TABLE_CHECK = `
WITH RECURSIVE root AS (SELECT to_regclass($1)::oid AS oid),
edges(parent, child) AS (
  SELECT inhparent, inhrelid FROM pg_inherits
  UNION ALL
  SELECT confrelid, conrelid FROM pg_constraint WHERE contype = 'f' AND (confdeltype IN ('c', 'n', 'd') OR confupdtype IN ('c', 'n', 'd'))
),
reach(oid, depth) AS (
  SELECT oid, 0 FROM root WHERE oid IS NOT NULL
  UNION
  SELECT e.child, reach.depth + 1 FROM edges e JOIN reach ON e.parent = reach.oid WHERE reach.depth < 16
)
SELECT c.relkind::text AS relkind,
  (SELECT array_agg(DISTINCT r.oid::regclass::text) FROM reach r JOIN pg_class k ON k.oid = r.oid WHERE k.relkind = 'f') AS foreign_tables,
  (SELECT array_agg(DISTINCT format('%s on %s', t.tgname, t.tgrelid::regclass)) FROM pg_trigger t JOIN reach r ON t.tgrelid = r.oid WHERE NOT t.tgisinternal AND t.tgenabled <> 'D') AS triggers,
  (SELECT array_agg(DISTINCT format('%s on %s', w.rulename, w.ev_class::regclass)) FROM pg_rewrite w JOIN reach r ON w.ev_class = r.oid WHERE w.rulename <> '_RETURN') AS rules,
  (EXISTS (SELECT 1 FROM pg_attribute a JOIN reach r ON a.attrelid = r.oid WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> '')
   OR EXISTS (SELECT 1 FROM pg_attrdef d JOIN reach r ON d.adrelid = r.oid WHERE pg_get_expr(d.adbin, d.adrelid) ~* 'nextval')
   OR EXISTS (SELECT 1 FROM pg_depend dep JOIN pg_attrdef d ON dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid JOIN reach r ON d.adrelid = r.oid
              WHERE dep.refclassid = 'pg_class'::regclass AND (SELECT relkind FROM pg_class WHERE oid = dep.refobjid) = 'S')) AS sequences,
  (SELECT array_agg(DISTINCT dep.refobjid::regprocedure::text) FROM pg_depend dep
    WHERE dep.refclassid = 'pg_proc'::regclass AND dep.refobjid >= 16384 AND (
      (dep.classid = 'pg_attrdef'::regclass AND dep.objid IN (SELECT d.oid FROM pg_attrdef d JOIN reach r ON d.adrelid = r.oid))
      OR (dep.classid = 'pg_constraint'::regclass AND dep.objid IN (SELECT k.oid FROM pg_constraint k JOIN reach r ON k.conrelid = r.oid))
      OR (dep.classid = 'pg_constraint'::regclass AND dep.objid IN (SELECT k.oid FROM pg_constraint k JOIN pg_attribute a ON k.contypid = a.atttypid JOIN reach r ON a.attrelid = r.oid WHERE a.attnum > 0))
      OR (dep.classid = 'pg_class'::regclass AND dep.objid IN (SELECT x.indexrelid FROM pg_index x JOIN reach r ON x.indrelid = r.oid))
      OR (dep.classid = 'pg_class'::regclass AND dep.objid IN (SELECT r.oid FROM reach r))
      OR (dep.classid = 'pg_policy'::regclass AND dep.objid IN (SELECT p.oid FROM pg_policy p JOIN reach r ON p.polrelid = r.oid))
    )) AS user_functions
FROM root JOIN pg_class c ON c.oid = root.oid`;

const RELKIND_WORDS: Record<string, string> = { v: 'a view', f: 'a foreign table (its rows live on another server)', m: 'a materialized view' };

async function checkTable(client: pg.ClientBase, step: PreviewStep): Promise<void> {
  const res = await client.query<{ relkind: string; foreign_tables: string[] | null; triggers: string[] | null; rules: string[] | null; sequences: boolean; user_functions: string[] | null }>({ text: TABLE_CHECK, values: [quotedName(step.table)] });
  const name = tableWords(step.table);
  const row = res.rows[0];
  // A name the target does not know: the statement itself will say so (the dry run fails in words).
  if (!row) return;
  if (row.relkind !== 'r' && row.relkind !== 'p') throw new NotUndoable(`${name} is ${RELKIND_WORDS[row.relkind] ?? `a relation of kind ${row.relkind}`}`);
  if (row.foreign_tables?.length) throw new NotUndoable(`it reaches foreign tables (${row.foreign_tables.join(', ')}), whose rows live on another server`);
  if (row.triggers?.length) throw new NotUndoable(`triggers would fire (${row.triggers.join(', ')}), and what a trigger does may not be undone by a rollback`);
  if (row.rules?.length) throw new NotUndoable(`rules rewrite the statement (${row.rules.join(', ')})`);
  if (row.user_functions?.length) throw new NotUndoable(`the tables it reaches call ${row.user_functions.join(', ')} (in a default, check, index or policy), whose effects a rollback may not undo`);
  // A sequence is drawn from by an INSERT, a MERGE, an UPDATE ... SET x = DEFAULT, or a cascade's SET DEFAULT.
  if (row.sequences && (step.command === 'INSERT' || step.command === 'MERGE' || /\bDEFAULT\b/i.test(step.text))) {
    throw new NotUndoable(`writing to ${name} may draw from a sequence, which a rollback does not give back`);
  }
}

/**
 * The names a write calls must resolve to side-effect-free built-ins on the target (the read
 * path's check: a user's function, operator, type or view, or a built-in name a user shadowed).
 */
async function checkCalls(client: pg.ClientBase, step: PreviewStep): Promise<void> {
  const calls = callsIn(step.text);
  if (!calls) throw new NotUndoable('the gateway cannot read the statement');
  const { writes, unknown } = await inspectOnTarget(client, calls, [], new Set());
  const found = [...writes, ...unknown];
  if (found.length) throw new NotUndoable(`${found.join('; ')}; a rollback may not undo what that does`);
}

/** Rows inserted, updated and deleted so far in this transaction, in every table (cascades and partitions included). */
export async function changedRows(client: pg.ClientBase): Promise<number> {
  const res = await client.query<{ n: string | null }>('SELECT sum(n_tup_ins + n_tup_upd + n_tup_del)::text AS n FROM pg_stat_xact_all_tables');
  return Number(res.rows[0]?.n ?? 0);
}

const limitsSql = (l: PreviewLimits, leftMs = l.statementTimeoutMs) => `SET LOCAL lock_timeout = ${Math.max(1, Math.floor(l.lockTimeoutMs))}; SET LOCAL statement_timeout = ${Math.max(1, Math.floor(leftMs))}`;

/** The time left of one budget for all the statements of a dry run (or an estimate). */
function budget(l: PreviewLimits): () => number {
  const deadline = Date.now() + l.statementTimeoutMs;
  return () => {
    const left = deadline - Date.now();
    // As the server's own timeout would say it (57014), so both end in one place.
    if (left <= 0) throw Object.assign(new Error('the preview ran out of time'), { code: '57014' });
    return left;
  };
}

/** Why a dry run or an estimate stopped, in words; null for an error of the command itself. */
function stopWords(error: unknown, step: PreviewStep | SettingStep | undefined, l: PreviewLimits): string | null {
  if (error instanceof NotUndoable) return error.message;
  const code = (error as { code?: string }).code;
  const table = step && isWriteStep(step) ? ` on ${tableWords(step.table)}` : '';
  if (code === '55P03') return `a lock${table} was not obtained within ${l.lockTimeoutMs} ms (another session holds it)`;
  if (code === '57014') return `it took longer than ${l.statementTimeoutMs} ms in all`;
  return null;
}

/** The rows a statement's command tag says it changed; null for a tag of a statement that changes none. */
export function rowsOfTag(tag: string): number | null {
  const m = WRITE_TAG.exec(tag);
  return m ? Number(m[1]) : null;
}

/** Every write of the plan measured by a dry run; throws to fall back to the estimate. */
async function dryRun(client: pg.ClientBase, steps: readonly (PreviewStep | SettingStep)[], l: PreviewLimits, left: () => number, deps: PreviewDeps, current: (s: PreviewStep | SettingStep) => void): Promise<PreviewStatement[]> {
  const out: PreviewStatement[] = [];
  let before = await changedRows(client);
  for (const step of steps) {
    current(step);
    // SET and RESET never reach a dry run (preview-plan.ts): they could shadow the names checked.
    if (!isWriteStep(step)) throw new NotUndoable(`statement ${step.index + 1} is ${step.command}, which could change what the others call`);
    try {
      await checkCalls(client, step);
      await checkTable(client, step);
    } catch (error) {
      if (error instanceof NotUndoable) throw error;
      // The gateway's own questions failed: not the command's fault, and no reason to trust it.
      throw new NotUndoable(`the gateway could not check what statement ${step.index + 1} reaches (${(error as Error).message})`);
    }
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(left()))}`);
    const answer = await deps.query(step.text, step.returnsRows ? l.sampleRows : 0);
    const rows = rowsOfTag(answer.tag) ?? answer.total;
    const after = await changedRows(client);
    const statement: PreviewStatement = { index: step.index, command: step.command, table: tableWords(step.table), rows, estimate: false };
    // Cascades (and the partitions of a table count once): rows changed beyond the statement's own.
    if (after - before > rows) statement.alsoChanged = after - before - rows;
    before = after;
    if (step.returnsRows && answer.rows.length) {
      const masked = await deps.mask(answer, step.text, step.index);
      statement.sample = { columns: masked.columns, rows: masked.rows };
    }
    out.push(statement);
  }
  return out;
}

interface PlanNode {
  'Node Type'?: string;
  'Plan Rows'?: number;
  Plans?: PlanNode[];
}

/** The rows a write's plan expects to change: its ModifyTable's input, or the plan's own. */
function estimatedRows(plan: PlanNode | undefined): number | null {
  if (!plan) return null;
  const node = plan['Node Type'] === 'ModifyTable' ? plan.Plans?.[0] : plan;
  const rows = node?.['Plan Rows'];
  return typeof rows === 'number' && Number.isFinite(rows) ? Math.round(rows) : null;
}

/** The planner's estimate of each write (EXPLAIN runs nothing); a write it cannot plan gets no figure. */
async function estimate(client: pg.ClientBase, steps: readonly (PreviewStep | SettingStep)[], l: PreviewLimits, left: () => number, deps: PreviewDeps): Promise<{ statements: PreviewStatement[]; stopped: string | null; error: string | null }> {
  const statements: PreviewStatement[] = [];
  let stopped: string | null = null;
  let failure: string | null = null;
  for (const step of steps) {
    if (stopped) {
      if (isWriteStep(step)) statements.push({ index: step.index, command: step.command, table: tableWords(step.table), rows: null, estimate: true });
      continue;
    }
    try {
      if (!isWriteStep(step)) {
        await deps.query(step.text, 0);
        // The input's SET may have lifted the limits (SET statement_timeout = 0): set again.
        await client.query(limitsSql(l, left()));
        continue;
      }
      await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(left()))}`);
      const answer = await deps.query(`EXPLAIN (FORMAT JSON) ${step.text}`, 1, true);
      const parsed = JSON.parse(String(answer.rows[0]?.[0] ?? 'null')) as { Plan?: PlanNode }[] | null;
      statements.push({ index: step.index, command: step.command, table: tableWords(step.table), rows: estimatedRows(parsed?.[0]?.Plan), estimate: true });
    } catch (error) {
      stopped = stopWords(error, step, l);
      if (stopped === null) {
        stopped = `statement ${step.index + 1} cannot be planned`;
        failure = deps.message(error);
      }
      if (isWriteStep(step)) statements.push({ index: step.index, command: step.command, table: tableWords(step.table), rows: null, estimate: true });
    }
  }
  return { statements, stopped, error: failure };
}

async function rollback(client: pg.ClientBase): Promise<void> {
  await client.query('ROLLBACK').catch(() => {});
}

/**
 * The preview of `plan` on a connected session that runs nothing else. Never commits: every path
 * ends in ROLLBACK, and the caller closes the session afterwards.
 */
export async function previewOnTarget(client: pg.ClientBase, plan: PreviewPlan, l: PreviewLimits, deps: PreviewDeps): Promise<ImpactPreview> {
  const started = Date.now();
  const done = (p: Omit<ImpactPreview, 'at' | 'tookMs'>): ImpactPreview => ({ ...p, at: new Date().toISOString(), tookMs: Date.now() - started });
  if (plan.kind === 'none') return done({ state: 'none', reason: plan.reason, error: null, statements: [] });
  let why = plan.kind === 'estimate' ? plan.reason : 'previews on this connection are estimates only';
  if (plan.kind === 'dry-run' && l.dryRun) {
    let step: PreviewStep | SettingStep | undefined;
    try {
      await client.query(`BEGIN; ${limitsSql(l)}`);
      const statements = await dryRun(client, plan.steps, l, budget(l), deps, (s) => (step = s));
      await rollback(client);
      return done({ state: 'measured', reason: null, error: null, statements });
    } catch (error) {
      await rollback(client);
      const stop = stopWords(error, step, l);
      // The command itself fails (a constraint, a missing column): that is the preview. The
      // database's words go apart (error): places others read leave them out (they may quote data).
      if (stop === null) return done({ state: 'none', reason: `a dry run of statement ${(step?.index ?? 0) + 1} failed`, error: deps.message(error), statements: [] });
      why = stop;
    }
  }
  // EXPLAIN runs nothing, but the planner folds a user's IMMUTABLE function: READ ONLY keeps even that from writing.
  await client.query(`BEGIN READ ONLY; ${limitsSql(l)}`);
  try {
    const { statements, stopped, error } = await estimate(client, plan.steps, l, budget(l), deps);
    const reason = stopped ? `${why}; ${stopped}` : why;
    if (!statements.some((s) => s.rows !== null)) return done({ state: 'none', reason, error, statements: [] });
    return done({ state: 'estimated', reason, error, statements });
  } finally {
    await rollback(client);
  }
}
