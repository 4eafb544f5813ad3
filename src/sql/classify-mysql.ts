// Classifies MySQL/MariaDB input: the gateway's own lexer splits it into the statements the server
// will run (its view: executable comments as code, `--1` as minus minus one, strings as its sql_mode
// reads them), and node-sql-parser's MySQL grammar classifies each. Where the server reads a statement
// differently from a plain SQL parser, the statement is `unknown` (never auto-run) and says why.
import sqlParser from 'node-sql-parser';
import type { MysqlLexOptions } from './mysql-mode.js';
import { commandFromWords } from './mysql-commands.js';
import { splitMysql, type MysqlStatement } from './mysql-split.js';
import type { ClassifiedStatement, Classification, ClassifyOptions, StatementKind } from './types.js';

const parser = new sqlParser.Parser();
const OPT = { database: 'MySQL' };

// Built-in MySQL functions that only read; any other call makes a SELECT a write.
const SAFE = new Set(
  `count sum avg min max group_concat bit_and bit_or std stddev variance row_number rank dense_rank lag lead first_value
  last_value ntile abs ceil ceiling floor round truncate mod pow power sqrt exp ln log log10 log2 sign pi rand greatest
  least lower upper lcase ucase length char_length character_length substr substring substring_index mid left right
  trim ltrim rtrim replace concat concat_ws lpad rpad repeat reverse instr locate position format md5 sha1 sha2 hex
  unhex to_base64 from_base64 now current_timestamp curdate current_date curtime current_time utc_timestamp
  date_format str_to_date date_add date_sub datediff timestampdiff timestampadd adddate subdate year month day
  dayofmonth dayofweek dayofyear hour minute second week weekday quarter last_day unix_timestamp from_unixtime
  date time timestamp extract coalesce ifnull nullif if isnull cast convert json_extract json_unquote json_object
  json_array json_length json_keys json_contains json_valid database schema version user current_user
  connection_id uuid found_rows row_count sleep field find_in_set elt char ascii ord bin oct conv inet_aton
  inet_ntoa`.split(/\s+/).filter(Boolean),
);

type Node = Record<string, any>;

function functionNames(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const n of node) functionNames(n, out);
  } else if (node && typeof node === 'object') {
    const n = node as Node;
    if (n.type === 'function') {
      const name = Array.isArray(n.name?.name) ? n.name.name.map((p: Node) => p.value).join('.') : String(n.name ?? '');
      out.push(name.toLowerCase());
    } else if (n.type === 'aggr_func' && typeof n.name === 'string') {
      out.push(n.name.toLowerCase());
    }
    for (const v of Object.values(n)) functionNames(v, out);
  }
  return out;
}

function classify(ast: Node): { kind: StatementKind; command: string; reasons: string[] } {
  const type = String(ast.type ?? '').toLowerCase();
  const keyword = String(ast.keyword ?? '').toUpperCase();
  switch (type) {
    case 'select': {
      if (ast.into?.position) return { kind: 'write', command: 'SELECT INTO', reasons: ['SELECT ... INTO writes'] };
      if (ast.locking_read) return { kind: 'write', command: 'SELECT', reasons: [`${ast.locking_read} locks rows`] };
      const unsafe = [...new Set(functionNames(ast).filter((f) => !SAFE.has(f)))];
      if (unsafe.length) return { kind: 'write', command: 'SELECT', reasons: [`calls ${unsafe.join(', ')}, which may write`] };
      return { kind: 'read', command: 'SELECT', reasons: [] };
    }
    case 'show':
    case 'desc':
      return { kind: 'read', command: type === 'show' ? 'SHOW' : 'DESCRIBE', reasons: [] };
    case 'explain':
      return { kind: 'read', command: 'EXPLAIN', reasons: [] };
    case 'insert':
    case 'replace':
    case 'update':
    case 'delete':
      return { kind: 'write', command: type.toUpperCase(), reasons: [] };
    case 'create':
      return keyword === 'USER' || keyword === 'ROLE' ? { kind: 'dcl', command: `CREATE ${keyword}`, reasons: [] } : { kind: 'ddl', command: `CREATE ${keyword}`.trim(), reasons: [] };
    case 'drop':
      return keyword === 'USER' || keyword === 'ROLE' ? { kind: 'dcl', command: `DROP ${keyword}`, reasons: [] } : { kind: 'ddl', command: `DROP ${keyword === 'SCHEMA' ? 'DATABASE' : keyword}`.trim(), reasons: [] };
    case 'alter':
    case 'rename':
      return { kind: 'ddl', command: `${type.toUpperCase()} ${keyword}`.trim(), reasons: [] };
    case 'truncate':
      return { kind: 'ddl', command: 'TRUNCATE', reasons: [] };
    case 'grant':
    case 'revoke':
      return { kind: 'dcl', command: type.toUpperCase(), reasons: [] };
    case 'set':
    case 'use':
    case 'transaction':
      return { kind: 'session', command: type === 'transaction' ? 'TRANSACTION' : type.toUpperCase(), reasons: [] };
    case 'lock':
    case 'unlock':
    case 'call':
      return { kind: 'utility', command: type.toUpperCase(), reasons: [] };
    default:
      return { kind: 'unknown', command: type.toUpperCase() || 'UNKNOWN', reasons: [`${type || 'this statement'} is not a statement this gateway knows`] };
  }
}

