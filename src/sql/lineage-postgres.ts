// Column lineage on PostgreSQL's parse tree: which output columns of a statement carry data of a
// masked column — directly, transformed (replace(email, ...), email || 'x', encode(...)), through
// `*`, a whole-row reference, a subquery, a CTE, a view (its definition is read from the target) or
// an aggregate — and whether the statement reads masked data anywhere (then its error and notice
// texts are withheld). Where the dependency cannot be determined (a user function, an unknown
// relation, a statement after DDL in the same input), the taint is `unknown`.
import { parseSync } from 'libpg-query';
import { figureColname } from './postgres-colname.js';
import type { Node } from './postgres-commands.js';

/** 0 clean, 1 carries masked data, 2 cannot be determined. */
import { COUNTING, MAX_VIEW_DEPTH, max, raise, rowTaint, top, type Col, type Output, type Taint } from './lineage-taint.js';

export type { Taint };

/** What the target's catalog says of a relation. */
export interface RelationInfo {
  schema: string;
  name: string;
  /** pg_class.relkind: r table, v view, m materialized view, p partitioned, f foreign... */
  kind: string;
  columns: string[];
  /** The view's definition (pg_get_viewdef), for views and materialized views. */
  definition?: string | null;
  /** The tables it is a partition or an inheritance child of, nearest first. */
  ancestors?: string[];
}

export interface LineageCatalog {
  /** The relation a (possibly qualified) name resolves to on the target, or undefined. */
  relation(parts: string[]): RelationInfo | undefined;
}

export interface LineageOptions {
  /** True when the connection masks `column` (of `relation`, when known). */
  isMaskedColumn(column: string, relation?: string): boolean;
  /** True for built-in functions whose result depends only on their arguments. */
  isSafeFunction(name: string): boolean;
  catalog: LineageCatalog;
}

export interface StatementLineage {
  /** The taint of each output column, or null when the statement's columns cannot be mapped one by one. */
  outputs: Taint[] | null;
  /** The strongest taint of any output column (also when they cannot be mapped). */
  outputMax: Taint;
  /** The strongest taint of anything the statement reads (for its error and notice texts). */
  reads: Taint;
  /** Why something is `unknown`, for reviewers. */
  why: string[];
}


interface Entry {
  /**
   * The names a column reference may qualify it with (alias, or relation and schema.relation), their
   * parts joined by QUAL: an alias "public.users" is one part, not the relation users of public.
   */
  names: string[];
  /** Its columns; null when unknown (then every column has taint `any`). */
  cols: Col[] | null;
  any: Taint;
  /** False for the sides of a USING/NATURAL join: `*` takes the join's merged columns instead. */
  star?: boolean;
  /** True when its column names come from the target's catalog, not from the gateway's reading. */
  catalog?: boolean;
}

interface Scope {
  entries: Entry[];
  /** CTEs by name: their columns (null when not mappable) and the taint of the unmappable ones. */
  ctes: Map<string, { cols: Col[] | null; any: Taint }>;
  parent?: Scope;
}

const str = (n: Node | undefined): string | undefined => n?.String?.sval;
/** Joins the parts of a qualified name; no identifier can hold it. */
const QUAL = '\u0000';
// System relations whose columns hold values of every column (the planner's samples).
const STATISTICS = new Set(['pg_statistic', 'pg_stats', 'pg_statistic_ext_data', 'pg_stats_ext', 'pg_stats_ext_exprs']);


/**
 * A recursive CTE's SEARCH and CYCLE clauses add columns that hold the values of the columns they
 * name (the ordering path, the cycle path): they carry what those carry.
 */
function withSearchAndCycle(cte: Node, result: { cols: Col[] | null; any: Taint }): { cols: Col[] | null; any: Taint } {
  const added: { name: string; of: string[] }[] = [];
  const search = cte.search_clause;
  if (search?.search_seq_column) added.push({ name: search.search_seq_column, of: (search.search_col_list ?? []).map(str) });
  const cycle = cte.cycle_clause;
  if (cycle?.cycle_mark_column) added.push({ name: cycle.cycle_mark_column, of: [] });
  if (cycle?.cycle_path_column) added.push({ name: cycle.cycle_path_column, of: (cycle.cycle_col_list ?? []).map(str) });
  if (!added.length) return result;
  if (!result.cols) return result;
  const taintOf = (names: string[]) => max(...names.map((n) => result.cols!.find((c) => c.name === n)?.taint ?? 2));
  return { cols: [...result.cols, ...added.map((a) => ({ name: a.name, taint: taintOf(a.of) }))], any: result.any };
}

