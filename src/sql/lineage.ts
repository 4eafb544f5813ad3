// Column lineage of a whole PostgreSQL input against the target's catalog: one StatementLineage per
// statement. After a statement that may change what names mean (DDL, SET, DO...), the rest of the
// input is not traced: its outputs and reads are `unknown`.
import { parseSync } from 'libpg-query';
import { columnMatcher } from './masking.js';
import { SESSION, type Node } from './postgres-commands.js';
import { PostgresLineage, type RelationInfo, type StatementLineage } from './lineage-postgres.js';
import { SAFE_FUNCTIONS } from './safe-functions.js';

export type { StatementLineage };

export interface LineageRequest {
  sql: string;
  maskColumns: readonly string[];
  /** Relations from the target's catalog; `visible` when the bare name resolves to it. */
  relations: (RelationInfo & { visible: boolean })[];
}

// Statements after which names may resolve differently, so later ones are not traced.
const TRACED = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'ExplainStmt', 'VariableShowStmt', 'TransactionStmt', 'CreateTableAsStmt']);

/** The lineage of every statement of `sql`, in order; null when it does not parse. */
export function lineagePostgres(request: LineageRequest): StatementLineage[] | null {
  let stmts: { stmt: Node }[];
  try {
    stmts = (parseSync(request.sql) as unknown as { stmts?: { stmt: Node }[] }).stmts ?? [];
  } catch {
    return null;
  }
  const isMasked = columnMatcher(request.maskColumns);
  const relations = request.relations;
  const analyzer = new PostgresLineage({
    isMaskedColumn: (column, relation) => isMasked(column) || (relation !== undefined && isMasked(`${relation}.${column}`)),
    isSafeFunction: (name) => {
      const parts = name.split('.');
      return (parts.length === 1 || (parts.length === 2 && parts[0] === 'pg_catalog')) && SAFE_FUNCTIONS.has(parts.at(-1)!);
    },
    catalog: {
      relation(parts) {
        const name = parts.at(-1)!;
        if (parts.length === 1) return relations.find((r) => r.name === name && r.visible);
        const schema = parts.at(-2)!;
        return relations.find((r) => r.name === name && r.schema === schema);
      },
    },
  });
  let barrier: string | null = null;
  return stmts.map(({ stmt }) => {
    const [type, node] = Object.entries(stmt)[0] as [string, Node];
    if (barrier) return { outputs: null, outputMax: 2, reads: 2, why: [`it follows ${barrier}, which may change what names mean`] };
    const lineage = analyzer.statement(type, node);
    if (!TRACED.has(type) && !(SESSION.has(type) && type === 'TransactionStmt')) barrier = type.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
    return lineage;
  });
}
