// The statements inside a MySQL/MariaDB stored program or compound statement (`CREATE PROCEDURE …
// BEGIN … END`, triggers, events, `BEGIN NOT ATOMIC …`, `IF … END IF`), so guardrails see what the
// program runs when it is created, not only when someone calls it. The server reads such a statement
// up to its END, past the `;` inside; the gateway's split cuts at every `;`, so the body is read here
// from the tokens to the end of the input. Control flow (labels, IF/ELSEIF/CASE/WHEN conditions,
// loops, DECLARE) is stepped over; every other statement is returned for classification.
import type { MysqlCode } from './mysql-code.js';
import { STATEMENT_WORDS } from './mysql-commands.js';

export interface Body {
  /** Code positions [from, to) of each statement the body runs. */
  statements: [number, number][];
  /** What the gateway could not read of it. */
  unreadable: string[];
  /** The code position after the body. */
  end: number;
}

// Statements of a body that run no SQL of their own (cursor moves, jumps, RETURN of an expression).
const NO_SQL = new Set(['RETURN', 'LEAVE', 'ITERATE', 'OPEN', 'CLOSE', 'FETCH', 'SIGNAL', 'RESIGNAL', 'GET']);

/** Where the body of the program `command` in `code` (from its first word) starts, or why it cannot be found. */
export function bodyStart(code: MysqlCode, command: string): { start: number; where: string } | { unchecked: string } | null {
  const object = command.split(' ')[1];
  if (command === 'CREATE PACKAGE') return { unchecked: 'a package body, which the gateway does not read' };
  if (!['PROCEDURE', 'FUNCTION', 'TRIGGER', 'EVENT'].includes(object) || !['CREATE', 'ALTER'].includes(code.word(0) ?? '')) {
    return isCompound(code, 0) ? { start: 0, where: 'the compound statement' } : null;
  }
  let k = 0;
  while (code.has(k) && !code.is(k, object)) k++;
  k++;
  if (code.is(k, 'IF') && code.is(k + 1, 'NOT') && code.is(k + 2, 'EXISTS')) k += 3;
  const name = code.name(k) ?? '?';
  const where = `the body of ${object.toLowerCase()} ${code.op(k + 1, '.') ? `${name}.${code.name(k + 2)}` : name}`;
  if (object === 'EVENT') {
    const doAt = code.find(k, ['DO']);
    if (doAt >= 0) return { start: doAt + 1, where };
    return command === 'ALTER EVENT' ? null : { unchecked: `${where} could not be found` };
  }
  if (command.startsWith('ALTER')) return null; // ALTER PROCEDURE/FUNCTION changes characteristics only
  if (code.find(k, ['SONAME']) >= 0) return { unchecked: `${where} is native code from a shared library, which the gateway cannot read` };
  if (object === 'TRIGGER') {
    const each = code.find(k, ['EACH']);
    if (each < 0 || !code.is(each + 1, 'ROW')) return { unchecked: `${where} could not be found` };
    const start = code.is(each + 2, 'FOLLOWS', 'PRECEDES') ? each + 4 : each + 2;
    return { start, where };
  }
  // PROCEDURE or FUNCTION: after the parameters, past RETURNS <type> and characteristics (COMMENT,
  // LANGUAGE SQL, [NOT] DETERMINISTIC, READS SQL DATA…, none of them a statement's first word).
  while (code.has(k) && !code.op(k, '(') && !code.semicolon(k)) k++;
  for (k = code.afterParens(k); code.has(k) && !code.semicolon(k); k++) {
    const w = code.word(k);
    // SET('a','b') and CHARACTER SET x belong to a RETURNS type.
    const typeWord = w === 'SET' && (code.op(k + 1, '(') || code.is(k - 1, 'CHARACTER', 'CHAR'));
    if ((w && STATEMENT_WORDS.has(w) && !typeWord) || isLabel(code, k)) return { start: k, where };
  }
  return { unchecked: `${where} could not be found` };
}