/** The columns `*` takes from some entries, with their taints; null when any has unknown columns. */
function starColumns(entries: Entry[]): Col[] | null {
  const shown = entries.filter((e) => e.star !== false);
  return shown.every((e) => e.cols) ? shown.flatMap((e) => e.cols!.map((c) => ({ name: c.name, taint: max(c.taint, e.any) }))) : null;
}

/**
 * The entries of a USING or NATURAL join (`using` null): both sides stay for qualified references,
 * and `*` takes the join's columns as PostgreSQL lists them — the merged columns first, once, then
 * the rest of each side.
 */
function mergeJoin(left: Entry[], right: Entry[], using: (string | undefined)[] | null): Entry[] {
  const sides = [...left, ...right].map((e) => ({ ...e, star: false }));
  const catalog = sides.every((e) => e.catalog);
  const l = starColumns(left);
  const r = starColumns(right);
  if (!l || !r) {
    const known = [...(l ?? []), ...(r ?? [])].map((c) => c.taint);
    return [...sides, { names: [], cols: null, any: max(...sides.map((e) => e.any), ...known) }];
  }
  const names = using ? using.filter((n): n is string => Boolean(n)) : l.map((c) => c.name).filter((n) => r.some((c) => c.name === n));
  const taintOf = (n: string) => max(...[...l, ...r].filter((c) => c.name === n).map((c) => c.taint));
  const cols = [...names.map((n) => ({ name: n, taint: taintOf(n) })), ...l.filter((c) => !names.includes(c.name)), ...r.filter((c) => !names.includes(c.name))];
  return [...sides, { names: [], cols, any: 0, catalog }];
}

/** Lineage of PostgreSQL statements against one catalog. */
export class PostgresLineage {
  private readonly why: string[] = [];
  private readonly views = new Map<string, Col[] | null>();
  private depth = 0;

  constructor(private readonly opts: LineageOptions) {}

  private unknown(reason: string): Taint {
    if (!this.why.includes(reason) && this.why.length < 20) this.why.push(reason);
    return 2;
  }

  /** The lineage of one top-level statement (`type` is its node type). */
  statement(type: string, node: Node): StatementLineage {
    this.why.length = 0;
    const reads = { taint: 0 as Taint };
    let outputs: Output | null = null;
    const root: Scope = { entries: [], ctes: new Map() };
    if (type === 'SelectStmt') outputs = this.select(node, root, reads);
    else if (type === 'InsertStmt' || type === 'UpdateStmt' || type === 'DeleteStmt' || type === 'MergeStmt') outputs = this.dml(type, node, root, reads);
    else if (type === 'ExplainStmt') {
      const [innerType, inner] = Object.entries(node.query ?? {})[0] ?? ['', {}];
      reads.taint = this.statement(innerType, inner as Node).reads;
      outputs = { cols: [{ name: 'QUERY PLAN', taint: 0 }], mappable: true };
    } else if (type === 'VariableShowStmt') outputs = { cols: [{ name: String(node.name ?? 'setting'), taint: 0 }], mappable: true };
    else if (type === 'CreateTableAsStmt') {
      const [innerType, inner] = Object.entries(node.query ?? {})[0] ?? ['', {}];
      reads.taint = this.statement(innerType, inner as Node).reads;
    } else {
      reads.taint = this.otherReads(type, node);
    }
    // Rows of a statement the lineage does not model (FETCH, EXECUTE, CALL...) are as strong as what it reads.
    const outputMax: Taint = outputs ? top(outputs) : reads.taint;
    return { outputs: outputs?.mappable ? outputs.cols.map((c) => c.taint) : null, outputMax, reads: max(reads.taint, outputMax), why: [...this.why] };
  }

