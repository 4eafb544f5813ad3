// Column lineage of one MySQL/MariaDB statement, with PostgresLineage's contract: the taint of each
// output column (0 clean, 1 masked data, 2 cannot be determined), what the statement reads (for its
// error texts), and whether it may run stored code. Writes read their target (a failing row is
// quoted in errors); SHOW, DESCRIBE and EXPLAIN show metadata; CALL and anything unmodelled are unknown.
import { fromItems, ident, lc, max, raise, rowTaint, top, type Node, type Output, type Reads, type Scope } from './lineage-mysql-scope.js';
import { MysqlQueryLineage } from './lineage-mysql-query.js';
import type { StatementLineage, Taint } from './lineage-postgres.js';

export type { MysqlLineageOptions, MysqlRelation } from './lineage-mysql-query.js';

/** A statement's lineage, and whether it may run stored code (which can raise any error with any text). */
export type MysqlStatementLineage = StatementLineage & { runsCode: boolean };

// SHOW forms that list metadata, never rows or texts that quote them (SHOW WARNINGS does).
const SHOW_METADATA = new Set(['tables', 'databases', 'columns', 'index', 'indexes', 'keys', 'create', 'grants', 'collation', 'character']);

/** Lineage of MySQL/MariaDB statements against one catalog. */
export class MysqlLineage extends MysqlQueryLineage {
  /** The lineage of one statement's AST. */
  statement(ast: Node): MysqlStatementLineage {
    this.why.length = 0;
    this.code = false;
    const reads: Reads = { taint: 0 };
    const { out, outputMax } = this.body(ast, reads);
    const most = out ? top(out) : (outputMax ?? reads.taint);
    return { outputs: out?.mappable ? out.cols.map((c) => c.taint) : null, outputMax: most, reads: max(reads.taint, most), why: [...this.why], runsCode: this.code };
  }

  private body(ast: Node, reads: Reads): { out: Output | null; outputMax?: Taint } {
    const type = lc(String(ast.type ?? ''));
    const root: Scope = { entries: [], ctes: new Map() };
    if (type === 'select') return { out: this.select(ast, root, reads) };
    if (['insert', 'replace', 'update', 'delete'].includes(type)) {
      this.write(type, ast, root, reads);
      return { out: null };
    }
    if (type === 'explain') {
      // The plan names tables and indexes, not values; what the statement reads still counts for errors.
      const inner: Reads = { taint: 0 };
      const plan = this.body(ast.expr ?? {}, inner);
      raise(reads, max(inner.taint, plan.out ? top(plan.out) : (plan.outputMax ?? 0)));
      return { out: null, outputMax: 0 };
    }
    if (type === 'show') {
      if (SHOW_METADATA.has(lc(String(ast.keyword ?? '')))) return { out: null, outputMax: 0 };
      return { out: null, outputMax: this.unknown(`SHOW ${String(ast.keyword ?? '').toUpperCase()} may show data the gateway cannot trace`) };
    }
    if (['desc', 'transaction', 'lock', 'unlock'].includes(type)) return { out: null, outputMax: 0 };
    if (type === 'call') {
      this.code = true;
      return { out: null, outputMax: this.unknown('CALL runs a stored procedure the gateway cannot trace') };
    }
    // DDL, SET, USE...: what their errors may quote is what the relations they name hold.
    raise(reads, this.otherReads(ast));
    return { out: null };
  }

  /** The rows of every relation a statement the lineage does not model names, and of its subqueries. */
  private otherReads(node: unknown): Taint {
    if (Array.isArray(node)) return max(...node.map((n) => this.otherReads(n)));
    if (!node || typeof node !== 'object') return 0;
    const n = node as Node;
    if (n.ast) return top(this.select(n.ast, { entries: [], ctes: new Map() }, { taint: 0 }));
    let taint: Taint = 0;
    if (typeof ident(n.table) === 'string' && ('db' in n || 'as' in n)) taint = rowTaint(this.relationEntry(ident(n.db), ident(n.table)!, undefined, new Map()));
    return max(taint, ...Object.values(n).map((v) => this.otherReads(v)));
  }

  /** INSERT, REPLACE, UPDATE, DELETE: they read their target (a failing row is quoted in errors). */
  private write(type: string, ast: Node, scope: Scope, reads: Reads): void {
    const local: Scope = { entries: [], ctes: new Map(scope.ctes) };
    if (ast.with) this.withClause(ast.with, local, reads);
    // DELETE t FROM t JOIN u ... names its targets by alias; the FROM list holds the relations.
    const items = type === 'delete' && ast.from ? ast.from : ast.table;
    for (const item of fromItems(items)) {
      this.fromItem(item, local, reads);
      const name = ident(item.table);
      const rel = name === undefined ? undefined : this.opts.relation(ident(item.db) ?? this.schema, name);
      if (rel?.triggers) {
        // A trigger may read anything and raise an error with any text.
        this.code = true;
        raise(reads, this.unknown(`${rel.schema}.${rel.name} has triggers, which run code the gateway cannot trace`));
      }
    }
    for (const e of local.entries) raise(reads, rowTaint(e));
    if (ast.values?.type === 'select') raise(reads, top(this.select(ast.values, { entries: [], ctes: local.ctes }, reads)));
    else raise(reads, this.expr(ast.values, local, reads));
    for (const key of ['set', 'where', 'orderby', 'limit', 'on_duplicate_update']) raise(reads, this.expr(ast[key], local, reads));
  }
}
