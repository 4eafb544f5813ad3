// The statements a statement carries inside it, so guardrails see past the top-level command: a
// PREPAREd query and its EXECUTE, writable CTEs, EXPLAIN ANALYZE's statement, CREATE RULE actions,
// SQL and PL/pgSQL function bodies created in the same input, static SQL in DO blocks, and string
// literals run by EXECUTE. What cannot be seen before it runs (a computed string, another language,
// a statement prepared earlier) is named as unchecked, so reviewers are warned and a guardrail can
// deny it.
import { parsePlPgSQLSync, parseSync } from 'libpg-query';
import { commandOf, unboundedWriteOf, walk, type Node } from './postgres-commands.js';
import type { NestedStatement } from './types.js';

export interface NestedFindings {
  nested: NestedStatement[];
  /** Why part of the statement's SQL cannot be checked before it runs. */
  unchecked: string[];
}

/** Prepared statements of the same input, by name, for a later EXECUTE. */
export type PreparedStatements = Map<string, NestedStatement[]>;

// Functions that run SQL given to them as text.
const SQL_RUNNING_FUNCTIONS = new Set([
  'dblink', 'dblink_exec', 'dblink_open', 'dblink_send_query', 'dblink_fetch', 'query_to_xml', 'query_to_xmlschema',
  'query_to_xml_and_xmlschema', 'pg_background_launch',
]);
const COMPILED_LANGUAGES = new Set(['c', 'internal']);
const MAX_DEPTH = 4;

const isUnbounded = (type: string, node: Node): boolean => unboundedWriteOf(type, node) !== null;

function defElem(options: Node[] | undefined, name: string): Node | undefined {
  return (options ?? []).map((o) => o.DefElem).find((d: Node | undefined) => d?.defname === name);
}

/** A dollar-quote tag that does not occur in `body`. */
function dollarTag(body: string): string {
  let n = 0;
  while (body.includes(`$hoop${n}$`)) n++;
  return `$hoop${n}$`;
}

function into(out: NestedFindings, more: NestedFindings): void {
  out.nested.push(...more.nested);
  out.unchecked.push(...more.unchecked);
}

/** Findings of every statement of `sql` (used for bodies and string literals). */
function ofText(sql: string, depth: number, where: string): NestedFindings {
  const out: NestedFindings = { nested: [], unchecked: [] };
  if (depth > MAX_DEPTH) {
    out.unchecked.push(`${where} nests SQL deeper than the gateway follows`);
    return out;
  }
  let stmts: { stmt: Node }[];
  try {
    stmts = (parseSync(sql) as unknown as { stmts?: { stmt: Node }[] }).stmts ?? [];
  } catch {
    out.unchecked.push(`${where} holds SQL that does not parse`);
    return out;
  }
  const prepared: PreparedStatements = new Map();
  for (const { stmt } of stmts) {
    const [type, node] = Object.entries(stmt)[0] as [string, Node];
    if (type !== 'SelectStmt') out.nested.push({ command: commandOf(type, node), unboundedWrite: isUnbounded(type, node) });
    into(out, nestedOf(type, node, prepared, depth + 1));
  }
  return out;
}