type Parsed = { ok: true; ast: Node; tables: string[]; normalized: string } | { ok: false; error: string };

function parse(text: string): Parsed {
  try {
    const { ast, tableList } = parser.parse(text, OPT) as unknown as { ast: Node | Node[]; tableList: string[] };
    const asts = (Array.isArray(ast) ? ast : [ast]).filter(Boolean);
    // The server sees one statement here; a parser that sees another number reads it differently.
    if (asts.length !== 1) return { ok: false, error: `the parser reads ${asts.length} statements where the server reads one` };
    // Entries look like "select::db::table"; keep db.table (or table).
    const tables = [...new Set(tableList.map((t) => t.split('::').slice(1).filter((p) => p && p !== 'null').join('.')).filter(Boolean))];
    return { ok: true, ast: asts[0], tables, normalized: parser.sqlify(asts[0] as never, OPT) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

function classifyStatement(s: MysqlStatement, index: number, cache: Map<string, Parsed>): ClassifiedStatement & { parseError?: string } {
  let parsed = cache.get(s.parserText);
  if (!parsed) cache.set(s.parserText, (parsed = parse(s.parserText)));
  let kind: StatementKind;
  let command: string;
  let reasons: string[];
  let unbounded: boolean;
  let tables: string[] = [];
  let normalized = s.serverText;
  if (parsed.ok) {
    ({ kind, command, reasons } = classify(parsed.ast));
    unbounded = (parsed.ast.type === 'update' || parsed.ast.type === 'delete') && !parsed.ast.where;
    tables = [...parsed.tables];
    normalized = parsed.normalized;
  } else {
    kind = 'unknown';
    command = commandFromWords(s.lead);
    // Without a parse, a write with no WHERE anywhere in its code is certainly unbounded.
    unbounded = (command === 'UPDATE' || command === 'DELETE') && !s.hasWhere;
    reasons = [`could not be parsed: ${parsed.error}`];
  }
  if (s.hazards.length) kind = 'unknown';
  const warnings = [...reasons, ...s.hazards.map((h) => h.message)];
  if (unbounded) warnings.unshift(`${command} without WHERE changes every row of ${tables[0] ?? 'the table'}`);
  return { index, kind, command, statement: s.text, normalized, tables, warnings, unboundedWrite: unbounded, parseError: parsed.ok ? undefined : parsed.error };
}

export interface MysqlClassifyOptions extends MysqlLexOptions, ClassifyOptions {}

/**
 * Splits MySQL/MariaDB input as the server will (for the given sql_mode flags and, when known, the
 * server's version) and classifies each statement; never throws on bad SQL (it is `unknown`).
 */
export function classifyMysql(sql: string, options: MysqlClassifyOptions = {}): Classification {
  try {
    const cache = new Map<string, Parsed>();
    const split = splitMysql(sql, options);
    // Counting is cheap (the lexer); parsing each statement is not: stop before it.
    if (options.maxStatements !== undefined && split.length > options.maxStatements) {
      return { dialect: 'mysql', parsed: true, tooManyStatements: split.length, statements: [] };
    }
    const classified = split.map((s, i) => classifyStatement(s, i, cache));
    const error = classified.find((s) => s.parseError)?.parseError;
    const statements: ClassifiedStatement[] = classified.map(({ parseError: _, ...s }) => s);
    return { dialect: 'mysql', parsed: statements.length > 0 && error === undefined, ...(error ? { error } : {}), statements };
  } catch (error) {
    // A bug here must not let anything through: the whole input is unknown.
    const message = (error as Error).message;
    return { dialect: 'mysql', parsed: false, error: message, statements: [{ index: 0, kind: 'unknown', command: 'UNKNOWN', statement: sql.trim(), tables: [], warnings: [`could not be classified: ${message}`] }] };
  }
}
