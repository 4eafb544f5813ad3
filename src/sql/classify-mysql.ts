// Classifies MySQL/MariaDB input with node-sql-parser's MySQL grammar: the same kinds and the same
// fail-closed rule as PostgreSQL (what does not parse is `unknown`).
import sqlParser from 'node-sql-parser';
import type { ClassifiedStatement, Classification, StatementKind } from './types.js';

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

function tablesOf(sql: string): string[] {
  try {
    // Entries look like "select::db::table"; keep db.table (or table).
    return [...new Set(parser.tableList(sql, OPT).map((t: string) => t.split('::').slice(1).filter((p) => p && p !== 'null').join('.')))];
  } catch {
    return [];
  }
}

/** Splits and classifies MySQL input; never throws on bad SQL (it is `unknown`). */
export function classifyMysql(sql: string): Classification {
  let asts: Node[];
  try {
    const ast = parser.astify(sql, OPT) as Node | Node[];
    asts = (Array.isArray(ast) ? ast : [ast]).filter(Boolean);
  } catch (error) {
    const message = (error as Error).message;
    return { dialect: 'mysql', parsed: false, error: message, statements: [{ index: 0, kind: 'unknown', command: 'UNKNOWN', statement: sql.trim(), tables: [], warnings: [`could not be parsed: ${message}`] }] };
  }
  const statements: ClassifiedStatement[] = asts.map((ast, index) => {
    const { kind, command, reasons } = classify(ast);
    // node-sql-parser keeps no positions: the statement text is its own rendering of the AST.
    const statement = parser.sqlify(ast as never, OPT);
    const unbounded = (ast.type === 'update' || ast.type === 'delete') && !ast.where;
    const tables = tablesOf(statement);
    const warnings = unbounded ? [`${command} without WHERE changes every row of ${tables[0] ?? 'the table'}`, ...reasons] : reasons;
    return { index, kind, command, statement, normalized: statement, tables, warnings, unboundedWrite: unbounded };
  });
  return { dialect: 'mysql', parsed: statements.length > 0, statements };
}
