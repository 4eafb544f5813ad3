// Classifies PostgreSQL input with PostgreSQL's own parser (libpg-query, wasm). Fail closed: what
// does not parse, or is not known, is `unknown` and never runs without review.
import { loadModule, normalizeSync, parseSync } from 'libpg-query';
import { commandOf, DCL, DDL, DML, SESSION, UTILITY, unboundedWriteOf, walk, type Node } from './postgres-commands.js';
import { nestedOf, type PreparedStatements } from './postgres-nested.js';
import { allowListSet, builtinName, SAFE_FUNCTIONS, SAFE_OPERATORS, SAFE_TYPES } from './safe-functions.js';
import type { ClassifiedStatement, Classification, ClassifyOptions, StatementCalls, StatementKind } from './types.js';

let loaded: Promise<void> | undefined;

/** Loads the parser's wasm module once per process; call before classifyPostgres. */
export function loadPostgresParser(): Promise<void> {
  return (loaded ??= loadModule());
}

/** A qualified name from a list of String nodes, exactly as PostgreSQL resolved its case. */
function qualifiedName(parts: Node[] | undefined): string {
  return (parts ?? []).map((n: Node) => n.String?.sval ?? '').filter(Boolean).join('.');
}

// The operators behind SQL syntax that the raw tree names by keyword.
const SYNTAX_OPERATORS: Record<string, string[]> = {
  AEXPR_BETWEEN: ['>=', '<='], AEXPR_NOT_BETWEEN: ['<', '>'], AEXPR_BETWEEN_SYM: ['>=', '<='], AEXPR_NOT_BETWEEN_SYM: ['<', '>'],
};

interface Findings {
  writes: string[];
  calls: StatementCalls;
  tables: { name: string; at: number }[];
  ctes: Set<string>;
}

function inspect(root: Node): Findings {
  const f: Findings = { writes: [], calls: { functions: [], operators: [], types: [], relations: [] }, tables: [], ctes: new Set() };
  walk(root, (type, value) => {
    if (DML.has(type)) f.writes.push(commandOf(type, value));
    else if (type === 'SelectStmt' && value.intoClause) f.writes.push('SELECT INTO');
    else if (type === 'SelectStmt' && value.lockingClause) f.writes.push('SELECT FOR UPDATE/SHARE');
    else if (type === 'FuncCall') f.calls.functions.push(qualifiedName(value.funcname));
    else if (type === 'A_Expr') f.calls.operators.push(...(SYNTAX_OPERATORS[value.kind] ?? [qualifiedName(value.name)]));
    else if (type === 'SubLink' && value.operName) f.calls.operators.push(qualifiedName(value.operName));
    else if (type === 'SortBy' && value.useOp) f.calls.operators.push(qualifiedName(value.useOp));
    // Every type named anywhere (casts, XMLTABLE and JSON_TABLE columns, XMLSERIALIZE...): a domain's CHECK may call a function.
    else if (type === 'TypeName') f.calls.types.push(qualifiedName(value.names));
    else if (type === 'CommonTableExpr' && value.ctename) f.ctes.add(String(value.ctename).toLowerCase());
    else if (type === 'RangeVar' && value.relname) f.tables.push({ name: [value.schemaname, value.relname].filter(Boolean).join('.'), at: value.location ?? 0 });
    else if (type === 'DropStmt' && ['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE', 'OBJECT_SEQUENCE'].includes(value.removeType)) {
      for (const o of value.objects ?? []) f.tables.push({ name: (o.List?.items ?? []).map((i: Node) => i.String?.sval).filter(Boolean).join('.'), at: 0 });
    }
  });
  // A CTE's name may hide a relation in one scope and not in another: check every name the statement uses.
  f.calls.relations = [...new Set(f.tables.map((t) => t.name))];
  return f;
}

