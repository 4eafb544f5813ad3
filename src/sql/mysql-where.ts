// Whether a MySQL UPDATE or DELETE is bounded by its WHERE. `WHERE true`, `WHERE 1=1`, `WHERE @x` or
// `WHERE id = 1 OR 1` change every row (or none) just as no WHERE does, so `no-unbounded-write` must
// see them: a WHERE bounds a write only when every OR branch of it names a column of the table
// written. The gateway does not evaluate conditions, so a constant WHERE counts as unbounded even
// when it is false; and one that names a column but is true for every row (`id = id`) is not caught.
import type { MysqlCode } from './mysql-code.js';

type Node = Record<string, any>;

/** Why a write changes every row: it has no WHERE, or a WHERE that does not depend on the rows. */
export type MysqlUnbounded = 'no-where' | 'row-independent';

/** The sentence reviewers read for an unbounded write. */
export function unboundedText(why: MysqlUnbounded, command: string, table: string | undefined): string {
  const of = table ?? 'the table';
  if (why === 'no-where') return `${command} without WHERE changes every row of ${of}`;
  return `${command} with a WHERE that names no column of ${of} (or only in some OR branches) changes every row of it, or none`;
}

const lower = (x: unknown) => (typeof x === 'string' ? x.toLowerCase() : '');

/** Names (tables and their aliases) of the tables an UPDATE or DELETE writes. */
function targetsOf(ast: Node): Set<string> {
  const names = new Set<string>((ast.table ?? []).flatMap((t: Node) => [lower(t.table), lower(t.as)]).filter(Boolean));
  for (const f of ast.from ?? []) {
    if (names.has(lower(f.table)) || names.has(lower(f.as))) for (const n of [lower(f.table), lower(f.as)]) if (n) names.add(n);
  }
  return names;
}

/**
 * Whether `e` depends on the rows written: it names one of their columns — unqualified outside a
 * subquery, or qualified by a target's name — in every OR branch.
 */
function dependsOnRows(e: unknown, targets: Set<string>, inSubquery: boolean, memo = new Map<string, WeakMap<object, boolean>>()): boolean {
  if (Array.isArray(e)) return e.some((x) => dependsOnRows(x, targets, inSubquery, memo));
  if (!e || typeof e !== 'object') return false;
  // node-sql-parser shares nodes between fields: remember answers, or nested subqueries cost 2^depth.
  const key = String(inSubquery);
  const known = memo.get(key) ?? new WeakMap<object, boolean>();
  memo.set(key, known);
  if (known.has(e)) return known.get(e)!;
  known.set(e, false);
  const answer = dependsOnNode(e as Node, targets, inSubquery, memo);
  known.set(e, answer);
  return answer;
}

function dependsOnNode(n: Node, targets: Set<string>, inSubquery: boolean, memo: Map<string, WeakMap<object, boolean>>): boolean {
  if (n.type === 'column_ref') {
    if (n.column === '*') return false;
    // An unqualified name inside a subquery is most likely the subquery's own column.
    return n.table ? targets.has(lower(n.table)) : !inSubquery;
  }
  if (n.type === 'binary_expr' && (lower(n.operator) === 'or' || n.operator === '||')) {
    return dependsOnRows(n.left, targets, inSubquery, memo) && dependsOnRows(n.right, targets, inSubquery, memo);
  }
  const sub = inSubquery || n.type === 'select' || 'ast' in n;
  return Object.values(n).some((v) => dependsOnRows(v, targets, sub, memo));
}

/** Why an UPDATE or DELETE (node-sql-parser's tree) changes every row, or null when its WHERE bounds it. */
export function unboundedOfAst(ast: Node): MysqlUnbounded | null {
  if (ast.type !== 'update' && ast.type !== 'delete') return null;
  if (!ast.where) return 'no-where';
  return dependsOnRows(ast.where, targetsOf(ast), false) ? null : 'row-independent';
}

// Words in a condition that are no column: literals, operators, interval units.
const NOT_COLUMNS = new Set(
  `TRUE FALSE NULL UNKNOWN AND OR XOR NOT IS IN LIKE BETWEEN DIV MOD REGEXP RLIKE ESCAPE BINARY INTERVAL CASE WHEN THEN ELSE
  END EXISTS SOUNDS COLLATE \\N MICROSECOND SECOND MINUTE HOUR DAY WEEK MONTH QUARTER YEAR`.split(/\s+/).filter(Boolean),
);

/**
 * The same question from the tokens of a DELETE or UPDATE node-sql-parser cannot read: does every OR
 * branch of its WHERE (the first outside parentheses) name something that is not a literal, operator,
 * function, variable or subquery?
 */
export function unboundedOfTokens(code: MysqlCode): MysqlUnbounded | null {
  const where = code.find(0, ['WHERE']);
  if (where < 0) return 'no-where';
  const stop = code.find(where + 1, ['ORDER', 'LIMIT', 'RETURNING']);
  const end = stop < 0 ? code.end(where) : stop;
  let named = false;
  let depth = 0;
  for (let k = where + 1; k < end; k++) {
    if (code.op(k, '(') && code.is(k + 1, 'SELECT', 'WITH')) {
      k = code.afterParens(k) - 1;
      continue;
    }
    if (code.op(k, '(')) depth++;
    else if (code.op(k, ')')) depth--;
    const pipes = code.op(k, '|') && code.op(k + 1, '|');
    if (depth === 0 && (code.is(k, 'OR') || pipes)) {
      if (!named) return 'row-independent';
      named = false;
      if (pipes) k++;
      continue;
    }
    const type = code.token(k)?.type;
    const variable = code.op(k - 1, '@');
    if (type === 'quoted-identifier' && !variable) named = true;
    if (type === 'word' && !variable && !code.op(k + 1, '(') && !NOT_COLUMNS.has(code.word(k)!)) named = true;
  }
  return named ? null : 'row-independent';
}
