// Column lineage of MySQL/MariaDB queries on node-sql-parser's AST: which output columns of a
// SELECT carry data of a masked column — directly, transformed (REPLACE, HEX, TO_BASE64, CONCAT...),
// through `*`, a derived table, a subquery, a CTE, UNION, an aggregate or a view (its
// VIEW_DEFINITION is parsed and traced) — and what it reads. What it cannot follow (a stored
// function, an unknown relation, a user variable, a name the parser may misread) is `unknown`.
import { fromItems, ident, lc, matching, max, named, quoted, raise, rowTaint, top, unnamed, type Col, type Entry, type Node, type Output, type Reads, type Scope } from './lineage-mysql-scope.js';
import type { RelationInfo, Taint } from './lineage-postgres.js';
import { COUNTING, MAX_VIEW_DEPTH } from './lineage-taint.js';
import { parseMysqlDefinition } from './mysql-statement.js';

/** A relation of the target: `visible` when an unqualified name resolves to it (DATABASE()); `triggers` when it has any. */
export type MysqlRelation = RelationInfo & { visible: boolean; hidden?: string[]; triggers?: boolean };

export interface MysqlLineageOptions {
  /** True when the connection masks `column` (of `relation`, when known). */
  isMaskedColumn(column: string, relation?: string): boolean;
  /** True for built-in functions whose result depends only on their arguments. */
  isSafeFunction(name: string): boolean;
  /** The relation `schema.name` (schema undefined: the session's database), or undefined. */
  relation(schema: string | undefined, name: string): MysqlRelation | undefined;
}

const MAX_RECURSION_PASSES = 12;
// Comparisons with a subquery: a yes or no, inference only (the subquery's rows are read, not returned).
const INFERENCE = new Set(['exists', 'any', 'all', 'some']);
// Words node-sql-parser takes for a column where the server reads an operator: `BINARY email` is
// read as the column BINARY named email (found by parsing every keyword MariaDB 10.11 lists).
const MISREAD = new Set(['binary']);
// Tables that hold values of other tables' columns: MariaDB's engine-independent statistics
// (min_value, max_value, histograms), MySQL 8's histograms, and the texts of statements other
// sessions ran (an UPDATE's new email is in them), as SHOW PROCESSLIST shows them.
const HOLDS_VALUES: Record<string, string> = {
  'mysql.column_stats': "holds values of other tables' columns",
  'information_schema.column_statistics': "holds values of other tables' columns",
  'information_schema.processlist': "holds the texts of other sessions' statements",
  'performance_schema.events_statements_current': "holds the texts of other sessions' statements",
  'performance_schema.events_statements_history': "holds the texts of other sessions' statements",
  'performance_schema.events_statements_history_long': "holds the texts of other sessions' statements",
  'mysql.general_log': "holds the texts of other sessions' statements",
  'mysql.slow_log': "holds the texts of other sessions' statements",
  'information_schema.innodb_trx': "holds the texts of other sessions' statements",
  'information_schema.innodb_locks': "holds values of other sessions' rows",
  'information_schema.innodb_lock_waits': "holds the texts of other sessions' statements",
  'performance_schema.threads': "holds the texts of other sessions' statements",
  'performance_schema.data_locks': "holds values of other sessions' rows",
  'performance_schema.events_transactions_current': "holds the texts of other sessions' statements",
  'performance_schema.prepared_statements_instances': "holds the texts of other sessions' statements",
  'sys.session': "holds the texts of other sessions' statements",
  'sys.processlist': "holds the texts of other sessions' statements",
  'sys.x$processlist': "holds the texts of other sessions' statements",
  'sys.x$session': "holds the texts of other sessions' statements",
};

/** Lineage of the queries in MySQL/MariaDB statements against one catalog (MysqlLineage adds the statements). */
export class MysqlQueryLineage {
  protected readonly why: string[] = [];
  private readonly views = new Map<string, { cols: Col[] | null; code: boolean }>();
  /** Whether the statement calls stored code: a stored function or procedure, a trigger. */
  protected code = false;
  private depth = 0;
  /** The schema unqualified names resolve in: the session's (undefined), or a view's while tracing it. */
  protected schema: string | undefined;

  constructor(protected readonly opts: MysqlLineageOptions) {}

  protected unknown(reason: string): Taint {
    if (!this.why.includes(reason) && this.why.length < 20) this.why.push(reason);
    return 2;
  }