/** What a read calls that is not provably a built-in without side effects (nor allow-listed). */
function notBuiltin(calls: StatementCalls, allow: ReadonlySet<string>): string[] {
  const allowed = (name: string) => allow.has(name) || allow.has(name.replace(/^pg_catalog\./, ''));
  const bad = (names: string[], safe: ReadonlySet<string>, label: (n: string) => string) =>
    [...new Set(names)].filter((name) => {
      const bare = builtinName(name);
      return !(bare !== null && safe.has(bare)) && !allowed(name);
    }).map(label);
  return [
    ...bad(calls.functions, SAFE_FUNCTIONS, (n) => n),
    ...bad(calls.operators, SAFE_OPERATORS, (n) => `the operator ${n}`),
    ...bad(calls.types, SAFE_TYPES, (n) => `a cast to ${n}`),
  ];
}

function classifyNode(type: string, node: Node, allow: ReadonlySet<string>, f: Findings): { kind: StatementKind; reasons: string[]; calls?: StatementCalls } {
  if (type === 'VariableShowStmt') return { kind: 'read', reasons: [], calls: { functions: [], operators: [], types: [], relations: [] } };
  if (type === 'SelectStmt') {
    if (f.writes.length) return { kind: 'write', reasons: [`contains ${[...new Set(f.writes)].join(', ')}`] };
    const unsafe = notBuiltin(f.calls, allow);
    if (unsafe.length) return { kind: 'write', reasons: [`calls ${unsafe.join(', ')}, which may write (allow-list it on the connection if it does not)`] };
    return { kind: 'read', reasons: [], calls: f.calls };
  }
  if (type === 'ExplainStmt') {
    const analyze = (node.options ?? []).some((o: Node) => o.DefElem?.defname === 'analyze' && o.DefElem?.arg?.Boolean?.boolval !== false && o.DefElem?.arg?.String?.sval !== 'false');
    const [innerType, inner] = Object.entries(node.query ?? {})[0] ?? ['', {}];
    if (!analyze) {
      // Planning runs no statement, but it may evaluate immutable functions of constants: those must be built-ins too.
      const unsafe = notBuiltin(f.calls, allow);
      if (unsafe.length) return { kind: 'write', reasons: [`plans a call of ${unsafe.join(', ')}, which planning may run`] };
      return { kind: 'read', reasons: [], calls: f.calls };
    }
    const c = classifyNode(innerType, inner as Node, allow, f);
    return c.kind === 'read' ? c : { kind: c.kind === 'unknown' ? 'unknown' : 'write', reasons: ['EXPLAIN ANALYZE runs the statement', ...c.reasons] };
  }
  if (DML.has(type)) return { kind: 'write', reasons: [] };
  if (type === 'CopyStmt') return { kind: node.is_from ? 'write' : 'utility', reasons: [] };
  if (DDL.has(type)) return { kind: 'ddl', reasons: [] };
  if (DCL.has(type)) return { kind: 'dcl', reasons: [] };
  if (SESSION.has(type)) return { kind: 'session', reasons: [] };
  if (UTILITY.has(type)) return { kind: 'utility', reasons: [] };
  return { kind: 'unknown', reasons: [`${type} is not a statement this gateway knows`] };
}


/** The statement's own text; `bytes` is the whole input's UTF-8 (positions are byte offsets), made once. */
function statementText(bytes: Buffer, stmt: { stmt_location?: number; stmt_len?: number }): string {
  const start = stmt.stmt_location ?? 0;
  const end = stmt.stmt_len ? start + stmt.stmt_len : bytes.length;
  return bytes.subarray(start, end).toString('utf8').trim();
}

