// Kind and command of a MySQL statement node-sql-parser read, from its tree.
import { commandFromWords } from './mysql-commands.js';
import type { StatementKind } from './types.js';

type Node = Record<string, any>;

// Built-in MySQL functions that only read; any other call makes a SELECT a write. Column lineage
// takes their results as depending on their arguments only.
export const SAFE = new Set(
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


// node-sql-parser hangs one node under two fields of its parent (a derived table's query): a walk
// that does not remember what it has seen takes 2^depth steps on nested derived tables.
function functionNames(node: unknown, out: string[] = [], seen = new WeakSet<object>()): string[] {
  if (Array.isArray(node)) {
    for (const n of node) functionNames(n, out, seen);
  } else if (node && typeof node === 'object') {
    if (seen.has(node)) return out;
    seen.add(node);
    const n = node as Node;
    if (n.type === 'function') {
      const name = Array.isArray(n.name?.name) ? n.name.name.map((p: Node) => p.value).join('.') : String(n.name ?? '');
      out.push(name.toLowerCase());
    } else if (n.type === 'aggr_func' && typeof n.name === 'string') {
      out.push(n.name.toLowerCase());
    }
    for (const v of Object.values(n)) functionNames(v, out, seen);
  }
  return out;
}

/** Kind and command of a statement node-sql-parser read; `lead` (its first words) names what the tree leaves out. */
export function classifyAst(ast: Node, lead: string[]): { kind: StatementKind; command: string; reasons: string[] } {
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
    case 'drop':
    case 'alter':
    case 'rename': {
      // The tree names the object only sometimes (not for ALTER TABLE, RENAME TABLE): the words always do.
      const object = keyword === 'SCHEMA' ? 'DATABASE' : keyword;
      const command = object ? `${type.toUpperCase()} ${object}` : commandFromWords(lead);
      return { kind: object === 'USER' || object === 'ROLE' ? 'dcl' : 'ddl', command, reasons: [] };
    }
    case 'truncate':
      return { kind: 'ddl', command: 'TRUNCATE', reasons: [] };
    case 'grant':
    case 'revoke':
      return { kind: 'dcl', command: type.toUpperCase(), reasons: [] };
    case 'load_data':
      return { kind: 'write', command: 'LOAD DATA', reasons: ['loads rows from a file the gateway cannot see'] };
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
