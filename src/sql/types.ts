/** What a statement does, from harmless to unknown. */
export type StatementKind = 'read' | 'session' | 'utility' | 'write' | 'ddl' | 'dcl' | 'unknown';

/** Kinds from least to most strict; the strictest of several statements speaks for them all. */
export const KIND_ORDER: readonly StatementKind[] = ['read', 'session', 'utility', 'write', 'ddl', 'dcl', 'unknown'];

export type Dialect = 'postgres' | 'mysql';

/** The SQL dialect of a connection URL (mysql:// is MySQL/MariaDB, anything else PostgreSQL). */
export function dialectOf(url: string): Dialect {
  return /^mysql:/i.test(url) ? 'mysql' : 'postgres';
}

/** A statement inside another one (PostgreSQL and MySQL alike). */
export interface NestedStatement {
  command: string;
  unboundedWrite: boolean;
}

export interface ClassifiedStatement {
  index: number;
  kind: StatementKind;
  /** The command as people write it: `SELECT`, `UPDATE`, `DROP TABLE`, `ALTER SYSTEM`... */
  command: string;
  /** The statement's own text, as given. */
  statement: string;
  /** The statement with constants replaced by placeholders (what regex guardrails match). */
  normalized?: string;
  tables: string[];
  warnings: string[];
  /** UPDATE or DELETE without WHERE. */
  unboundedWrite?: boolean;
  /** Statements this one carries and runs: a PREPAREd query, writable CTEs, function and DO bodies... */
  nested?: NestedStatement[];
  /** Why part of the statement's SQL cannot be checked before it runs (dynamic SQL, other languages). */
  uncheckedSql?: string[];
  /** What a read calls and reads, for the check against the target's catalog (PostgreSQL reads only). */
  calls?: StatementCalls;
}

/** Functions, operators, cast types and relations a statement names, as PostgreSQL resolved their case. */
export interface StatementCalls {
  functions: string[];
  operators: string[];
  types: string[];
  relations: string[];
}

export interface Classification {
  dialect: Dialect;
  /** False when the input did not parse: then it is one `unknown` statement. */
  parsed: boolean;
  error?: string;
  /** Set (with no statements) when the input has more statements than ClassifyOptions.maxStatements. */
  tooManyStatements?: number;
  statements: ClassifiedStatement[];
  /** The command's pattern for analytics (fingerprint.ts); absent when it was not computed. */
  fingerprint?: string;
}

export interface ClassifyOptions {
  /** Functions the connection declares read-only, beyond the built-in list. */
  allowFunctions?: readonly string[];
  /** Stop after counting when the input has more statements than this. */
  maxStatements?: number;
}

/** The strictest kind of `statements` (`read` only when every one is read). */
export function strictestKind(statements: readonly { kind: StatementKind }[]): StatementKind {
  if (statements.length === 0) return 'unknown';
  return statements.reduce<StatementKind>((worst, s) => (KIND_ORDER.indexOf(s.kind) > KIND_ORDER.indexOf(worst) ? s.kind : worst), 'read');
}
