// Every text that leaves the proxy goes through here: result values, notices, errors and command
// tags. Values are masked by column lineage and by content detectors; error and notice texts of a
// command that reads masked data are withheld (the SQLSTATE is kept), since a database quotes the
// values it failed on ("invalid input syntax for type integer: "ann@..."", "Failing row contains").
import type { StatementLineage } from '../sql/lineage-postgres.js';
import { columnMatcher, hasMasking, maskText, maskValue, type MaskingRules } from '../sql/masking.js';
import type { StatementResult } from '../sql/psql-format.js';

export interface OutputMasking {
  rules: MaskingRules;
  /** One per statement when the connection masks columns; absent when it masks none. */
  lineage?: readonly StatementLineage[] | null;
}

const WHOLE_NOTE = 'values masked: the gateway cannot tell which of these columns come from masked columns';

/** True when `m` masks anything at all. */
export function masks(m: OutputMasking | undefined): m is OutputMasking {
  return Boolean(m && hasMasking(m.rules));
}

/** The lineage of statement `index`, or the strongest of all when it is out of range. */
function lineageAt(m: OutputMasking, index: number): StatementLineage | undefined {
  if (!m.rules.columns.length) return undefined;
  const all = m.lineage;
  // Masked columns are configured but no lineage could be made (input that does not parse): unknown.
  if (!all) return { outputs: null, outputMax: 2, reads: 2, why: [] };
  return all[index] ?? { outputs: null, outputMax: 2, reads: 2, why: [] };
}

/** Masked copies of `results` (result i belongs to statement i of the input). */
export function maskResults(results: readonly StatementResult[], m: OutputMasking | undefined): StatementResult[] {
  if (!masks(m)) return [...results];
  const byName = columnMatcher(m.rules.columns);
  return results.map((r, i) => {
    // Command tags carry counts, not values; they go through the detectors all the same.
    r = { ...r, tag: maskText(r.tag, m.rules.detectors) };
    if (!r.columns || !r.rows) return r;
    const lineage = lineageAt(m, i);
    const mapped = lineage?.outputs && lineage.outputs.length === r.columns.length ? lineage.outputs : null;
    const whole = lineage ? (mapped ? mapped.includes(2) : lineage.outputMax > 0) : false;
    const masked = r.columns.map((c, j) => whole || byName(c.name) || (mapped ? mapped[j] > 0 : false));
    const rows = r.rows.map((row) => row.map((v, j) => (v === null ? null : masked[j] ? maskValue(v) : maskText(v, m.rules.detectors))));
    return { ...r, rows, ...(whole && r.rows.length ? { notes: [...(r.notes ?? []), WHOLE_NOTE] } : {}) };
  });
}

/** Why an auto-run read's output cannot be masked column by column (then it waits for review). */
export function untraceableOf(m: { lineage?: readonly { outputMax: number; why: string[] }[] | null } | undefined): string[] {
  if (m?.lineage === null) return ['the input cannot be traced'];
  return (m?.lineage ?? []).filter((l) => l.outputMax === 2).map((l) => l.why.join('; ') || 'the columns of the result cannot be traced');
}

/** True when error and notice texts of the input must be withheld (it reads masked or untraceable data). */
export function withholdsMessages(m: OutputMasking | undefined, statement?: number): boolean {
  if (!masks(m) || !m.rules.columns.length) return false;
  if (statement !== undefined) return (lineageAt(m, statement)?.reads ?? 0) > 0;
  const all = m.lineage;
  return !all || all.some((l) => l.reads > 0);
}

// Messages whose whole text is fixed by the server — nothing of the command's data can be in them.
// Anything else a command that reads masked data gets back (a name it made from a value: "role
// "moc.elpmaxe@nna" does not exist"; a RAISE with a SQLSTATE of its choosing) is withheld.
// The command names PostgreSQL puts in "cannot execute … in a read-only transaction" (a RAISE could
// word that message too, so only these words are accepted in it).
// CREATE/ALTER/DROP take the object words of PostgreSQL's command tags (cmdtaglist.h), nothing else.
const TAG_OBJECTS =
  'ACCESS METHOD|AGGREGATE|CAST|COLLATION|CONSTRAINT|CONVERSION|DATABASE|DEFAULT PRIVILEGES|DOMAIN|EVENT TRIGGER|EXTENSION|FOREIGN DATA WRAPPER|FOREIGN TABLE|FUNCTION|INDEX|LANGUAGE|LARGE OBJECT|MATERIALIZED VIEW|OPERATOR|OPERATOR CLASS|OPERATOR FAMILY|OWNED|POLICY|PROCEDURE|PUBLICATION|ROLE|ROUTINE|RULE|SCHEMA|SEQUENCE|SERVER|STATISTICS|SUBSCRIPTION|SYSTEM|TABLE|TABLE AS|TABLESPACE|TEXT SEARCH CONFIGURATION|TEXT SEARCH DICTIONARY|TEXT SEARCH PARSER|TEXT SEARCH TEMPLATE|TRANSFORM|TRIGGER|TYPE|USER MAPPING|VIEW';
const READ_ONLY_COMMANDS = new RegExp(
  `^cannot execute (?:INSERT|UPDATE|DELETE|MERGE|COPY FROM|SELECT INTO|SELECT FOR (?:NO KEY )?UPDATE|SELECT FOR (?:KEY )?SHARE|(?:CREATE|ALTER|DROP) (?:${TAG_OBJECTS})|TRUNCATE TABLE|LOCK TABLE|nextval\\(\\)|setval\\(\\)|CALL|DO|VACUUM|ANALYZE|CLUSTER|REINDEX|REFRESH MATERIALIZED VIEW|COMMENT|GRANT|REVOKE|SECURITY LABEL|LISTEN|NOTIFY|IMPORT FOREIGN SCHEMA) in a read-only transaction$`,
);
const FIXED_MESSAGES = [
  /^canceling statement due to (?:statement timeout|lock timeout|user request)$/,
  READ_ONLY_COMMANDS,
  /^deadlock detected$/,
  /^could not serialize access due to (?:concurrent update|concurrent delete|read\/write dependencies among transactions)$/,
  /^terminating connection due to administrator command$/,
  // MySQL/MariaDB
  /^Query execution was interrupted(?:, maximum statement execution time exceeded| \(max_statement_time exceeded\))$/,
  /^Cannot execute statement in a READ ONLY transaction\.?$/,
  /^Deadlock found when trying to get lock; try restarting transaction$/,
  /^Lock wait timeout exceeded; try restarting transaction$/,
];

/** True when `text` is a message the server words alone (safe to show whatever the command read). */
export function isFixedMessage(text: string): boolean {
  return FIXED_MESSAGES.some((re) => re.test(text));
}

/** A database message as it may leave: masked by the detectors, or withheld with its SQLSTATE. */
export function safeMessage(text: string, m: OutputMasking | undefined, opts: { withhold: boolean; sqlstate?: string; kind: 'error' | 'notice' }): string {
  if (!masks(m)) return text;
  if (!opts.withhold || (opts.kind === 'error' && isFixedMessage(text))) return maskText(text, m.rules.detectors);
  const code = opts.sqlstate ? ` (SQLSTATE ${opts.sqlstate})` : '';
  return opts.kind === 'error'
    ? `the database's error message was withheld because the command reads masked columns${code}; run it without the masked columns to see it`
    : `a notice was withheld because the command reads masked columns${code}`;
}