  /** What a statement the lineage does not model reads: the masked columns of the relations it names. */
  private otherReads(type: string, node: Node): Taint {
    if (['DoStmt', 'CallStmt', 'ExecuteStmt', 'FetchStmt', 'CopyStmt'].includes(type)) return this.unknown(`${type.replace(/Stmt$/, '').toUpperCase()} runs code or reads data the gateway cannot trace`);
    let taint: Taint = 0;
    const visit = (n: unknown): void => {
      if (Array.isArray(n)) return n.forEach(visit);
      if (!n || typeof n !== 'object') return;
      for (const [k, v] of Object.entries(n as Node)) {
        if ((k === 'RangeVar' || k === 'relation') && v && typeof v === 'object' && 'relname' in v) {
          const rel = this.relationEntry(v as Node, new Map());
          taint = max(taint, rowTaint(rel));
        }
        visit(v);
      }
    };
    visit(node);
    return taint;
  }

  private dml(type: string, node: Node, scope: Scope, reads: { taint: Taint }): Output | null {
    const local: Scope = { entries: [], ctes: new Map(scope.ctes) };
    if (node.withClause) this.withClause(node.withClause, local, reads);
    const target = this.relationEntry(node.relation, local.ctes);
    local.entries.push(target);
    // Any error of a write to a table with masked columns may quote the row (DETAIL: Failing row contains ...).
    raise(reads, rowTaint(target));
    for (const item of [...(node.fromClause ?? []), ...(node.usingClause ?? [])]) local.entries.push(...this.fromItem(item, local, reads));
    if (node.sourceRelation) local.entries.push(...this.fromItem(node.sourceRelation, local, reads));
    for (const key of ['whereClause', 'joinCondition']) if (node[key]) raise(reads, this.expr(node[key], local, reads));
    // What is written into each column: RETURNING shows the new row, not the old one.
    const written = this.written(type, node, target, local, reads);
    const after: Entry = {
      ...target,
      cols: target.cols ? target.cols.map((c) => ({ ...c, taint: max(c.taint, written.cols.get(c.name) ?? 0) })) : null,
      any: max(target.any, written.any),
    };
    const returning = node.returningClause?.exprs ?? node.returningList;
    if (!returning) return null;
    return this.targets(returning, { ...local, entries: [after, ...local.entries.slice(1)] }, reads);
  }

  /** The taint of what an INSERT, UPDATE or MERGE writes into each column (`any`: into columns it cannot name). */
  private written(type: string, node: Node, target: Entry, scope: Scope, reads: { taint: Taint }): { cols: Map<string, Taint>; any: Taint } {
    const cols = new Map<string, Taint>();
    let any: Taint = 0;
    const write = (name: string | undefined, t: Taint) => {
      raise(reads, t);
      if (name === undefined) any = max(any, t);
      else cols.set(name, max(cols.get(name) ?? 0, t));
    };
    const assign = (list: Node[] | undefined, sc: Scope) => {
      for (const item of list ?? []) {
        const rt = item.ResTarget as Node;
        write(rt.name, this.expr(rt.val?.MultiAssignRef ? rt.val.MultiAssignRef.source : rt.val, sc, reads));
      }
    };
    const insert = (names: (string | undefined)[] | null, values: Output | null) => {
      if (!values) return;
      if (names && values.mappable && values.cols.length <= names.length) values.cols.forEach((c, i) => write(names[i], c.taint));
      else write(undefined, top(values));
    };
    const targetNames = (list: Node[] | undefined) => (list?.length ? list.map((i) => i.ResTarget?.name as string | undefined) : target.cols?.map((c) => c.name) ?? null);
    if (type === 'UpdateStmt') assign(node.targetList, scope);
    if (type === 'InsertStmt') {
      insert(targetNames(node.cols), node.selectStmt ? this.select(node.selectStmt.SelectStmt ?? {}, scope, reads) : null);
      const conflict = node.onConflictClause;
      if (conflict) {
        // ON CONFLICT DO UPDATE may copy the proposed row (`excluded`) into the existing one.
        const excluded: Entry = { names: ['excluded'], cols: target.cols ? target.cols.map((c) => ({ ...c, taint: max(c.taint, cols.get(c.name) ?? 0, any) })) : null, any: max(target.any, any) };
        const sc = { ...scope, entries: [...scope.entries, excluded] };
        assign(conflict.targetList, sc);
        if (conflict.whereClause) raise(reads, this.expr(conflict.whereClause, sc, reads));
      }
    }
    if (type === 'MergeStmt') {
      for (const item of node.mergeWhenClauses ?? []) {
        const when = item.MergeWhenClause as Node;
        if (when.condition) raise(reads, this.expr(when.condition, scope, reads));
        if (when.commandType === 'CMD_UPDATE') assign(when.targetList, scope);
        if (when.commandType === 'CMD_INSERT') {
          const values: Node[] = when.values ?? [];
          insert(targetNames(when.targetList), { cols: values.map((v, i) => ({ name: `v${i}`, taint: this.expr(v, scope, reads) })), mappable: true });
        }
      }
    }
    return { cols, any };
  }