  protected withClause(list: Node[], scope: Scope, reads: Reads): void {
    const items = list.map((item) => {
      const stmt: Node = item.stmt?.ast ?? item.stmt ?? {};
      const names: (string | undefined)[] = (item.columns ?? []).map((c: Node) => ident(c?.column) ?? ident(c));
      const run = (): { cols: Col[] | null; any: Taint } => {
        const out = this.select(stmt, scope, reads);
        return out.mappable ? { cols: out.cols.map((c, i) => ({ name: names[i] ?? c.name, taint: c.taint })), any: 0 } : { cols: null, any: top(out) };
      };
      return { name: ident(item.name) ?? '', run };
    });
    if (!list.some((item) => item.recursive)) {
      for (const item of items) scope.ctes.set(item.name, item.run());
      return;
    }
    // WITH RECURSIVE: every CTE sees itself and the others, also those written after it. Start from
    // clean columns of unknown number and run them all again until their taints stop rising (they
    // only rise, so this ends).
    for (const item of items) scope.ctes.set(item.name, { cols: null, any: 0 });
    let settled = false;
    for (let pass = 0; pass < MAX_RECURSION_PASSES && !settled; pass++) {
      settled = pass > 0;
      for (const item of items) {
        const seen = scope.ctes.get(item.name)!;
        const next = item.run();
        const cols = next.cols && (!seen.cols || seen.cols.length === next.cols.length) ? next.cols.map((c, i) => ({ name: c.name, taint: max(c.taint, seen.cols?.[i]?.taint ?? 0, seen.cols ? 0 : seen.any) })) : null;
        const dropped = cols ? [] : [...(next.cols ?? []), ...(seen.cols ?? [])].map((c) => c.taint);
        const merged = { cols, any: max(next.any, cols ? 0 : seen.any, ...dropped) };
        if (JSON.stringify(merged) !== JSON.stringify(seen)) settled = false;
        scope.ctes.set(item.name, merged);
      }
    }
    if (!settled) for (const item of items) scope.ctes.set(item.name, { cols: null, any: this.unknown(`the recursive CTE ${item.name} could not be traced`) });
  }

  /** Output columns of a SELECT (with its UNION / INTERSECT / EXCEPT parts); adds what it reads to `reads`. */
  select(node: Node, parent: Scope, reads: Reads): Output {
    const scope: Scope = { entries: [], ctes: new Map(parent.ctes), parent };
    if (node.with) this.withClause(node.with, scope, reads);
    const outs: Output[] = [];
    for (let part: Node | undefined = node; part; part = part._next) outs.push(this.core(part, scope, reads));
    const [first] = outs;
    const out: Output = outs.every((o) => o.mappable && o.cols.length === first.cols.length)
      ? { cols: first.cols.map((c, i) => ({ name: c.name, taint: max(...outs.map((o) => o.cols[i].taint)) })), mappable: true }
      : { cols: [{ name: '*', taint: max(...outs.map(top)) }], mappable: false };
    // ORDER BY / LIMIT of the whole set operation name its output columns.
    if (node._orderby || node._limit) raise(reads, this.expr([node._orderby, node._limit], { ...scope, aliases: out.cols }, reads));
    return out;
  }

  private core(node: Node, parent: Scope, reads: Reads): Output {
    const scope: Scope = { entries: [], ctes: parent.ctes, parent };
    for (const item of fromItems(node.from)) this.fromItem(item, scope, reads);
    if (node.where) raise(reads, this.expr(node.where, scope, reads));
    const out = this.targets(node.columns, scope, reads);
    scope.aliases = out.cols;
    const group = node.groupby?.columns ?? node.groupby;
    raise(reads, this.expr([group, node.having, node.orderby, node.window, node.limit], scope, reads));
    return out;
  }

  private targets(columns: unknown, scope: Scope, reads: Reads): Output {
    const list: Node[] = Array.isArray(columns) ? columns : [{ expr: { type: 'column_ref', table: null, column: '*' } }];
    const out: Col[] = [];
    let mappable = true;
    for (const item of list) {
      const e: Node = item.expr ?? {};
      if (e.type === 'column_ref' && ident(e.column) === '*') {
        const table = ident(e.table);
        const qualifier = table ? [ident(e.db), table].filter(Boolean).join('.') : '';
        const entries = qualifier ? matching(scope.entries, qualifier) : scope.entries;
        if (!entries.length && qualifier) out.push({ name: '*', taint: this.unknown(`${qualifier}.* names nothing the gateway knows`) });
        if ((!entries.length && qualifier) || (!qualifier && scope.merged)) mappable = false;
        for (const en of entries) {
          if (en.cols) out.push(...en.cols.map((c) => ({ name: c.name, taint: max(c.taint, en.any) })));
          else {
            mappable = false;
            out.push({ name: '*', taint: en.any });
          }
        }
        continue;
      }
      // The server names an unaliased expression by its text as written, which the AST does not
      // keep: such a column's name is unknown ('') and a name nothing else has may mean it.
      const plain = e.type === 'column_ref' && !e.collate && !e.suffix;
      out.push({ name: ident(item.as) ?? (plain ? ident(e.column) : undefined) ?? '', taint: this.expr(e, scope, reads) });
    }
    raise(reads, max(...out.map((c) => c.taint)));
    return { cols: out, mappable };
  }

