// A connection's SQL policy as the use cases need it: classify its input, its guardrails, its
// masking, and who may see it.
import { DEFAULT_GUARDRAILS, REVIEW_MODES, type GuardrailRule, type ReviewMode } from '../core/sql-policy.js';
import { AppError, ErrorCode } from '../errors.js';
import type { Classifier } from '../sql/classifier.js';
import { DETECTORS, type Detector, type MaskingRules } from '../sql/masking.js';
import { dialectOf, type Classification } from '../sql/types.js';

export interface ConnectionPolicyFields {
  url: string;
  reviewers: string[];
  reviewMode: string;
  guardrails: unknown;
  allowedGroups: string[];
  maskColumns: string[];
  maskDetectors: string[];
  allowFunctions: string[];
}


/** Classifies `input` as the connection's database would parse it (large inputs off the event loop). */
export function classifyFor(classifier: Classifier, connection: Pick<ConnectionPolicyFields, 'url' | 'allowFunctions'>, input: string, maxStatements?: number): Promise<Classification> {
  return classifier.classify({ dialect: dialectOf(connection.url), sql: input, options: { allowFunctions: connection.allowFunctions, maxStatements } });
}

/** The connection's review mode; an unknown stored value reviews everything. */
export function reviewModeOf(connection: Pick<ConnectionPolicyFields, 'reviewMode'>): ReviewMode {
  return (REVIEW_MODES as readonly string[]).includes(connection.reviewMode) ? (connection.reviewMode as ReviewMode) : 'all';
}

/** The connection's masking rules, unknown detectors dropped. */
export function maskingOf(connection: Pick<ConnectionPolicyFields, 'maskColumns' | 'maskDetectors'>): MaskingRules {
  return { columns: connection.maskColumns, detectors: connection.maskDetectors.filter((d): d is Detector => (DETECTORS as readonly string[]).includes(d)) };
}

function bad(message: string): AppError {
  return new AppError(ErrorCode.BadInput, message);
}

/**
 * Guardrails from API input: `{type: 'deny-command', command}`, `{type: 'deny-unbounded-write'}`,
 * `{type: 'regex', pattern}`, each with an optional `name` and `message`.
 */
export function parseGuardrails(value: unknown): GuardrailRule[] {
  if (!Array.isArray(value)) throw bad('"guardrails" must be a list of rules, e.g. [{"type": "deny-command", "command": "DROP TABLE"}].');
  return value.map((raw, i) => {
    const r = (raw ?? {}) as Record<string, unknown>;
    const str = (k: string) => (typeof r[k] === 'string' && (r[k] as string).trim() ? (r[k] as string).trim() : undefined);
    const name = str('name');
    if (r.type === 'deny-command') {
      const command = str('command')?.toUpperCase().replace(/\s+/g, ' ');
      if (!command) throw bad(`guardrails[${i}]: a deny-command rule needs "command", e.g. "DROP TABLE".`);
      return { type: 'deny-command', command, name: name ?? `deny-${command.toLowerCase().replace(/ /g, '-')}`, message: str('message') ?? `${command} is blocked on this connection.` };
    }
    if (r.type === 'deny-unbounded-write') {
      return { type: 'deny-unbounded-write', name: name ?? 'no-unbounded-write', message: str('message') ?? 'UPDATE and DELETE need a WHERE clause on this connection.' };
    }
    if (r.type === 'deny-unchecked-sql') {
      return { type: 'deny-unchecked-sql', name: name ?? 'no-unchecked-sql', message: str('message') ?? 'SQL the gateway cannot check before it runs (dynamic EXECUTE, DO blocks in other languages, statements prepared elsewhere) is blocked on this connection.' };
    }
    if (r.type === 'regex') {
      const pattern = str('pattern');
      if (!pattern) throw bad(`guardrails[${i}]: a regex rule needs "pattern".`);
      try {
        new RegExp(pattern, 'i');
      } catch (error) {
        throw bad(`guardrails[${i}]: "${pattern}" is not a valid regular expression (${(error as Error).message}).`);
      }
      return { type: 'regex', pattern, name: name ?? `regex-${i + 1}`, message: str('message') ?? `Blocked by the rule /${pattern}/.` };
    }
    throw bad(`guardrails[${i}]: unknown type ${JSON.stringify(r.type)}; use deny-command, deny-unbounded-write, deny-unchecked-sql or regex.`);
  });
}

/** The stored rules of a connection (never throws on what was stored). */
export function guardrailsOf(connection: Pick<ConnectionPolicyFields, 'guardrails'>): GuardrailRule[] {
  try {
    return parseGuardrails(connection.guardrails);
  } catch {
    return [...DEFAULT_GUARDRAILS];
  }
}