  private withClause(withClause: Node, scope: Scope, reads: { taint: Taint }): void {
    const ctes: Node[] = (withClause.ctes ?? []).map((item: Node) => item.CommonTableExpr as Node);
    const run = (cte: Node): { cols: Col[] | null; any: Taint } => {
      const [qType, query] = Object.entries(cte.ctequery ?? {})[0] ?? ['', {}];
      const out = qType === 'SelectStmt' ? this.select(query as Node, scope, reads) : this.dml(qType, query as Node, scope, reads);
      if (!out) return { cols: [], any: 0 };
      const cols = out.mappable ? out.cols.map((c, i) => ({ ...c, name: str(cte.aliascolnames?.[i]) ?? c.name })) : null;
      return withSearchAndCycle(cte, { cols, any: out.mappable ? 0 : top(out) });
    };
    if (!withClause.recursive) {
      for (const cte of ctes) scope.ctes.set(String(cte.ctename), run(cte));
      return;
    }
    // WITH RECURSIVE: every CTE sees itself and every other one, also those written after it. Start
    // from clean columns of unknown number and run them all again until their taints hold still (a
    // value may move one column, or one CTE, per round).
    for (const cte of ctes) scope.ctes.set(String(cte.ctename), { cols: null, any: 0 });
    for (let round = 0; round < 32; round++) {
      let changed = false;
      for (const cte of ctes) {
        const name = String(cte.ctename);
        const before = scope.ctes.get(name)!;
        const next = run(cte);
        const merged: { cols: Col[] | null; any: Taint } =
          before.cols && next.cols && before.cols.length === next.cols.length
            ? { cols: next.cols.map((c, i) => ({ name: c.name, taint: max(c.taint, before.cols![i].taint) })), any: max(before.any, next.any) }
            : !before.cols && next.cols
              ? { cols: next.cols.map((c) => ({ ...c, taint: max(c.taint, before.any) })), any: next.any }
              : { cols: null, any: max(before.any, next.any, ...(before.cols ?? []).map((c) => c.taint), ...(next.cols ?? []).map((c) => c.taint)) };
        if (JSON.stringify(merged) !== JSON.stringify(before)) changed = true;
        scope.ctes.set(name, merged);
      }
      if (!changed && round > 0) break;
    }
  }

