// One MySQL/MariaDB statement as node-sql-parser reads it, for column lineage: the statements of a
// request (read as the server splits them) and view definitions as the server prints them in
// information_schema.VIEWS.
// The MySQL build alone: the package's main build holds every dialect's grammar, which cost a
// gateway process about 90 MB of RSS (bench/pending-memory.ts); only MySQL's is used here.
import sqlParser from 'node-sql-parser/build/mysql.js';
import { splitMysql, type MysqlStatement } from './mysql-split.js';

type Node = Record<string, any>;

const parser = new sqlParser.Parser();
const OPT = { database: 'MySQL' };

/** node-sql-parser's reading of text the server reads as one statement, or why it reads something else. */
export function parseOne(text: string): { ast: Node; tableList: string[] } | { error: string } {
  try {
    const { ast, tableList } = parser.parse(text, OPT) as unknown as { ast: Node | Node[]; tableList: string[] };
    const all = (Array.isArray(ast) ? ast : [ast]).filter(Boolean);
    return all.length === 1 ? { ast: all[0], tableList } : { error: `the parser reads ${all.length} statements where the server reads one` };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** The AST of one statement the server will run, or why there is none. */
export function parseMysqlStatement(s: MysqlStatement): { ast: Node } | { error: string } {
  // The server reads this statement differently from a plain parser (comments, sql_mode, compound).
  if (s.hazards.length) return { error: s.hazards[0].message };
  return parseOne(s.parserText);
}

export const sqlify = (ast: Node): string => parser.sqlify(ast as never, OPT);

// The server prints CAST(x AS CHAR) as `cast(x as char charset utf8mb4)`, which node-sql-parser
// does not read; the character set does not change where the value comes from.
const CAST_CHARSET = /\b(as\s+(?:n?char|varchar|binary)(?:\s*\(\s*\d+\s*\))?)\s+(?:charset|character\s+set)\s+`?\w+`?(?=\s*\))/gi;

/** A view definition as information_schema prints it, in the syntax the parser reads (same meaning). */
export function readableDefinition(definition: string): string {
  return definition.replace(CAST_CHARSET, '$1');
}

/** A view definition as one statement the parser can read, or null. */
function definitionStatement(definition: string): MysqlStatement | null {
  try {
    const statements = splitMysql(readableDefinition(definition));
    return statements.length === 1 && !statements[0].hazards.length ? statements[0] : null;
  } catch {
    return null;
  }
}

/** The SELECT of a view definition as information_schema.VIEWS prints it, or null when it cannot be read. */
export function parseMysqlDefinition(definition: string): Node | null {
  const s = definitionStatement(definition);
  const parsed = s ? parseMysqlStatement(s) : null;
  return parsed && 'ast' in parsed && String(parsed.ast.type).toLowerCase() === 'select' ? parsed.ast : null;
}

/** The relations a view definition reads, as `schema.name` (unqualified names are in the view's schema). */
export function mysqlViewReads(schema: string, definition: string): string[] {
  const s = definitionStatement(definition);
  if (!s) return [];
  try {
    // tableList entries look like "select::db::table".
    const { tableList } = parser.parse(s.parserText, OPT) as unknown as { tableList: string[] };
    return [...new Set(tableList.map((t) => t.split('::')).map(([, db, name]) => `${db && db !== 'null' ? db : schema}.${name}`))];
  } catch {
    return [];
  }
}
