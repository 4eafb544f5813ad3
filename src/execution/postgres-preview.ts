// The impact preview on a PostgreSQL target (issue 14). A dry run sends each write of the request,
// one statement per query, inside a transaction that is always rolled back, under a short
// lock_timeout and statement_timeout (set again after any SET of the input's, which could lift
// them); each write's table is checked on the target just before it runs, and a write whose effects
// a rollback may not undo (a trigger, a rule, a sequence it draws from, a view or foreign table, a
// cascade onto a table with triggers) stops the dry run. Where there is no dry run the planner's
// estimate (EXPLAIN, which runs nothing) is shown instead, labelled as such.
import type pg from 'pg';
import type { ImpactPreview, PreviewStatement } from '../contracts/impact-preview.js';
import { isWriteStep, quotedName, tableWords, type PreviewPlan, type PreviewStep, type SettingStep } from '../sql/preview-plan.js';

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

const COUNT_TAG = /^(?:INSERT \d+|UPDATE|DELETE|MERGE) (\d+)$/;

// What the target says of a written table: its kind, user triggers and rules on it or on the tables
// its foreign keys cascade to, and whether its columns draw from a sequence (identity, nextval).
const TABLE_CHECK = `
WITH RECURSIVE root AS (SELECT to_regclass($1)::oid AS oid),
reach(oid, depth) AS (
  SELECT oid, 0 FROM root WHERE oid IS NOT NULL
  UNION
  SELECT con.conrelid, reach.depth + 1 FROM pg_constraint con JOIN reach ON con.confrelid = reach.oid
  WHERE con.contype = 'f' AND (con.confdeltype IN ('c', 'n', 'd') OR con.confupdtype IN ('c', 'n', 'd')) AND reach.depth < 8
)
SELECT c.relkind::text AS relkind,
  (SELECT array_agg(DISTINCT format('%s on %s', t.tgname, t.tgrelid::regclass)) FROM pg_trigger t JOIN reach r ON t.tgrelid = r.oid WHERE NOT t.tgisinternal AND t.tgenabled <> 'D') AS triggers,
  (SELECT array_agg(DISTINCT format('%s on %s', w.rulename, w.ev_class::regclass)) FROM pg_rewrite w JOIN reach r ON w.ev_class = r.oid WHERE w.rulename <> '_RETURN') AS rules,
  (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> '')
   OR EXISTS (SELECT 1 FROM pg_attrdef d WHERE d.adrelid = c.oid AND pg_get_expr(d.adbin, d.adrelid) ~* 'nextval\\s*\\(')) AS sequences
FROM root JOIN pg_class c ON c.oid = root.oid`;

const RELKIND_WORDS: Record<string, string> = { v: 'a view', f: 'a foreign table (its rows live on another server)', m: 'a materialized view' };

async function checkTable(client: pg.ClientBase, step: PreviewStep): Promise<void> {
  const res = await client.query<{ relkind: string; triggers: string[] | null; rules: string[] | null; sequences: boolean }>({ text: TABLE_CHECK, values: [quotedName(step.table)] });
  const name = tableWords(step.table);
  const row = res.rows[0];
  // A name the target does not know: the statement itself will say so (the dry run fails in words).
  if (!row) return;
  if (row.relkind !== 'r' && row.relkind !== 'p') throw new NotUndoable(`${name} is ${RELKIND_WORDS[row.relkind] ?? `a relation of kind ${row.relkind}`}`);
  if (row.triggers?.length) throw new NotUndoable(`triggers would fire (${row.triggers.join(', ')}), and what a trigger does may not be undone by a rollback`);
  if (row.rules?.length) throw new NotUndoable(`rules rewrite the statement (${row.rules.join(', ')})`);
  if (row.sequences && (step.command === 'INSERT' || step.command === 'MERGE')) throw new NotUndoable(`inserting into ${name} draws from a sequence, which a rollback does not give back`);
}

const limitsSql = (l: PreviewLimits) => `SET LOCAL lock_timeout = ${Math.max(1, Math.floor(l.lockTimeoutMs))}; SET LOCAL statement_timeout = ${Math.max(1, Math.floor(l.statementTimeoutMs))}`;