  /** Output columns of a SELECT; adds what it reads to `reads`. */
  select(node: Node, parent: Scope, reads: { taint: Taint }): Output {
    const scope: Scope = { entries: [], ctes: new Map(parent.ctes), parent };
    if (node.withClause) this.withClause(node.withClause, scope, reads);
    // LIMIT and OFFSET cannot name a column, but a subquery in them reads.
    for (const key of ['limitCount', 'limitOffset']) if (node[key]) raise(reads, this.expr(node[key], scope, reads));
    let out: Output;
    if (node.op && node.op !== 'SETOP_NONE') {
      const l = this.select(node.larg ?? {}, scope, reads);
      const r = this.select(node.rarg ?? {}, scope, reads);
      out =
        !l.mappable || !r.mappable || l.cols.length !== r.cols.length
          ? { cols: [{ name: '*', taint: max(top(l), top(r)) }], mappable: false }
          : { cols: l.cols.map((c, i) => ({ name: c.name, taint: max(c.taint, r.cols[i].taint) })), mappable: true };
    } else if (node.valuesLists) {
      const rows: Node[][] = node.valuesLists.map((v: Node) => v.List?.items ?? []);
      const width = rows[0]?.length ?? 0;
      out = { cols: Array.from({ length: width }, (_, i) => ({ name: `column${i + 1}`, taint: max(...rows.map((row) => this.expr(row[i], scope, reads))) })), mappable: true };
    } else {
      for (const item of node.fromClause ?? []) scope.entries.push(...this.fromItem(item, scope, reads));
      for (const key of ['whereClause', 'havingClause']) if (node[key]) raise(reads, this.expr(node[key], scope, reads));
      out = this.targets(node.targetList ?? [], scope, reads);
    }
    // ORDER BY, GROUP BY, DISTINCT ON and windows may name an output column (SELECT email AS e ...
    // ORDER BY e; ORDER BY of a set operation or VALUES names only those): a bare name is looked up
    // in both, and the stronger taint counts.
    const keys = ['sortClause', 'groupClause', 'distinctClause', 'windowClause'].filter((key) => node[key]);
    if (keys.length) {
      const named: Entry = out.mappable ? { names: [], cols: out.cols, any: 0 } : { names: [], cols: null, any: top(out) };
      const byName: Scope = { ...scope, entries: [...scope.entries, named] };
      for (const key of keys) raise(reads, this.expr(node[key], byName, reads));
    }
    return out;
  }

  private targets(list: Node[], scope: Scope, reads: { taint: Taint }): Output {
    const out: Col[] = [];
    let mappable = true;
    for (const item of list) {
      const rt = item.ResTarget as Node;
      const fields: Node[] | undefined = rt.val?.ColumnRef?.fields;
      if (fields && fields.at(-1)?.A_Star) {
        const qualifier = fields.slice(0, -1).map(str).join(QUAL);
        const entries = qualifier ? scope.entries.filter((e) => e.names.includes(qualifier)) : scope.entries.filter((e) => e.star !== false);
        if (qualifier && entries.length === 0) {
          mappable = false;
          out.push({ name: '*', taint: this.unknown(`${qualifier.replaceAll(QUAL, '.')}.* names nothing the gateway knows`) });
        }
        for (const e of entries) {
          if (e.cols) out.push(...e.cols.map((c) => ({ ...c, taint: max(c.taint, e.any) })));
          else {
            // Columns of unknown number (a function in FROM), each carrying what the entry carries.
            mappable = false;
            out.push({ name: '*', taint: e.any });
          }
        }
        continue;
      }
      const taint = this.expr(rt.val, scope, reads);
      out.push({ name: rt.name ?? figureColname(rt.val), taint });
    }
    reads.taint = max(reads.taint, ...out.map((c) => c.taint));
    return { cols: out, mappable };
  }

  private fromItem(item: Node, scope: Scope, reads: { taint: Taint }): Entry[] {
    const [type, node] = Object.entries(item)[0] as [string, Node];
    const alias = node.alias?.aliasname as string | undefined;
    const renamed = (cols: Col[] | null): Col[] | null =>
      cols && node.alias?.colnames ? cols.map((c, i) => ({ ...c, name: str(node.alias.colnames[i]) ?? c.name })) : cols;
    if (type === 'RangeVar') {
      const e = this.relationEntry(node, scope.ctes);
      return [{ ...e, cols: renamed(e.cols) }];
    }
    if (type === 'RangeSubselect') {
      const out = this.select(node.subquery?.SelectStmt ?? {}, node.lateral ? scope : { ...scope, entries: [] }, reads);
      return [{ names: alias ? [alias] : [], cols: out.mappable ? renamed(out.cols) : null, any: out.mappable ? 0 : top(out) }];
    }
    if (type === 'JoinExpr') {
      const left = this.fromItem(node.larg, scope, reads);
      // A LATERAL subquery or a function on the right sees the left side's columns.
      const right = this.fromItem(node.rarg, { ...scope, entries: [...scope.entries, ...left] }, reads);
      let both = [...left, ...right];
      if (node.quals) raise(reads, this.expr(node.quals, { ...scope, entries: [...scope.entries, ...both] }, reads));
      if (node.usingClause || node.isNatural) both = mergeJoin(left, right, node.usingClause ? node.usingClause.map(str) : null);
      if (!alias) return both;
      const shown = both.filter((e) => e.star !== false);
      const cols = shown.every((e) => e.cols) ? shown.flatMap((e) => e.cols!) : null;
      return [...both.map((e) => ({ ...e, names: [], star: false })), { names: [alias], cols: renamed(cols), any: max(...both.map((e) => e.any)) }];
    }
    if (type === 'RangeFunction' || type === 'RangeTableFunc' || type === 'JsonTable' || type === 'RangeTableSample') {
      if (type === 'RangeTableSample') return this.fromItem(node.relation, scope, reads);
      // Every column of a function in FROM carries what its arguments carry; an XMLTABLE or
      // JSON_TABLE column also what its PATH and DEFAULT expressions read.
      const taint = this.expr(type === 'RangeFunction' ? node.functions : { ...node, alias: undefined }, scope, reads);
      raise(reads, taint);
      const names = alias ? [alias] : [];
      const fn: string | undefined = str(node.functions?.[0]?.List?.items?.[0]?.FuncCall?.funcname?.at(-1));
      if (!alias && fn) names.push(fn);
      return [{ names, cols: null, any: taint }];
    }
    return [{ names: alias ? [alias] : [], cols: null, any: this.unknown(`${type} in FROM`) }];
  }

