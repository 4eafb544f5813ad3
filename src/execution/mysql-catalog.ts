// What a MySQL/MariaDB target's information_schema says of the relations a request names, for
// column lineage: kind, columns in order (INVISIBLE ones apart: `*` leaves them out), view
// definitions and whether triggers run on it; then, round by round, the same for what those views read. Asked on the connection
// that runs the request, so DATABASE() and what the session may see are the session's own; the
// lineage made from it decides which output columns are masked and which error texts are withheld.
import type mysql from 'mysql2/promise';
import { lineageInline } from '../sql/classify-inline.js';
import { MAX_VIEW_DEPTH } from '../sql/lineage-taint.js';
import type { MysqlRelation, MysqlStatementLineage } from '../sql/lineage-mysql.js';
import type { MaskingRules } from '../sql/masking.js';
import { mysqlViewReads } from '../sql/mysql-statement.js';
import type { ClassifiedStatement } from '../sql/types.js';
import type { OutputMasking } from './output.js';
import type { LineageFn } from './types.js';

type Conn = mysql.Connection | mysql.PoolConnection;

// Relations asked per round; what is left out is not in the catalog, so its lineage is `unknown`.
const MAX_NAMES = 100;

/** A relation name: schema null means the session's database. */
interface Name {
  schema: string | null;
  name: string;
}

// One SELECT per relation and table: with constant schema and name, information_schema opens only
// that table (a join or an IN list would make the server read every table of every database).
function lookups(names: Name[]): { sql: string; values: string[] } {
  const parts = [`SELECT 'db' AS what, DATABASE() AS s, NULL AS n, NULL AS info, NULL AS pos, NULL AS extra`];
  const values: string[] = [];
  for (const { schema, name } of names) {
    const where = (schemaColumn: string, nameColumn: string) => `${schemaColumn} = ${schema === null ? 'DATABASE()' : '?'} AND ${nameColumn} = ?`;
    const table = where('TABLE_SCHEMA', 'TABLE_NAME');
    parts.push(`SELECT 't', TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, NULL, NULL FROM information_schema.TABLES WHERE ${table}`);
    parts.push(`SELECT 'v', TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION, NULL, NULL FROM information_schema.VIEWS WHERE ${table}`);
    parts.push(`SELECT 'c', TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, EXTRA FROM information_schema.COLUMNS WHERE ${table}`);
    parts.push(`SELECT 'g', EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, TRIGGER_NAME, NULL, NULL FROM information_schema.TRIGGERS WHERE ${where('EVENT_OBJECT_SCHEMA', 'EVENT_OBJECT_TABLE')}`);
    for (let i = 0; i < 4; i++) values.push(...(schema === null ? [name] : [schema, name]));
  }
  return { sql: parts.join('\nUNION ALL\n'), values };
}

type Row = [string, string | null, string | null, string | Buffer | null, number | string | null, string | null];