/** The string of a PL/pgSQL expression that is a plain literal ('...' or $$...$$), else null. */
function literalOf(expression: string): string | null {
  try {
    const stmts = (parseSync(`SELECT ${expression}`) as unknown as { stmts?: { stmt: Node }[] }).stmts ?? [];
    const target = stmts.length === 1 ? stmts[0].stmt.SelectStmt?.targetList : undefined;
    const value = target?.length === 1 ? target[0].ResTarget?.val?.A_Const?.sval?.sval : undefined;
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

/** Every SQL statement and dynamic EXECUTE inside a parsed PL/pgSQL function. */
function ofPlpgsql(tree: unknown, depth: number, where: string): NestedFindings {
  const out: NestedFindings = { nested: [], unchecked: [] };
  const visit = (node: unknown, key?: string): void => {
    if (Array.isArray(node)) return node.forEach((n) => visit(n));
    if (!node || typeof node !== 'object') return;
    const n = node as Node;
    const expr = n.PLpgSQL_expr as Node | undefined;
    if (expr && typeof expr.query === 'string') {
      const query: string = expr.query;
      if (key === 'dynquery' || key === 'query_dyn' || (key === 'query' && expr.parseMode !== 0)) {
        // EXECUTE <expression>: checkable only when the expression is a literal string.
        const literal = literalOf(query);
        if (literal === null) out.unchecked.push(`${where} runs SQL built at run time (EXECUTE ${query.slice(0, 80)})`);
        else into(out, ofText(literal, depth + 1, where));
      } else if (expr.parseMode === 0) {
        into(out, ofText(query, depth + 1, where));
      } else {
        // An expression or an assignment `target := expression`: read as a SELECT of it.
        const assigned = expr.parseMode >= 3 ? query.slice(query.indexOf(':=') >= 0 ? query.indexOf(':=') + 2 : query.indexOf('=') + 1) : query;
        into(out, ofText(`SELECT ${assigned}`, depth + 1, where));
      }
      return;
    }
    for (const [k, v] of Object.entries(n)) visit(v, k);
  };
  visit(tree);
  return out;
}

function ofPlpgsqlText(createFunction: string, depth: number, where: string): NestedFindings {
  try {
    return ofPlpgsql(parsePlPgSQLSync(createFunction), depth, where);
  } catch (error) {
    return { nested: [], unchecked: [`${where} could not be read (${(error as Error).message})`] };
  }
}

/** The body of a DO block, or of a function created in the same input. */
function ofBody(language: string, body: string, depth: number, where: string, createFunction?: string): NestedFindings {
  if (language === 'plpgsql') {
    const tag = dollarTag(body);
    return ofPlpgsqlText(createFunction ?? `CREATE FUNCTION pg_temp.hoop_do() RETURNS void LANGUAGE plpgsql AS ${tag}${body}${tag}`, depth, where);
  }
  if (language === 'sql') return ofText(body, depth, where);
  if (COMPILED_LANGUAGES.has(language)) return { nested: [], unchecked: [] };
  return { nested: [], unchecked: [`${where} is written in ${language}, which the gateway cannot read`] };
}

/**
 * The statements inside one top-level statement (not the statement itself) and what of it cannot
 * be checked. `prepared` collects PREPAREs so a later EXECUTE of the same input is seen through;
 * `text` is the statement's own text (needed to read a PL/pgSQL function body as PostgreSQL does).
 */
export function nestedOf(type: string, node: Node, prepared: PreparedStatements, depth = 0, text?: string): NestedFindings {
  const out: NestedFindings = { nested: [], unchecked: [] };
  walk(node, (innerType, inner) => {
    if (/Stmt$/.test(innerType) && innerType !== 'SelectStmt') out.nested.push({ command: commandOf(innerType, inner), unboundedWrite: isUnbounded(innerType, inner) });
    if (innerType === 'FuncCall') {
      const name = (inner.funcname ?? []).map((p: Node) => p.String?.sval).filter(Boolean).at(-1);
      if (SQL_RUNNING_FUNCTIONS.has(name)) out.unchecked.push(`${name}() runs SQL given to it as text`);
    }
  });
  // Statements that drop tables without saying DROP TABLE: guardrails on DROP TABLE see them too.
  // (DROP TYPE … CASCADE drops the typed tables and the columns of that type.)
  if (type === 'DropOwnedStmt' || (type === 'DropStmt' && node.behavior === 'DROP_CASCADE' && ['OBJECT_SCHEMA', 'OBJECT_EXTENSION', 'OBJECT_TYPE', 'OBJECT_DOMAIN', 'OBJECT_COLLATION'].includes(node.removeType))) {
    out.nested.push({ command: 'DROP TABLE', unboundedWrite: false });
  }
  // A MERGE's actions are updates, deletes and inserts: deny:DELETE sees `WHEN MATCHED THEN DELETE`.
  if (type === 'MergeStmt') {
    const actions = new Set((node.mergeWhenClauses ?? []).map((w: Node) => String(w.MergeWhenClause?.commandType ?? '').replace(/^CMD_/, '')));
    for (const action of actions) if (['UPDATE', 'DELETE', 'INSERT'].includes(action as string)) out.nested.push({ command: action as string, unboundedWrite: isUnbounded(type, node) && action !== 'INSERT' });
  }
  if (type === 'CallStmt') {
    const name = (node.funccall?.funcname ?? []).map((p: Node) => p.String?.sval).join('.');
    out.unchecked.push(`CALL ${name} runs a procedure whose statements the gateway cannot see`);
  }
  if (type === 'CopyStmt' && node.is_program) out.unchecked.push(`COPY ${node.is_from ? 'FROM' : 'TO'} PROGRAM runs a shell command on the database server`);
  if (type === 'PrepareStmt' && node.name) prepared.set(String(node.name), out.nested.slice());
  if (type === 'ExecuteStmt') {
    const known = prepared.get(String(node.name));
    if (known) out.nested.push(...known);
    else out.unchecked.push(`EXECUTE ${node.name} runs a statement prepared outside this request`);
  }
  if (type === 'DoStmt') {
    const language = defElem(node.args, 'language')?.arg?.String?.sval ?? 'plpgsql';
    const body = defElem(node.args, 'as')?.arg?.String?.sval ?? '';
    into(out, ofBody(String(language).toLowerCase(), body, depth, 'the DO block'));
  }
  if (type === 'CreateFunctionStmt' && !node.sql_body) {
    const language = String(defElem(node.options, 'language')?.arg?.String?.sval ?? 'sql').toLowerCase();
    const as = defElem(node.options, 'as')?.arg?.List?.items ?? [];
    const body = as[0]?.String?.sval ?? '';
    const name = (node.funcname ?? []).map((p: Node) => p.String?.sval).join('.');
    const where = `the body of ${node.is_procedure ? 'procedure' : 'function'} ${name}`;
    into(out, ofBody(language, body, depth, where, language === 'plpgsql' && text ? text : undefined));
  }
  return out;
}