  /** An entry for a relation name: a CTE of the scope, or what the catalog says of it. */
  private relationEntry(rv: Node, ctes: Scope['ctes']): Entry {
    const parts = [rv.catalogname, rv.schemaname, rv.relname].filter(Boolean) as string[];
    const alias: string | undefined = rv.alias?.aliasname;
    if (parts.length === 1 && ctes.has(parts[0])) {
      const cte = ctes.get(parts[0])!;
      return { names: [alias ?? parts[0]], cols: cte.cols, any: cte.any };
    }
    const info = this.opts.catalog.relation(parts);
    const names = alias ? [alias] : [parts.at(-1)!, parts.slice(-2).join(QUAL), parts.join(QUAL)];
    if (!info) return { names, cols: null, any: this.unknown(`${parts.join('.')} is not a relation the gateway could look up`) };
    return { names, cols: this.relationColumns(info), any: 0, catalog: true };
  }

  private relationColumns(info: RelationInfo): Col[] | null {
    // A partition or an inheritance child holds its parent's columns: `accounts.email` covers them too.
    const masked = (c: string) => [info.name, ...(info.ancestors ?? [])].some((r) => this.opts.isMaskedColumn(c, r));
    if (info.schema === 'pg_catalog' && STATISTICS.has(info.name)) return info.columns.map((name) => ({ name, taint: 1 }));
    if (info.kind !== 'v' && info.kind !== 'm') return info.columns.map((name) => ({ name, taint: masked(name) ? 1 : 0 }));
    const key = `${info.schema}.${info.name}`;
    if (!this.views.has(key)) {
      this.views.set(key, null); // a view that reaches itself stays unknown
      this.views.set(key, this.viewColumns(info));
    }
    const cols = this.views.get(key) ?? null;
    return cols ? cols.map((c) => ({ ...c, taint: max(c.taint, masked(c.name) ? 1 : 0) })) : null;
  }

  /** A view's columns, by reading its definition as the target prints it. */
  private viewColumns(info: RelationInfo): Col[] | null {
    if (!info.definition || this.depth >= MAX_VIEW_DEPTH) {
      this.unknown(`the definition of view ${info.schema}.${info.name} could not be read`);
      return null;
    }
    let stmt: Node | undefined;
    try {
      stmt = (parseSync(info.definition) as unknown as { stmts: { stmt: Node }[] }).stmts[0]?.stmt;
    } catch {
      stmt = undefined;
    }
    if (!stmt?.SelectStmt) {
      this.unknown(`the definition of view ${info.schema}.${info.name} could not be read`);
      return null;
    }
    this.depth++;
    try {
      const out = this.select(stmt.SelectStmt, { entries: [], ctes: new Map() }, { taint: 0 });
      const cols = out.mappable ? out.cols : null;
      if (!cols || cols.length !== info.columns.length) {
        this.unknown(`the columns of view ${info.schema}.${info.name} could not be traced`);
        return null;
      }
      return cols.map((c, i) => ({ name: info.columns[i], taint: c.taint }));
    } finally {
      this.depth--;
    }
  }