/** Splits and classifies PostgreSQL input; never throws on bad SQL (it is `unknown`). */
export function classifyPostgres(sql: string, options: ClassifyOptions = {}): Classification {
  const allow = allowListSet(options.allowFunctions);
  let parsed: { stmts?: { stmt: Node; stmt_location?: number; stmt_len?: number }[] };
  try {
    parsed = parseSync(sql) as unknown as typeof parsed;
  } catch (error) {
    const message = (error as Error).message;
    return {
      dialect: 'postgres',
      parsed: false,
      error: message,
      statements: [{ index: 0, kind: 'unknown', command: 'UNKNOWN', statement: sql.trim(), tables: [], warnings: [`could not be parsed: ${message}`] }],
    };
  }
  const stmts = parsed.stmts ?? [];
  if (options.maxStatements !== undefined && stmts.length > options.maxStatements) {
    return { dialect: 'postgres', parsed: true, tooManyStatements: stmts.length, statements: [] };
  }
  let statements: ClassifiedStatement[];
  try {
    const bytes = Buffer.from(sql, 'utf8');
    const prepared: PreparedStatements = new Map();
    statements = stmts.map((raw, index) => {
      const [type, node] = Object.entries(raw.stmt)[0] as [string, Node];
      const f = inspect(raw.stmt);
      const { kind, reasons, calls } = classifyNode(type, node, allow, f);
      const statement = statementText(bytes, raw);
      const { nested, unchecked } = nestedOf(type, node, prepared, 0, statement);
      // In the order they are written, without the statement's own CTE names.
      const tables = [...new Set(f.tables.sort((a, b) => a.at - b.at).map((t) => t.name).filter((t) => !f.ctes.has(t.toLowerCase())))];
      const command = commandOf(type, node);
      const warnings = [...reasons];
      const unboundedWhy = unboundedWriteOf(type, node);
      const unbounded = unboundedWhy !== null;
      if (unbounded) warnings.unshift(`${command} ${unboundedWhy} changes every row of ${tables[0] ?? 'the table'}`);
      for (const n of nested.filter((x) => x.unboundedWrite)) warnings.push(`contains ${n.command} without WHERE, which changes every row`);
      if (unchecked.length) warnings.push(`contains SQL the guardrails cannot check: ${[...new Set(unchecked)].join('; ')}`);
      if (node.behavior === 'DROP_CASCADE') warnings.push(`${command} ... CASCADE also drops everything that depends on it (tables, views, data)`);
      let normalized = statement;
      try {
        normalized = normalizeSync(statement);
      } catch {
        // keep the text as it is
      }
      return {
        index, kind, command, statement, normalized, tables, warnings, unboundedWrite: unbounded,
        ...(nested.length ? { nested } : {}),
        ...(unchecked.length ? { uncheckedSql: [...new Set(unchecked)] } : {}),
        ...(calls ? { calls } : {}),
      };
    });
  } catch (error) {
    // A tree deeper than the walk can follow (ARRAY[ARRAY[... thousands deep) must not let anything through.
    const message = (error as Error).message;
    return { dialect: 'postgres', parsed: false, error: message, statements: [{ index: 0, kind: 'unknown', command: 'UNKNOWN', statement: sql.trim().slice(0, 4096), tables: [], warnings: [`could not be classified: ${message}`] }] };
  }
  return { dialect: 'postgres', parsed: true, statements };
}

/** The functions, operators, types and relations each statement of `sql` names; null when it does not parse. */
export function callsIn(sql: string): StatementCalls[] | null {
  try {
    const stmts = (parseSync(sql) as unknown as { stmts?: { stmt: Node }[] }).stmts ?? [];
    return stmts.map(({ stmt }) => inspect(stmt).calls);
  } catch {
    return null;
  }
}

/**
 * What `sql` (a view's definition, a policy's expression as `SELECT expr`) calls that is not a
 * side-effect-free built-in nor allow-listed; ['…'] when it does not parse.
 */
export function unsafeCallsIn(sql: string, allowFunctions: readonly string[] = []): string[] {
  let stmts: { stmt: Node }[];
  try {
    stmts = (parseSync(sql) as unknown as { stmts?: { stmt: Node }[] }).stmts ?? [];
  } catch {
    return ['SQL the gateway cannot read'];
  }
  const allow = allowListSet(allowFunctions);
  return [...new Set(stmts.flatMap(({ stmt }) => notBuiltin(inspect(stmt).calls, allow)))];
}
