// What the MySQL classifier finds of one statement, and of the statements it carries.
import type { MysqlUnbounded } from './mysql-where.js';
import type { NestedStatement, StatementKind } from './types.js';

/** What the gateway found of one statement. */
export interface Found {
  kind: StatementKind;
  command: string;
  tables: string[];
  /** Why it changes every row of a table, or null. */
  unbounded: MysqlUnbounded | null;
  reasons: string[];
  nested: NestedStatement[];
  unchecked: string[];
  normalized: string;
  parseError?: string;
}

/** What EXECUTE of a statement prepared earlier in the input runs. */
export interface Carried {
  kind: StatementKind;
  tables: string[];
  nested: NestedStatement[];
  unchecked: string[];
  parseError?: string;
}

/** A finding for `command` that is `unknown` and carries nothing, unless `more` says otherwise. */
export function found(command: string, normalized: string, more: Partial<Found> = {}): Found {
  return { kind: 'unknown', command, tables: [], unbounded: null, reasons: [], nested: [], unchecked: [], normalized, ...more };
}
