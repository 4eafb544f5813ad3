// What MySQL column lineage keeps while it walks a statement: the relations in scope with the taint
// of each column, and small helpers over node-sql-parser's MySQL AST.
import type { Col, Taint } from './lineage-taint.js';

export { max, raise, rowTaint, top, type Col, type Output, type Reads } from './lineage-taint.js';

// node-sql-parser's AST is untyped JSON.
export type Node = Record<string, any>;

export interface Entry {
  /** What a column reference may qualify it with: its alias, or its name and schema.name. */
  names: string[];
  /** Its columns as `*` lists them; null when unknown (then every column has taint `any`). */
  cols: Col[] | null;
  /** Columns `*` leaves out (INVISIBLE) but a name may reach. */
  hidden?: Col[];
  any: Taint;
}

export interface Scope {
  entries: Entry[];
  ctes: Map<string, { cols: Col[] | null; any: Taint }>;
  parent?: Scope;
  /** The select list, for GROUP BY, HAVING and ORDER BY (they may name its aliases). */
  aliases?: Col[];
  /** A JOIN ... USING: `*` merges the shared columns, so its columns are not mapped one by one. */
  merged?: boolean;
}

export const lc = (s: string): string => s.toLowerCase();

/** An identifier as the parser gives it: a string, or `{type, value}` when it was quoted. */
export function ident(x: unknown): string | undefined {
  if (typeof x === 'string') return x;
  if (!x || typeof x !== 'object') return undefined;
  return ident((x as Node).value ?? (x as Node).expr?.value);
}

/** True for an identifier written in quotes (`name`). */
export const quoted = (x: unknown): boolean => Boolean(x && typeof x === 'object' && /quote/.test(String((x as Node).type)));

/** The columns of `e` named `column` (lower case), visible or not: column names are case-insensitive. */
export const named = (e: Entry, column: string): Col[] => [...(e.cols ?? []), ...(e.hidden ?? [])].filter((c) => lc(c.name) === column);

/** The columns of `e` whose name the gateway cannot tell (an unaliased expression). */
export const unnamed = (e: Entry): Col[] => (e.cols ?? []).filter((c) => c.name === '');

/** Matching entries: exactly named first, then case-insensitively (lower_case_table_names). */
export function matching(entries: Entry[], qualifier: string): Entry[] {
  const exact = entries.filter((e) => e.names.includes(qualifier));
  return exact.length ? exact : entries.filter((e) => e.names.some((n) => lc(n) === lc(qualifier)));
}

/** The items of a FROM clause, flattened (a parenthesised join is `{expr: [items]}`). */
export function fromItems(from: unknown): Node[] {
  if (Array.isArray(from)) return from.flatMap((f: Node) => (Array.isArray(f?.expr) ? fromItems(f.expr) : [f]));
  if (from && typeof from === 'object' && Array.isArray((from as Node).expr)) return [...fromItems((from as Node).expr), ...fromItems((from as Node).joins ?? [])];
  return [];
}