  protected fromItem(item: Node, scope: Scope, reads: Reads): void {
    const alias = ident(item.as);
    if (item.type === 'dual') return;
    if (item.expr?.ast) {
      // A derived table sees the outer queries, not its siblings in FROM.
      const out = this.select(item.expr.ast, { entries: [], ctes: scope.ctes, parent: scope.parent }, reads);
      scope.entries.push({ names: alias ? [alias] : [], cols: out.mappable ? out.cols : null, any: out.mappable ? 0 : top(out) });
    } else if (ident(item.table) !== undefined) {
      scope.entries.push(this.relationEntry(ident(item.db), ident(item.table)!, alias, scope.ctes));
    } else {
      scope.entries.push({ names: alias ? [alias] : [], cols: null, any: this.unknown('a FROM item the gateway cannot trace') });
    }
    if (item.on) raise(reads, this.expr(item.on, scope, reads));
    if (item.using) {
      scope.merged = true;
      for (const u of item.using as unknown[]) raise(reads, this.resolve(lc(ident(u) ?? ''), undefined, scope, null));
    }
  }

  /** An entry for a relation name: a CTE in scope, or what the catalog says of it. */
  protected relationEntry(db: string | undefined, name: string, alias: string | undefined, ctes: Scope['ctes']): Entry {
    const label = db ? `${db}.${name}` : name;
    if (!db && ctes.has(name)) return { names: [alias ?? name], ...ctes.get(name)! };
    if (!db && [...ctes.keys()].some((k) => lc(k) === lc(name))) return { names: [alias ?? name], cols: null, any: this.unknown(`${name} differs only in case from a CTE`) };
    if (!db && lc(name) === 'dual') return { names: [], cols: [], any: 0 };
    const info = this.opts.relation(db ?? this.schema, name);
    if (!info) return { names: alias ? [alias] : [name, label], cols: null, any: this.unknown(`${label} is not a relation the gateway could look up`) };
    const holds = HOLDS_VALUES[lc(`${info.schema}.${info.name}`)];
    if (holds) return { names: alias ? [alias] : [name, label], cols: null, any: this.unknown(`${label} ${holds}`) };
    const names = alias ? [alias] : [...new Set([name, label, `${info.schema}.${info.name}`])];
    const masked = (c: string): Taint => (this.opts.isMaskedColumn(c, info.name) ? 1 : 0);
    const hidden = (info.hidden ?? []).map((c) => ({ name: c, taint: masked(c) }));
    if (info.kind !== 'v') return { names, cols: info.columns.map((c) => ({ name: c, taint: masked(c) })), hidden, any: 0 };
    const key = `${info.schema}.${info.name}`;
    if (!this.views.has(key)) {
      this.views.set(key, { cols: null, code: false }); // a view that reaches itself stays unknown
      const outer = this.code;
      this.code = false;
      const cols = this.viewColumns(info);
      this.views.set(key, { cols, code: this.code });
      this.code = outer;
    }
    const { cols, code } = this.views.get(key)!;
    if (code) this.code = true;
    if (!cols) {
      this.code = true; // what cannot be read may call stored functions
      return { names, cols: null, any: this.unknown(`the view ${key} could not be traced`) };
    }
    return { names, cols: cols.map((c) => ({ name: c.name, taint: max(c.taint, masked(c.name)) })), any: 0 };
  }

  /** A view's columns, by tracing its VIEW_DEFINITION in the view's own schema. */
  private viewColumns(info: MysqlRelation): Col[] | null {
    const label = `${info.schema}.${info.name}`;
    const ast = info.definition && this.depth < MAX_VIEW_DEPTH ? parseMysqlDefinition(info.definition) : null;
    if (!ast) {
      this.unknown(`the definition of view ${label} could not be read`);
      return null;
    }
    const outer = this.schema;
    this.depth++;
    this.schema = info.schema;
    try {
      const out = this.select(ast, { entries: [], ctes: new Map() }, { taint: 0 });
      if (!out.mappable || out.cols.length !== info.columns.length) {
        this.unknown(`the columns of view ${label} could not be traced`);
        return null;
      }
      return out.cols.map((c, i) => ({ name: info.columns[i], taint: c.taint }));
    } finally {
      this.depth--;
      this.schema = outer;
    }
  }

