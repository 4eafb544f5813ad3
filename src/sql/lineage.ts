// Column lineage of a whole PostgreSQL or MySQL/MariaDB input against the target's catalog: one
// StatementLineage per statement. After a statement that may change what names mean (DDL, SET, DO,
// USE...), the rest of the input is not traced: its outputs and reads are `unknown`.
import { parseSync } from 'libpg-query';
import { SAFE as MYSQL_SAFE } from './mysql-ast.js';
import { MysqlLineage, type MysqlRelation, type MysqlStatementLineage } from './lineage-mysql.js';
import { columnMatcher } from './masking.js';
import { splitMysql, type MysqlStatement } from './mysql-split.js';
import { parseMysqlStatement } from './mysql-statement.js';
import type { Node } from './postgres-commands.js';
import { PostgresLineage, type RelationInfo, type StatementLineage } from './lineage-postgres.js';
import { isSafeBuiltinFunction } from './safe-functions.js';

export type { StatementLineage };

export interface LineageRequest {
  sql: string;
  maskColumns: readonly string[];
  /** Relations from the target's catalog; `visible` when the bare name resolves to it. */
  relations: (RelationInfo & { visible: boolean })[];
}

// Statements that put data somewhere a later statement of the same input may read it from.
const WRITES = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'CreateTableAsStmt']);
// Statements after which names may resolve differently, so later ones are not traced.
const TRACED = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'ExplainStmt', 'VariableShowStmt', 'TransactionStmt', 'CreateTableAsStmt']);

/** Whether a column (of `relation`, when known) is masked: by its name, or as `relation.column`. */
function maskedColumnTest(patterns: readonly string[]): (column: string, relation?: string) => boolean {
  const isMasked = columnMatcher(patterns);
  return (column, relation) => isMasked(column) || (relation !== undefined && isMasked(`${relation}.${column}`));
}

/** The lineage of every statement of `sql`, in order; null when it does not parse. */
export function lineagePostgres(request: LineageRequest): StatementLineage[] | null {
  let stmts: { stmt: Node }[];
  try {
    stmts = (parseSync(request.sql) as unknown as { stmts?: { stmt: Node }[] }).stmts ?? [];
  } catch {
    return null;
  }
  const relations = request.relations;
  const analyzer = new PostgresLineage({
    isMaskedColumn: maskedColumnTest(request.maskColumns),
    isSafeFunction: isSafeBuiltinFunction,
    catalog: {
      relation(parts) {
        const name = parts.at(-1)!;
        if (parts.length === 1) return relations.find((r) => r.name === name && r.visible);
        const schema = parts.at(-2)!;
        return relations.find((r) => r.name === name && r.schema === schema);
      },
    },
  });
  try {
    return traced(stmts, analyzer);
  } catch {
    // Deeper than the walk can follow: untraceable, so the output is masked whole.
    return null;
  }
}

function traced(stmts: { stmt: Node }[], analyzer: PostgresLineage): StatementLineage[] {
  let barrier: string | null = null;
  return stmts.map(({ stmt }) => {
    const [type, node] = Object.entries(stmt)[0] as [string, Node];
    if (barrier) return { outputs: null, outputMax: 2, reads: 2, why: [`it follows ${barrier}, which may change what names mean or hold`] };
    const lineage = analyzer.statement(type, node);
    const label = type.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
    if (!TRACED.has(type)) barrier = label;
    // What the catalog said no longer holds after a statement that moved masked data somewhere
    // (INSERT … SELECT email, CREATE TABLE AS, SELECT INTO) or did what cannot be traced (set_config()).
    else if (lineage.reads > 0 && (WRITES.has(type) || (type === 'SelectStmt' && node.intoClause))) barrier = `a ${label} that reads masked data`;
    else if (lineage.reads === 2) barrier = 'a statement the gateway cannot trace';
    return lineage;
  });
}

export interface MysqlLineageRequest {
  sql: string;
  maskColumns: readonly string[];
  /** Relations from the target's catalog (information_schema); `visible` when in DATABASE(). */
  relations: MysqlRelation[];
}

// MySQL statements after which names still mean what they meant (the others: DDL, SET, USE, CALL...).
const MYSQL_TRACED = new Set(['select', 'insert', 'replace', 'update', 'delete', 'explain', 'show', 'desc', 'transaction', 'lock', 'unlock']);
// Names the server prints in view definitions for built-ins of the safe list (LENGTH is octet_length).
const MYSQL_PRINTED = new Set(['octet_length']);

// What the gateway cannot read may run anything, stored code included.
const untraced = (why: string): MysqlStatementLineage => ({ outputs: null, outputMax: 2, reads: 2, why: [why], runsCode: true });

/** The relation `schema.name` (schema undefined: DATABASE()); exact names first, then case-insensitively. */
function mysqlRelation(relations: MysqlRelation[], schema: string | undefined, name: string): MysqlRelation | undefined {
  const inSchema = (r: MysqlRelation, exact: boolean) => (schema === undefined ? r.visible : exact ? r.schema === schema : r.schema.toLowerCase() === schema.toLowerCase());
  const exact = relations.find((r) => r.name === name && inSchema(r, true));
  if (exact) return exact;
  // lower_case_table_names may fold names; two that differ only in case leave it undetermined.
  const folded = relations.filter((r) => r.name.toLowerCase() === name.toLowerCase() && inSchema(r, false));
  return folded.length === 1 ? folded[0] : undefined;
}

/** The lineage of every statement of MySQL/MariaDB `sql` (split as the server does), in order; null when it cannot be split. */
export function lineageMysql(request: MysqlLineageRequest): MysqlStatementLineage[] | null {
  let statements: MysqlStatement[];
  try {
    statements = splitMysql(request.sql);
  } catch {
    return null;
  }
  const analyzer = new MysqlLineage({
    isMaskedColumn: maskedColumnTest(request.maskColumns),
    isSafeFunction: (name) => MYSQL_SAFE.has(name) || MYSQL_PRINTED.has(name),
    relation: (schema, name) => mysqlRelation(request.relations, schema, name),
  });
  let barrier: string | null = null;
  const trace = (s: MysqlStatement): MysqlStatementLineage => {
    if (barrier) return untraced(`it follows ${barrier}, which may change what names mean`);
    const parsed = parseMysqlStatement(s);
    if ('error' in parsed) {
      barrier = 'a statement the gateway cannot read';
      return untraced(`the gateway cannot read this statement (${parsed.error})`);
    }
    const type = String(parsed.ast.type ?? '').toLowerCase();
    if (!MYSQL_TRACED.has(type)) barrier = `${type.toUpperCase()} ${String(parsed.ast.keyword ?? '').toUpperCase()}`.trim();
    return analyzer.statement(parsed.ast);
  };
  try {
    return statements.map(trace);
  } catch {
    // Deeper than the walk can follow: untraceable, so the output is masked whole.
    return null;
  }
}