/** Why a dry run or an estimate stopped, in words; null for an error of the command itself. */
function stopWords(error: unknown, step: PreviewStep | SettingStep | undefined, l: PreviewLimits): string | null {
  if (error instanceof NotUndoable) return error.message;
  const code = (error as { code?: string }).code;
  const table = step && isWriteStep(step) ? ` on ${tableWords(step.table)}` : '';
  if (code === '55P03') return `a lock${table} was not obtained within ${l.lockTimeoutMs} ms (another session holds it)`;
  if (code === '57014') return `it took longer than ${l.statementTimeoutMs} ms`;
  return null;
}

function countOf(tag: string): number | null {
  const m = COUNT_TAG.exec(tag);
  return m ? Number(m[1]) : null;
}

/** Every write of the plan measured by a dry run; throws to fall back to the estimate. */
async function dryRun(client: pg.ClientBase, steps: readonly (PreviewStep | SettingStep)[], l: PreviewLimits, deps: PreviewDeps): Promise<PreviewStatement[]> {
  const out: PreviewStatement[] = [];
  for (const step of steps) {
    if (!isWriteStep(step)) {
      await deps.query(step.text, 0);
      // The input's SET may have lifted the limits (SET statement_timeout = 0): set again.
      await client.query(limitsSql(l));
      continue;
    }
    await checkTable(client, step);
    const answer = await deps.query(step.text, step.returnsRows ? l.sampleRows : 0);
    const rows = countOf(answer.tag) ?? answer.total;
    const statement: PreviewStatement = { index: step.index, command: step.command, table: tableWords(step.table), rows, estimate: false };
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
async function estimate(client: pg.ClientBase, steps: readonly (PreviewStep | SettingStep)[], l: PreviewLimits, deps: PreviewDeps): Promise<{ statements: PreviewStatement[]; stopped: string | null }> {
  const statements: PreviewStatement[] = [];
  let stopped: string | null = null;
  for (const step of steps) {
    if (stopped) {
      if (isWriteStep(step)) statements.push({ index: step.index, command: step.command, table: tableWords(step.table), rows: null, estimate: true });
      continue;
    }
    try {
      if (!isWriteStep(step)) {
        await deps.query(step.text, 0);
        await client.query(limitsSql(l));
        continue;
      }
      const answer = await deps.query(`EXPLAIN (FORMAT JSON) ${step.text}`, 1, true);
      const parsed = JSON.parse(String(answer.rows[0]?.[0] ?? 'null')) as { Plan?: PlanNode }[] | null;
      statements.push({ index: step.index, command: step.command, table: tableWords(step.table), rows: estimatedRows(parsed?.[0]?.Plan), estimate: true });
    } catch (error) {
      stopped = stopWords(error, step, l) ?? `statement ${step.index + 1} cannot be planned: ${deps.message(error)}`;
      if (isWriteStep(step)) statements.push({ index: step.index, command: step.command, table: tableWords(step.table), rows: null, estimate: true });
    }
  }
  return { statements, stopped };
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
  if (plan.kind === 'none') return done({ state: 'none', reason: plan.reason, statements: [] });
  let why = plan.kind === 'estimate' ? plan.reason : 'previews on this connection are estimates only';
  if (plan.kind === 'dry-run' && l.dryRun) {
    let step: PreviewStep | SettingStep | undefined;
    try {
      await client.query(`BEGIN; ${limitsSql(l)}`);
      const statements: PreviewStatement[] = [];
      for (step of plan.steps) statements.push(...(await dryRun(client, [step], l, deps)));
      await rollback(client);
      return done({ state: 'measured', reason: null, statements });
    } catch (error) {
      await rollback(client);
      const stop = stopWords(error, step, l);
      // The command itself fails (a constraint, a missing column): that is the preview.
      if (stop === null) return done({ state: 'none', reason: `a dry run of statement ${(step?.index ?? 0) + 1} failed: ${deps.message(error)}`, statements: [] });
      why = stop;
    }
  }
  await client.query(`BEGIN; ${limitsSql(l)}`);
  try {
    const { statements, stopped } = await estimate(client, plan.steps, l, deps);
    const reason = stopped ? `${why}; ${stopped}` : why;
    if (!statements.some((s) => s.rows !== null)) return done({ state: 'none', reason, statements: [] });
    return done({ state: 'estimated', reason, statements });
  } finally {
    await rollback(client);
  }
}