/** A value as text (mysql2 gives some as Buffers). */
export const text = (v: string | Buffer | null): string | null => (v === null ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

/** `db.table` or `table`, as ClassifiedStatement.tables has them. */
function parseName(n: string): Name {
  const dot = n.indexOf('.');
  return dot < 0 ? { schema: null, name: n } : { schema: n.slice(0, dot), name: n.slice(dot + 1) };
}

const show = (n: Name) => (n.schema === null ? n.name : `${n.schema}.${n.name}`);

/**
 * The relations `names` resolve to on the target, and recursively those their views read. Names it
 * did not look up (views nested deeper than MAX_VIEW_DEPTH, more than MAX_NAMES in a round) are
 * added to `unchecked`: what they are is not known, so a caller must not take them for tables.
 */
export async function relationsOnTarget(conn: Conn, names: string[], unchecked: string[] = []): Promise<MysqlRelation[]> {
  const found = new Map<string, MysqlRelation>();
  const asked = new Set<string>();
  let next = [...new Set(names)].map(parseName);
  for (let depth = 0; next.length; depth++) {
    const fresh = [...new Map(next.filter((n) => !asked.has(`${n.schema}.${n.name}`)).map((n) => [`${n.schema}.${n.name}`, n])).values()];
    if (depth > MAX_VIEW_DEPTH) {
      unchecked.push(...fresh.map(show));
      break;
    }
    const round = fresh.slice(0, MAX_NAMES);
    unchecked.push(...fresh.slice(MAX_NAMES).map(show));
    round.forEach((n) => asked.add(`${n.schema}.${n.name}`));
    if (!round.length) break;
    const { sql, values } = lookups(round);
    const [rows] = (await conn.query({ sql, values, rowsAsArray: true })) as unknown as [Row[]];
    const database = rows.find((r) => r[0] === 'db')?.[1] ?? null;
    const columns = new Map<string, { name: string; pos: number; hidden: boolean }[]>();
    const triggered = new Set<string>();
    for (const [what, schema, name, info, pos, extra] of rows) {
      if (what === 'db' || schema === null || name === null) continue;
      const key = `${schema}.${name}`;
      if (what === 't') found.set(key, { schema, name, kind: text(info) === 'VIEW' ? 'v' : 'r', visible: schema === database, columns: [], hidden: [] });
      else if (what === 'g') triggered.add(key);
      else if (what === 'c') columns.set(key, [...(columns.get(key) ?? []), { name: text(info) ?? '', pos: Number(pos), hidden: /INVISIBLE/i.test(extra ?? '') }]);
    }
    for (const key of triggered) {
      const rel = found.get(key);
      if (rel) rel.triggers = true;
    }
    for (const [key, cols] of columns) {
      const rel = found.get(key);
      if (!rel) continue;
      cols.sort((a, b) => a.pos - b.pos);
      rel.columns = cols.filter((c) => !c.hidden).map((c) => c.name);
      rel.hidden = cols.filter((c) => c.hidden).map((c) => c.name);
    }
    next = [];
    for (const [what, schema, name, info] of rows) {
      const rel = what === 'v' && schema !== null && name !== null ? found.get(`${schema}.${name}`) : undefined;
      if (!rel) continue;
      rel.definition = text(info);
      // What the view reads is asked in the next round (names are qualified in printed definitions).
      next.push(...mysqlViewReads(rel.schema, rel.definition ?? '').map(parseName));
    }
  }
  return [...found.values()];
}

const UNTRACED: MysqlStatementLineage = { outputs: null, outputMax: 2, reads: 2, why: ['the statement cannot be traced on its own'], runsCode: true };

/** Output masking whose lineage also says which statements may run stored code. */
export type MysqlOutputMasking = Omit<OutputMasking, 'lineage'> & { lineage?: readonly MysqlStatementLineage[] | null };

/**
 * The output masking of `statements` on this connection: the connection's rules with column lineage
 * when it masks columns. An auto-run read sends each statement on its own (`whole` absent); an
 * approved command sends its whole text, split by the server as lineageMysql splits it.
 */
export async function maskingOnTarget(
  conn: Conn,
  rules: MaskingRules | undefined,
  statements: readonly ClassifiedStatement[],
  whole?: string,
  lineage: LineageFn = lineageInline,
): Promise<MysqlOutputMasking | undefined> {
  const relations = rules?.columns.length ? await relationsOnTarget(conn, [...new Set(statements.flatMap((s) => s.tables))]) : [];
  return maskingWith(rules, statements, relations, whole, lineage);
}

/** maskingOnTarget with the relations already looked up (relationsOnTarget of the statements' tables). */
export async function maskingWith(
  rules: MaskingRules | undefined,
  statements: readonly ClassifiedStatement[],
  relations: MysqlRelation[],
  whole?: string,
  lineage: LineageFn = lineageInline,
): Promise<MysqlOutputMasking | undefined> {
  if (!rules) return undefined;
  if (!rules.columns.length) return { rules };
  const trace = async (sql: string) => (await lineage({ dialect: 'mysql', sql, maskColumns: rules.columns, relations })) as MysqlStatementLineage[] | null;
  if (whole !== undefined) return { rules, lineage: await trace(whole) };
  const one = async (sql: string): Promise<MysqlStatementLineage> => {
    const all = await trace(sql);
    return all?.length === 1 ? all[0] : UNTRACED;
  };
  return { rules, lineage: await Promise.all(statements.map((s) => one(s.statement))) };
}