/** A compound statement run at once: `BEGIN NOT ATOMIC`, `IF`, `CASE`, loops, or one of them after a label. */
function isCompound(code: MysqlCode, k: number): boolean {
  if (isLabel(code, k)) k += 2;
  if (code.is(k, 'BEGIN')) return code.is(k + 1, 'NOT') || k > 0;
  return code.is(k, 'IF', 'CASE', 'LOOP', 'REPEAT', 'WHILE', 'FOR');
}

function isLabel(code: MysqlCode, k: number): boolean {
  return code.name(k) !== undefined && code.op(k + 1, ':') && !code.op(k + 2, '=');
}

/**
 * The statements of the body starting at `start`: one statement, or a block that ends where its
 * BEGIN, IF, CASE, loop… is closed (`code` runs to the end of the input); with `whole`, every
 * statement of `code` (a part of a compound statement, between two `;`).
 */
export function bodyStatements(code: MysqlCode, start: number, whole = false): Body {
  const body: Body = { statements: [], unreadable: [], end: start };
  let depth = 0;
  let k = start;
  /** Steps to after the first of `words` (outside parentheses); notes the body as unreadable when there is none. */
  const past = (from: number, words: string[], what: string): number => {
    const at = code.find(from, words);
    if (at >= 0) return at + 1;
    body.unreadable.push(`${what} without ${words.join(' or ')}`);
    return code.end(from) + 1;
  };
  while (code.has(k)) {
    const w = code.word(k);
    if (code.semicolon(k)) {
      k++;
      continue;
    }
    if (isLabel(code, k)) {
      k += 2;
      continue;
    }
    if (w === 'BEGIN') {
      k += code.is(k + 1, 'NOT') && code.is(k + 2, 'ATOMIC') ? 3 : 1;
      depth++;
      continue;
    }
    if (w === 'END') {
      k = code.end(k) + 1; // END IF, END LOOP label…
      if (--depth <= 0 && !whole) break;
      continue;
    }
    if (w === 'IF' || w === 'WHILE' || w === 'FOR' || w === 'CASE' || w === 'LOOP' || w === 'REPEAT') depth++;
    if (w === 'IF' || w === 'ELSEIF' || w === 'WHEN') k = past(k + 1, ['THEN'], w);
    else if (w === 'WHILE' || w === 'FOR') k = past(k + 1, ['DO'], w);
    else if (w === 'CASE') k = Math.max(code.find(k + 1, ['WHEN']), k + 1);
    else if (w === 'UNTIL') k = Math.max(code.find(k + 1, ['END']), k + 1);
    else if (w === 'ELSE' || w === 'LOOP' || w === 'REPEAT') k++;
    else if (w === 'DECLARE') k = declare(code, k, body);
    else {
      const end = code.end(k);
      if (!(w && NO_SQL.has(w))) body.statements.push([k, end]);
      k = end + 1;
      if (depth <= 0 && !whole) break; // the body was this one statement
    }
  }
  if (depth > 0 && !whole) body.unreadable.push('a block that is never closed with END');
  body.end = k;
  return body;
}

/** DECLARE: a variable or condition (no SQL), a cursor (its SELECT), or a handler (the statement it runs). */
function declare(code: MysqlCode, k: number, body: Body): number {
  const at = code.find(k + 1, ['CURSOR', 'HANDLER']);
  if (at < 0) return code.end(k) + 1;
  if (code.is(at, 'CURSOR')) {
    const forAt = code.find(at + 1, ['FOR']);
    const end = code.end(k);
    if (forAt >= 0) body.statements.push([forAt + 1, end]);
    return end + 1;
  }
  // HANDLER FOR SQLSTATE [VALUE] '…' | SQLWARNING | NOT FOUND | SQLEXCEPTION | code | name [, …] <statement>
  let j = code.is(at + 1, 'FOR') ? at + 2 : at + 1;
  for (;;) {
    if (code.is(j, 'SQLSTATE')) j += code.is(j + 1, 'VALUE') ? 3 : 2;
    else if (code.is(j, 'NOT')) j += 2;
    else j++;
    if (!code.op(j, ',')) return j;
    j++;
  }
}
