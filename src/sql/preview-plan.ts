// Which statements of a write request an impact preview may run in a dry run (a transaction that
// is always rolled back), and what it runs: only plain INSERT, UPDATE, DELETE and MERGE that call
// nothing but side-effect-free built-ins (or functions the connection declares read-only), with
// SET/RESET among them run for their effect on the rest. Anything else — DDL, statements that
// carry other statements, calls a rollback cannot undo (nextval, dblink...), input the parser
// cannot read — gets the planner's estimate or no figure, with the reason in words.
import { parseSync, scanSync } from 'libpg-query';
import { unsafeCallsIn } from './classify-postgres.js';
import type { ClassifiedStatement } from './types.js';

export type PreviewCommand = 'INSERT' | 'UPDATE' | 'DELETE' | 'MERGE';

/** A statement the preview measures. */
export interface PreviewStep {
  index: number;
  command: PreviewCommand;
  /** The table it writes, as the parser resolved its case; schema null when the name had none. */
  table: { schema: string | null; name: string };
  /** What the dry run sends: the statement, with ` RETURNING *` added when it can take one and had none. */
  text: string;
  /** True when `text` returns the affected rows (a sample is kept of them). */
  returnsRows: boolean;
}

/** SET and RESET among the writes: run in the dry run for their effect on the statements after them. */
export interface SettingStep {
  index: number;
  command: 'SET' | 'RESET';
  text: string;
}

export type PreviewPlan =
  /** Every statement may run in a dry run. */
  | { kind: 'dry-run'; steps: (PreviewStep | SettingStep)[] }
  /** No dry run (`reason`); the planner may estimate `steps` (its SET/RESET run first, in a transaction rolled back). */
  | { kind: 'estimate'; reason: string; steps: (PreviewStep | SettingStep)[] }
  /** No figure can be had at all. */
  | { kind: 'none'; reason: string };

const WRITES = new Set<string>(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);
const NODE_OF: Record<PreviewCommand, string> = { INSERT: 'InsertStmt', UPDATE: 'UpdateStmt', DELETE: 'DeleteStmt', MERGE: 'MergeStmt' };

interface RangeVar {
  schemaname?: string;
  relname?: string;
}

/** The written table and whether the statement already returns rows, from the parse tree. */
function targetOf(statement: string, command: PreviewCommand): { table: PreviewStep['table']; returning: boolean } | null {
  let stmts: { stmt: Record<string, { relation?: RangeVar; returningClause?: unknown; returningList?: unknown }> }[];
  try {
    stmts = (parseSync(statement) as unknown as { stmts?: typeof stmts }).stmts ?? [];
  } catch {
    return null;
  }
  if (stmts.length !== 1) return null;
  const node = stmts[0].stmt[NODE_OF[command]];
  if (!node?.relation?.relname) return null;
  return { table: { schema: node.relation.schemaname ?? null, name: node.relation.relname }, returning: Boolean(node.returningClause ?? node.returningList) };
}

/**
 * `statement` with ` RETURNING *` after its last token (comments and a trailing `;` left out), or
 * null when the result does not parse as the same one statement returning rows.
 */
export function withReturning(statement: string, command: PreviewCommand): string | null {
  let end = -1;
  try {
    for (const t of scanSync(statement).tokens) {
      if (t.tokenName === 'SQL_COMMENT' || t.tokenName === 'C_COMMENT' || t.text === ';') continue;
      end = Math.max(end, t.end);
    }
  } catch {
    return null;
  }
  if (end <= 0) return null;
  const text = `${statement.slice(0, end)} RETURNING *`;
  const check = targetOf(text, command);
  return check?.returning ? text : null;
}

/** "public.users" as people read it: the schema only when it was written. */
export function tableWords(t: PreviewStep['table']): string {
  return t.schema ? `${t.schema}.${t.name}` : t.name;
}

/** A relation name as PostgreSQL reads it back exactly (to_regclass of a quoted name). */
export function quotedName(t: PreviewStep['table']): string {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  return t.schema ? `${q(t.schema)}.${q(t.name)}` : q(t.name);
}

/**
 * The preview's plan for `statements` (a PostgreSQL input as classified). MERGE returns no rows
 * before PostgreSQL 17: it is counted, without a sample.
 */
export function planPreview(statements: readonly ClassifiedStatement[], parsed: boolean): PreviewPlan {
  if (!parsed) return { kind: 'none', reason: 'the gateway cannot parse the command, so it cannot tell what it would change' };
  const steps: (PreviewStep | SettingStep)[] = [];
  const noDryRun: string[] = [];
  for (const s of statements) {
    const command = s.command.toUpperCase();
    if (s.kind === 'read') continue;
    if (s.kind === 'session' && (command === 'SET' || command === 'RESET') && !s.nested?.length) {
      // Run before the estimate (it may change the plans), never in a dry run: a search_path
      // could make the names the target checked mean other functions.
      steps.push({ index: s.index, command, text: s.statement });
      noDryRun.push(`statement ${s.index + 1} is ${command}, which could change what the others call`);
      continue;
    }
    if (s.kind !== 'write' || !WRITES.has(command)) {
      noDryRun.push(`statement ${s.index + 1} is ${s.command}, which a dry run does not measure`);
      continue;
    }
    const cmd = command as PreviewCommand;
    const target = targetOf(s.statement, cmd);
    if (!target) {
      noDryRun.push(`the table statement ${s.index + 1} writes cannot be told`);
      continue;
    }
    // The sample is always the written table's own rows (RETURNING *): a RETURNING the request wrote
    // could return anything it can read, before anyone approved it, so its rows are not kept.
    const returning = target.returning || cmd === 'MERGE' ? null : withReturning(s.statement, cmd);
    steps.push({ index: s.index, command: cmd, table: target.table, text: returning ?? s.statement, returnsRows: returning !== null });
    if (s.nested?.length) noDryRun.push(`statement ${s.index + 1} carries other statements (${s.nested.map((n) => n.command).join(', ')})`);
    if (s.uncheckedSql?.length) noDryRun.push(`statement ${s.index + 1} runs SQL the gateway cannot check`);
    // Functions a connection declares read-only are trusted for reads in READ ONLY transactions; a
    // dry run writes, so they are not trusted here.
    const calls = unsafeCallsIn(s.statement, []);
    if (calls.length) noDryRun.push(`statement ${s.index + 1} calls ${calls.join(', ')}, whose effects a rollback may not undo`);
  }
  if (!steps.some((s) => WRITES.has(s.command))) return { kind: 'none', reason: noDryRun[0] ?? 'the command changes no rows the gateway can count' };
  if (noDryRun.length) return { kind: 'estimate', reason: noDryRun.join('; '), steps };
  return { kind: 'dry-run', steps };
}

/** True for a step that writes (not a SET/RESET). */
export function isWriteStep(s: PreviewStep | SettingStep): s is PreviewStep {
  return WRITES.has(s.command);
}
