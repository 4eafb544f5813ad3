// MySQL/MariaDB statements whose first words say little about what they run: `SET STATEMENT … FOR`,
// `ANALYZE <stmt>`, `EXPLAIN ANALYZE`, `PREPARE … FROM`, `EXECUTE`, `EXECUTE IMMEDIATE`. node-sql-parser
// reads none of them, so without this a DROP TABLE behind `SET STATEMENT x=1 FOR` looks like a SET.
// Read from the server's tokens, so comments between the words, odd spacing and case change nothing.
import type { MysqlCode } from './mysql-code.js';
import type { MysqlLexOptions } from './mysql-mode.js';
import { stringValue } from './mysql-literals.js';

/** Where SQL that a statement runs comes from. */
export type SqlSource = { literal: string } | { variable: string } | { expression: string };

export type Carrier =
  /** Runs the statement at code positions [from, to) now, as part of itself. */
  | { type: 'runs'; by: string; from: number; to: number }
  | { type: 'explain-connection' }
  | { type: 'prepare'; name: string; source: SqlSource }
  | { type: 'execute'; name: string }
  | { type: 'execute-immediate'; source: SqlSource }
  | { type: 'deallocate'; name: string }
  /** Starts like a carrier, but what it carries cannot be found. */
  | { type: 'unreadable'; command: string; why: string };

/** First words of the statements carrierOf recognises. */
export const CARRIER_FIRST = new Set(['SET', 'ANALYZE', 'EXPLAIN', 'DESCRIBE', 'DESC', 'PREPARE', 'EXECUTE', 'DEALLOCATE', 'DROP']);

/** What the statement in `code` (exactly one statement) carries, or undefined when it is no carrier. */
export function carrierOf(code: MysqlCode, options: MysqlLexOptions): Carrier | undefined {
  switch (code.word(0)) {
    case 'SET':
      return setStatement(code);
    case 'ANALYZE':
      return analyze(code);
    case 'EXPLAIN':
    case 'DESCRIBE':
    case 'DESC':
      return explain(code);
    case 'PREPARE': {
      const name = code.name(1);
      if (name === undefined || !code.is(2, 'FROM') || code.length < 4) return { type: 'unreadable', command: 'PREPARE', why: 'PREPARE without a name and FROM <SQL>' };
      return { type: 'prepare', name, source: sourceOf(code, 3, code.length, options) };
    }
    case 'EXECUTE': {
      if (code.is(1, 'IMMEDIATE')) {
        const using = code.find(2, ['USING']);
        const end = using < 0 ? code.length : using;
        if (end <= 2) return { type: 'unreadable', command: 'EXECUTE IMMEDIATE', why: 'EXECUTE IMMEDIATE without SQL' };
        return { type: 'execute-immediate', source: sourceOf(code, 2, end, options) };
      }
      const name = code.name(1);
      return name === undefined ? { type: 'unreadable', command: 'EXECUTE', why: 'EXECUTE without the name of a prepared statement' } : { type: 'execute', name };
    }
    case 'DEALLOCATE':
    case 'DROP': {
      const name = code.is(1, 'PREPARE') ? code.name(2) : undefined;
      return name === undefined ? undefined : { type: 'deallocate', name };
    }
    case 'WITH':
      return withMain(code);
    default:
      return undefined;
  }
}

/** MariaDB's `SET STATEMENT var = value [, …] FOR <statement>`: the statement runs with those settings. */
function setStatement(code: MysqlCode): Carrier | undefined {
  // `SET statement = 1` would set a variable of that name (were it allowed): not this form.
  if (!code.is(1, 'STATEMENT') || code.op(2, '=') || code.op(2, ':')) return undefined;
  const at = code.find(2, ['FOR']);
  if (at < 0 || at + 1 >= code.length) return { type: 'unreadable', command: 'SET STATEMENT', why: 'SET STATEMENT without FOR <statement>: the gateway cannot tell what it runs' };
  return { type: 'runs', by: 'SET STATEMENT … FOR', from: at + 1, to: code.length };
}

/** MariaDB's `ANALYZE [FORMAT=JSON] <statement>` runs the statement; `ANALYZE [LOCAL] TABLE t` only gathers statistics. */
function analyze(code: MysqlCode): Carrier | undefined {
  let k = 1;
  if (code.is(k, 'NO_WRITE_TO_BINLOG', 'LOCAL')) k++;
  if (code.is(k, 'TABLE', 'TABLES')) return undefined;
  k = 1;
  if (code.is(k, 'FORMAT') && code.op(k + 1, '=')) k += 3;
  if (k >= code.length) return { type: 'unreadable', command: 'ANALYZE', why: 'ANALYZE of something the gateway cannot read' };
  return { type: 'runs', by: 'ANALYZE', from: k, to: code.length };
}

/**
 * `EXPLAIN [EXTENDED | PARTITIONS | FORMAT=x | INTO @v] ANALYZE <statement>` (MySQL 8) runs the
 * statement; ANALYZE anywhere among the options counts. Plain EXPLAIN only plans (node-sql-parser reads it).
 */
function explain(code: MysqlCode): Carrier | undefined {
  let k = 1;
  let analyzes = false;
  for (;;) {
    if (code.is(k, 'EXTENDED', 'PARTITIONS')) k++;
    else if (code.is(k, 'ANALYZE')) {
      analyzes = true;
      k++;
    } else if (code.is(k, 'FORMAT') && code.op(k + 1, '=')) k += 3;
    else if (code.is(k, 'INTO') && code.op(k + 1, '@')) k += 3;
    else break;
  }
  if (code.is(k, 'FOR') && code.is(k + 1, 'CONNECTION')) return { type: 'explain-connection' };
  if (!analyzes) return undefined;
  if (k >= code.length) return { type: 'unreadable', command: 'EXPLAIN', why: 'EXPLAIN ANALYZE of something the gateway cannot read' };
  return { type: 'runs', by: 'EXPLAIN ANALYZE', from: k, to: code.length };
}

/** `WITH [RECURSIVE] a AS (…), b (x) AS (…) <statement>`: the statement after the common table expressions. */
function withMain(code: MysqlCode): Carrier | undefined {
  let k = code.is(1, 'RECURSIVE') ? 2 : 1;
  for (;;) {
    if (code.name(k) === undefined) return undefined;
    k++;
    if (code.op(k, '(')) k = code.afterParens(k);
    if (!code.is(k, 'AS') || !code.op(k + 1, '(')) return undefined;
    k = code.afterParens(k + 1);
    if (!code.op(k, ',')) break;
    k++;
  }
  return k < code.length ? { type: 'runs', by: 'WITH', from: k, to: code.length } : undefined;
}

/**
 * The SQL of code positions [a, b): one or more adjacent string literals (the server joins them;
 * a `_charset` introducer may lead), a user variable `@v`, or anything else (an expression).
 */
function sourceOf(code: MysqlCode, a: number, b: number, options: MysqlLexOptions): SqlSource {
  if (code.op(a, '@') && b === a + 2 && code.name(a + 1) !== undefined) return { variable: code.name(a + 1)!.toLowerCase() };
  let k = a;
  if (/^_[A-Z0-9]+$/.test(code.word(k) ?? '') && code.token(k + 1)?.type === 'string') k++;
  const parts: string[] = [];
  for (; k < b && code.token(k)?.type === 'string'; k++) parts.push(stringValue(code.text(k), options));
  if (k === b && parts.length) return { literal: parts.join('') };
  const first = code.token(a)!;
  const last = code.token(b - 1)!;
  return { expression: code.sql.slice(first.start, last.end) };
}
