// What the gateway does with classified SQL on a connection: block it, run it at once read-only,
// or hold it for review. Pure: classification and rules in, a verdict out.
import type { Classification, ClassifiedStatement } from '../sql/types.js';

export type ReviewMode = 'writes' | 'all' | 'none';
export const REVIEW_MODES: readonly ReviewMode[] = ['writes', 'all', 'none'];

export type GuardrailRule =
  | { type: 'deny-command'; name: string; command: string; message: string }
  | { type: 'deny-unbounded-write'; name: string; message: string }
  | { type: 'deny-unchecked-sql'; name: string; message: string }
  | { type: 'regex'; name: string; pattern: string; message: string };

/** The rules of a new connection: no DROP TABLE, DROP SCHEMA, DROP DATABASE or TRUNCATE. */
export const DEFAULT_GUARDRAILS: readonly GuardrailRule[] = [
  { type: 'deny-command', name: 'no-drop-table', command: 'DROP TABLE', message: 'Dropping tables is blocked on this connection; ship it as a reviewed migration.' },
  { type: 'deny-command', name: 'no-drop-schema', command: 'DROP SCHEMA', message: 'Dropping schemas is blocked on this connection.' },
  { type: 'deny-command', name: 'no-drop-database', command: 'DROP DATABASE', message: 'Dropping databases is blocked on this connection.' },
  { type: 'deny-command', name: 'no-truncate', command: 'TRUNCATE', message: 'TRUNCATE is blocked on this connection; delete the rows you mean with a WHERE clause.' },
];

export interface GuardrailViolation {
  rule: GuardrailRule;
  statement: ClassifiedStatement;
}

function matches(rule: GuardrailRule, s: ClassifiedStatement): boolean {
  // A rule applies to the statement and to every statement it carries (PREPARE, CTEs, DO and function bodies).
  const all = [{ command: s.command, unboundedWrite: s.unboundedWrite === true }, ...(s.nested ?? [])];
  if (rule.type === 'deny-command') {
    const denied = rule.command.trim().toUpperCase().replace(/\s+/g, ' ');
    return all.some((x) => x.command.toUpperCase() === denied);
  }
  if (rule.type === 'deny-unbounded-write') return all.some((x) => x.unboundedWrite);
  if (rule.type === 'deny-unchecked-sql') return (s.uncheckedSql?.length ?? 0) > 0;
  const re = new RegExp(rule.pattern, 'i');
  return re.test(s.normalized ?? s.statement) || re.test(s.statement);
}

/** The first rule any statement breaks, or null. */
export function checkGuardrails(classification: Classification, rules: readonly GuardrailRule[]): GuardrailViolation | null {
  for (const statement of classification.statements) {
    for (const rule of rules) if (matches(rule, statement)) return { rule, statement };
  }
  return null;
}

export type ReviewRoute = 'review' | 'direct' | 'read-only';

/**
 * How a command goes: `read-only` runs at once inside a read-only transaction (every statement
 * parsed and classed read, reviewMode writes); `direct` runs at once (reviewMode none, or no
 * reviewer groups); `review` waits for approvals. Unknown input is never auto-allowed.
 */
export function routeCommand(classification: Classification, mode: ReviewMode, hasReviewers: boolean): ReviewRoute {
  const allRead = classification.parsed && classification.statements.length > 0 && classification.statements.every((s) => s.kind === 'read');
  if (mode === 'writes' && allRead) return 'read-only';
  if (mode === 'none' || !hasReviewers) return 'direct';
  return 'review';
}