  /** The taint of an expression (any subtree), adding what subqueries read to `reads`. */
  expr(node: unknown, scope: Scope, reads: Reads): Taint {
    if (Array.isArray(node)) return max(...node.map((n) => this.expr(n, scope, reads)));
    if (!node || typeof node !== 'object') return 0;
    const n = node as Node;
    if (n.ast) return top(this.select(n.ast, scope, reads));
    switch (n.type) {
      case 'column_ref': {
        const column = lc(ident(n.column) ?? '');
        const table = ident(n.table);
        if (!table && MISREAD.has(column)) return this.unknown(`${column.toUpperCase()} is read by the server as an operator, not a column`);
        return this.resolve(column, table ? [ident(n.db), table].filter(Boolean).join('.') : undefined, scope, null);
      }
      case 'var':
        // A user variable may hold anything an earlier statement or request put there.
        return n.prefix === '@' ? this.unknown(`@${String(n.name)} is a user variable, which may hold masked data`) : 0;
      case 'function':
        return this.call(n, scope, reads);
      case 'aggr_func': {
        const name = lc(String(n.name ?? ''));
        const args = this.expr([n.args, n.over], scope, reads);
        if (COUNTING.has(name)) {
          raise(reads, args);
          return 0;
        }
        if (this.opts.isSafeFunction(name)) return args;
        this.code = true;
        return max(args, this.unknown(`${name}() may return data the gateway cannot trace`));
      }
      case 'binary_expr':
        if (/^(not )?in$/i.test(String(n.operator)) && (n.right?.ast || n.right?.value?.some?.((v: Node) => v?.ast))) {
          raise(reads, this.expr(n.right, scope, reads));
          return this.expr(n.left, scope, reads);
        }
        break;
      case 'unary_expr':
        if (/exists$/i.test(String(n.operator))) {
          raise(reads, this.expr(n.expr, scope, reads));
          return 0;
        }
        break;
    }
    return max(...Object.values(n).map((v) => this.expr(v, scope, reads)));
  }

  private call(n: Node, scope: Scope, reads: Reads): Taint {
    const parts: unknown[] = typeof n.name === 'string' ? [n.name] : [n.name?.schema, ...(n.name?.name ?? [])].filter(Boolean);
    const name = parts.map(ident).join('.');
    const args = this.expr([n.args, n.over], scope, reads);
    // A qualified or quoted name is a stored function (the server resolves built-ins by bare name only).
    const bare = parts.length === 1 && !quoted(parts[0]) ? lc(name) : null;
    if (bare && INFERENCE.has(bare)) {
      raise(reads, args);
      return 0;
    }
    if (bare && this.opts.isSafeFunction(bare)) return args;
    this.code = true;
    return max(args, this.unknown(`${name}() may return data the gateway cannot trace`));
  }

  /** `opaque`: the taint of relations of unknown columns met in inner scopes (one of them may hold it). */
  private resolve(column: string, qualifier: string | undefined, scope: Scope | undefined, opaque: Taint | null): Taint {
    if (!scope) {
      if (qualifier) return opaque ?? this.unknown(`${qualifier}.${column} could not be traced`);
      // A name nothing has: the server refuses it (1054, which quotes no value).
      return opaque ?? 0;
    }
    if (!qualifier) {
      const found = [...scope.entries.flatMap((e) => named(e, column).map((c) => max(c.taint, e.any))), ...(scope.aliases ?? []).filter((c) => lc(c.name) === column).map((c) => c.taint)];
      if (found.length) return max(...found);
      // Relations of unknown columns, or columns of unknown name, may hold it; or an outer query may.
      const maybe = scope.entries.flatMap((e) => (e.cols ? unnamed(e).map((c) => max(c.taint, e.any)) : [e.any]));
      const here = maybe.length ? max(opaque ?? 0, ...maybe) : opaque;
      return this.resolve(column, qualifier, scope.parent, here);
    }
    const entries = matching(scope.entries, qualifier);
    if (!entries.length) return this.resolve(column, qualifier, scope.parent, opaque);
    if (column === '*') return max(...entries.map(rowTaint));
    // A column the relation does not have is refused by the server (1054), unless it is one of unknown name.
    return max(...entries.map((e) => (e.cols ? max(0, ...(named(e, column).length ? named(e, column) : unnamed(e)).map((c) => max(c.taint, e.any))) : e.any)));
  }
}
