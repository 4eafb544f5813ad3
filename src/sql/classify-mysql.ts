// Classifies MySQL/MariaDB input: the gateway's own lexer splits it into the statements the server
// will run (its view: executable comments as code, `--1` as minus minus one, strings as its sql_mode
// reads them), node-sql-parser's MySQL grammar classifies each, and what a statement carries (the
// statement after SET STATEMENT … FOR, a PREPAREd string, a procedure's body) is read too, so the
// guardrails see it. Where the server reads a statement differently from a plain SQL parser, the
// statement is `unknown` (never auto-run) and says why.
import { analyseStatement, createContext } from './mysql-analysis.js';
import type { Found } from './mysql-found.js';
import type { MysqlLexOptions } from './mysql-mode.js';
import { splitMysqlTokens, type MysqlStatement } from './mysql-split.js';
import { unboundedText } from './mysql-where.js';
import type { ClassifiedStatement, Classification, ClassifyOptions } from './types.js';

/** The statement as reviewers and guardrails see it. */
function classified(s: MysqlStatement, index: number, f: Found): ClassifiedStatement {
  const warnings = [...f.reasons];
  if (f.unbounded) warnings.unshift(unboundedText(f.unbounded, f.command, f.tables[0]));
  for (const n of f.nested.filter((x) => x.unboundedWrite)) warnings.push(`contains ${n.command} without a WHERE that bounds it, which changes every row`);
  const unchecked = [...new Set(f.unchecked)];
  if (unchecked.length) warnings.push(`contains SQL the guardrails cannot check: ${unchecked.join('; ')}`);
  return {
    // SQL that cannot be checked could be anything.
    index, kind: unchecked.length ? 'unknown' : f.kind, command: f.command, statement: s.text, normalized: f.normalized, tables: f.tables, warnings, unboundedWrite: f.unbounded !== null,
    ...(f.nested.length ? { nested: f.nested } : {}),
    ...(unchecked.length ? { uncheckedSql: unchecked } : {}),
  };
}

export interface MysqlClassifyOptions extends MysqlLexOptions, ClassifyOptions {}

/**
 * Splits MySQL/MariaDB input as the server will (for the given sql_mode flags and, when known, the
 * server's version) and classifies each statement; never throws on bad SQL (it is `unknown`).
 */
export function classifyMysql(sql: string, options: MysqlClassifyOptions = {}): Classification {
  try {
    const { tokens, statements: split } = splitMysqlTokens(sql, options);
    // Counting is cheap (the lexer); parsing each statement is not: stop before it.
    if (options.maxStatements !== undefined && split.length > options.maxStatements) {
      return { dialect: 'mysql', parsed: true, tooManyStatements: split.length, statements: [] };
    }
    const ctx = createContext(sql, tokens, options);
    const found = split.map((s) => analyseStatement(ctx, s));
    const error = found.find((f) => f.parseError)?.parseError;
    const statements = split.map((s, i) => classified(s, i, found[i]));
    return { dialect: 'mysql', parsed: statements.length > 0 && error === undefined, ...(error ? { error } : {}), statements };
  } catch (error) {
    // A bug here must not let anything through: the whole input is unknown.
    const message = (error as Error).message;
    return { dialect: 'mysql', parsed: false, error: message, statements: [{ index: 0, kind: 'unknown', command: 'UNKNOWN', statement: sql.trim(), tables: [], warnings: [`could not be classified: ${message}`] }] };
  }
}