  /** The taint of an expression (any subtree), adding what subqueries read to `reads`. */
  expr(node: unknown, scope: Scope, reads: { taint: Taint }): Taint {
    if (Array.isArray(node)) return max(...node.map((n) => this.expr(n, scope, reads)));
    if (!node || typeof node !== 'object') return 0;
    const n = node as Node;
    if (n.ColumnRef) return this.columnRef(n.ColumnRef.fields ?? [], scope);
    if (n.FuncCall) {
      const fc = n.FuncCall as Node;
      const name = (fc.funcname ?? []).map(str).join('.');
      const args = this.expr([fc.args, fc.agg_order, fc.agg_filter, fc.over], scope, reads);
      const bare = name.replace(/^pg_catalog\./, '');
      if (COUNTING.has(bare)) {
        // count() shows how many, not what: its output is clean, but what it reads still counts for errors.
        raise(reads, args);
        return 0;
      }
      if (!this.opts.isSafeFunction(name)) return max(args, this.unknown(`${name}() may return data the gateway cannot trace`));
      return args;
    }
    if (n.SubLink) {
      const sl = n.SubLink as Node;
      const out = this.select(sl.subselect?.SelectStmt ?? {}, scope, reads);
      const test = this.expr(sl.testexpr, scope, reads);
      if (sl.subLinkType === 'EXPR_SUBLINK' || sl.subLinkType === 'ARRAY_SUBLINK' || sl.subLinkType === 'MULTIEXPR_SUBLINK') return max(test, top(out));
      return test;
    }
    if (n.SelectStmt) {
      raise(reads, top(this.select(n.SelectStmt, scope, reads)));
      return 0;
    }
    return max(...Object.values(n).map((v) => this.expr(v, scope, reads)));
  }

  /**
   * `opaque`: the taint of relations of unknown columns met in inner scopes (one of them may hold
   * it); `guessed`: a subquery or CTE was met whose column names the gateway worked out itself.
   */
  private columnRef(fields: Node[], scope: Scope | undefined, opaque: Taint | null = null, guessed = false): Taint {
    const names = fields.map((f) => (f.A_Star ? '*' : str(f) ?? ''));
    if (!scope) {
      // A name no relation of the scope has: PostgreSQL refuses a misspelt column (42703), but the
      // gateway's reading of the scope may be what is wrong, so it is not taken for clean.
      if (opaque !== null && !guessed) return opaque;
      return this.unknown(`${names.join('.')} could not be traced`);
    }
    guessed ||= scope.entries.some((e) => e.cols && !e.catalog);
    if (names.length === 1) {
      const [col] = names;
      const holders = scope.entries.filter((e) => e.cols?.some((c) => c.name === col));
      if (holders.length) return max(...holders.map((e) => max(e.any, ...e.cols!.filter((c) => c.name === col).map((c) => c.taint))));
      // A relation of unknown columns may hold it, or an outer query may: the stronger of both.
      const unlisted = scope.entries.filter((e) => !e.cols);
      const here = unlisted.length ? max(opaque ?? 0, ...unlisted.map((e) => e.any)) : opaque;
      // Not a column: a whole-row reference to a relation (SELECT u FROM users u).
      const row = scope.entries.find((e) => e.names.includes(col));
      if (row) return max(here ?? 0, rowTaint(row));
      return this.columnRef(fields, scope.parent, here, guessed);
    }
    const qualifier = names.slice(0, -1).join(QUAL);
    const col = names.at(-1)!;
    const e = scope.entries.find((x) => x.names.includes(qualifier));
    if (!e) return this.columnRef(fields, scope.parent, opaque, guessed);
    if (col === '*') return rowTaint(e);
    if (!e.cols) return e.any;
    const c = e.cols.find((x) => x.name === col);
    // rel.col.field of a composite column is unusual: unknown rather than guessed.
    return c ? max(c.taint, e.any) : this.unknown(`${names.join('.')} could not be traced`);
  }
}
