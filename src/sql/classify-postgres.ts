// Classifies PostgreSQL input with PostgreSQL's own parser (libpg-query, wasm). Fail closed: what
// does not parse, or is not known, is `unknown` and never runs without review.
import { loadModule, normalizeSync, parseSync } from 'libpg-query';
import { SAFE_FUNCTIONS } from './safe-functions.js';
import type { ClassifiedStatement, Classification, ClassifyOptions, StatementKind } from './types.js';

let loaded: Promise<void> | undefined;

/** Loads the parser's wasm module once per process; call before classifyPostgres. */
export function loadPostgresParser(): Promise<void> {
  return (loaded ??= loadModule());
}

type Node = Record<string, any>;

const DML = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);
const DDL = new Set([
  'CreateStmt', 'CreateTableAsStmt', 'AlterTableStmt', 'DropStmt', 'TruncateStmt', 'IndexStmt', 'ViewStmt', 'CreateFunctionStmt',
  'AlterFunctionStmt', 'RenameStmt', 'CommentStmt', 'CreateSeqStmt', 'AlterSeqStmt', 'CreateSchemaStmt', 'CreateTrigStmt', 'RuleStmt',
  'CreateDomainStmt', 'AlterDomainStmt', 'CompositeTypeStmt', 'CreateEnumStmt', 'AlterEnumStmt', 'CreateRangeStmt', 'DefineStmt',
  'CreatedbStmt', 'DropdbStmt', 'AlterDatabaseStmt', 'AlterDatabaseSetStmt', 'CreateExtensionStmt', 'AlterExtensionStmt',
  'AlterExtensionContentsStmt', 'RefreshMatViewStmt', 'AlterSystemStmt', 'CreatePolicyStmt', 'AlterPolicyStmt', 'CreateTableSpaceStmt',
  'DropTableSpaceStmt', 'AlterTableSpaceOptionsStmt', 'CreateCastStmt', 'CreateConversionStmt', 'CreateOpClassStmt', 'CreateOpFamilyStmt',
  'AlterOpFamilyStmt', 'CreateFdwStmt', 'AlterFdwStmt', 'CreateForeignServerStmt', 'AlterForeignServerStmt', 'CreateForeignTableStmt',
  'CreateUserMappingStmt', 'AlterUserMappingStmt', 'DropUserMappingStmt', 'ImportForeignSchemaStmt', 'CreatePublicationStmt',
  'AlterPublicationStmt', 'CreateSubscriptionStmt', 'AlterSubscriptionStmt', 'DropSubscriptionStmt', 'CreateEventTrigStmt',
  'AlterEventTrigStmt', 'CreateTransformStmt', 'CreateAmStmt', 'CreateStatsStmt', 'AlterStatsStmt', 'AlterObjectSchemaStmt',
  'AlterObjectDependsStmt', 'AlterOperatorStmt', 'AlterTypeStmt', 'AlterCollationStmt', 'CreatePLangStmt', 'AlterTSDictionaryStmt',
  'AlterTSConfigurationStmt', 'AlterTableMoveAllStmt', 'SecLabelStmt', 'CreateTableSpaceStmt', 'AlterTableCmd',
]);
const DCL = new Set([
  'GrantStmt', 'GrantRoleStmt', 'CreateRoleStmt', 'AlterRoleStmt', 'AlterRoleSetStmt', 'DropRoleStmt', 'AlterDefaultPrivilegesStmt',
  'ReassignOwnedStmt', 'DropOwnedStmt', 'AlterOwnerStmt',
]);
const SESSION = new Set(['VariableSetStmt', 'TransactionStmt', 'DiscardStmt', 'DeallocateStmt', 'PrepareStmt', 'ClosePortalStmt', 'ConstraintsSetStmt', 'ListenStmt', 'UnlistenStmt']);
const UTILITY = new Set(['VacuumStmt', 'DoStmt', 'CallStmt', 'CheckPointStmt', 'ClusterStmt', 'ReindexStmt', 'NotifyStmt', 'LoadStmt', 'LockStmt', 'DeclareCursorStmt', 'FetchStmt', 'ExecuteStmt', 'CopyStmt']);

const OBJECT_NAMES: Record<string, string> = {
  OBJECT_TABLE: 'TABLE', OBJECT_INDEX: 'INDEX', OBJECT_VIEW: 'VIEW', OBJECT_MATVIEW: 'MATERIALIZED VIEW', OBJECT_SEQUENCE: 'SEQUENCE',
  OBJECT_SCHEMA: 'SCHEMA', OBJECT_FUNCTION: 'FUNCTION', OBJECT_PROCEDURE: 'PROCEDURE', OBJECT_TYPE: 'TYPE', OBJECT_DOMAIN: 'DOMAIN',
  OBJECT_TRIGGER: 'TRIGGER', OBJECT_RULE: 'RULE', OBJECT_EXTENSION: 'EXTENSION', OBJECT_FOREIGN_TABLE: 'FOREIGN TABLE',
  OBJECT_POLICY: 'POLICY', OBJECT_ROLE: 'ROLE', OBJECT_DATABASE: 'DATABASE', OBJECT_TABLESPACE: 'TABLESPACE',
};

/** The statement's command as people write it: `DROP TABLE`, `UPDATE`, `ALTER SYSTEM`... */
function commandOf(type: string, node: Node): string {
  switch (type) {
    case 'SelectStmt':
      return node.valuesLists ? 'VALUES' : 'SELECT';
    case 'InsertStmt':
      return 'INSERT';
    case 'UpdateStmt':
      return 'UPDATE';
    case 'DeleteStmt':
      return 'DELETE';
    case 'MergeStmt':
      return 'MERGE';
    case 'DropStmt':
      return `DROP ${OBJECT_NAMES[node.removeType] ?? String(node.removeType ?? '').replace(/^OBJECT_/, '').replace(/_/g, ' ')}`;
    case 'DropdbStmt':
      return 'DROP DATABASE';
    case 'CreatedbStmt':
      return 'CREATE DATABASE';
    case 'TruncateStmt':
      return 'TRUNCATE';
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM';
    case 'CreateStmt':
      return 'CREATE TABLE';
    case 'CreateTableAsStmt':
      return node.objtype === 'OBJECT_MATVIEW' ? 'CREATE MATERIALIZED VIEW' : 'CREATE TABLE AS';
    case 'AlterTableStmt':
      return `ALTER ${OBJECT_NAMES[node.objtype] ?? 'TABLE'}`;
    case 'IndexStmt':
      return 'CREATE INDEX';
    case 'ViewStmt':
      return 'CREATE VIEW';
    case 'VariableShowStmt':
      return 'SHOW';
    case 'VariableSetStmt':
      return node.kind === 'VAR_RESET' || node.kind === 'VAR_RESET_ALL' ? 'RESET' : node.name === 'role' ? 'SET ROLE' : 'SET';
    case 'TransactionStmt':
      return String(node.kind ?? 'TRANS_STMT').replace(/^TRANS_STMT_/, '').replace(/_/g, ' ');
    case 'CopyStmt':
      return node.is_from ? 'COPY FROM' : 'COPY TO';
    case 'ExplainStmt':
      return 'EXPLAIN';
    case 'VacuumStmt':
      return node.is_vacuumcmd ? 'VACUUM' : 'ANALYZE';
    case 'GrantStmt':
      return node.is_grant ? 'GRANT' : 'REVOKE';
    case 'GrantRoleStmt':
      return node.is_grant ? 'GRANT ROLE' : 'REVOKE ROLE';
    case 'DoStmt':
      return 'DO';
    case 'CallStmt':
      return 'CALL';
    default:
      return type.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
  }
}

/** Visits every object node of the tree, with its key (the node type). */
function walk(node: unknown, visit: (type: string, value: Node) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node as Node)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      if (/^[A-Z]/.test(key)) visit(key, value as Node);
      // The target of INSERT/UPDATE/DELETE/COPY (and SELECT INTO) is an unwrapped RangeVar.
      else if ((key === 'relation' || key === 'rel') && 'relname' in (value as Node)) visit('RangeVar', value as Node);
    }
    walk(value, visit);
  }
}

function funcName(call: Node): string {
  return (call.funcname ?? []).map((n: Node) => n.String?.sval ?? '').filter(Boolean).join('.').toLowerCase();
}

interface Findings {
  writes: string[];
  functions: string[];
  tables: { name: string; at: number }[];
  ctes: Set<string>;
}

function inspect(root: Node): Findings {
  const f: Findings = { writes: [], functions: [], tables: [], ctes: new Set() };
  walk(root, (type, value) => {
    if (DML.has(type)) f.writes.push(commandOf(type, value));
    else if (type === 'SelectStmt' && value.intoClause) f.writes.push('SELECT INTO');
    else if (type === 'SelectStmt' && value.lockingClause) f.writes.push('SELECT FOR UPDATE/SHARE');
    else if (type === 'FuncCall') f.functions.push(funcName(value));
    else if (type === 'CommonTableExpr' && value.ctename) f.ctes.add(String(value.ctename).toLowerCase());
    else if (type === 'RangeVar' && value.relname) f.tables.push({ name: [value.schemaname, value.relname].filter(Boolean).join('.'), at: value.location ?? 0 });
    else if (type === 'DropStmt' && ['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE', 'OBJECT_SEQUENCE'].includes(value.removeType)) {
      for (const o of value.objects ?? []) f.tables.push({ name: (o.List?.items ?? []).map((i: Node) => i.String?.sval).filter(Boolean).join('.'), at: 0 });
    }
  });
  return f;
}

function unsafeFunctions(functions: string[], allow: ReadonlySet<string>): string[] {
  return [...new Set(functions.filter((name) => {
    const bare = name.replace(/^pg_catalog\./, '');
    return !SAFE_FUNCTIONS.has(bare) && !allow.has(name) && !allow.has(bare);
  }))];
}

function classifyNode(type: string, node: Node, allow: ReadonlySet<string>): { kind: StatementKind; reasons: string[] } {
  if (type === 'SelectStmt' || type === 'VariableShowStmt') {
    if (type === 'VariableShowStmt') return { kind: 'read', reasons: [] };
    const f = inspect({ SelectStmt: node });
    if (f.writes.length) return { kind: 'write', reasons: [`contains ${[...new Set(f.writes)].join(', ')}`] };
    const unsafe = unsafeFunctions(f.functions, allow);
    if (unsafe.length) return { kind: 'write', reasons: [`calls ${unsafe.join(', ')}, which may write (allow-list it on the connection if it does not)`] };
    return { kind: 'read', reasons: [] };
  }
  if (type === 'ExplainStmt') {
    const analyze = (node.options ?? []).some((o: Node) => o.DefElem?.defname === 'analyze' && o.DefElem?.arg?.Boolean?.boolval !== false && o.DefElem?.arg?.String?.sval !== 'false');
    if (!analyze) return { kind: 'read', reasons: [] };
    const [innerType, inner] = Object.entries(node.query ?? {})[0] ?? ['', {}];
    const c = classifyNode(innerType, inner as Node, allow);
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

function unboundedWrite(type: string, node: Node): boolean {
  return (type === 'UpdateStmt' || type === 'DeleteStmt') && !node.whereClause && !node.whereCurrentOf;
}

function statementText(sql: string, stmt: { stmt_location?: number; stmt_len?: number }): string {
  const bytes = Buffer.from(sql, 'utf8');
  const start = stmt.stmt_location ?? 0;
  const end = stmt.stmt_len ? start + stmt.stmt_len : bytes.length;
  return bytes.subarray(start, end).toString('utf8').trim();
}

/** Splits and classifies PostgreSQL input; never throws on bad SQL (it is `unknown`). */
export function classifyPostgres(sql: string, options: ClassifyOptions = {}): Classification {
  const allow = new Set((options.allowFunctions ?? []).map((f) => f.toLowerCase()));
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
  const statements: ClassifiedStatement[] = (parsed.stmts ?? []).map((raw, index) => {
    const [type, node] = Object.entries(raw.stmt)[0] as [string, Node];
    const { kind, reasons } = classifyNode(type, node, allow);
    const f = inspect(raw.stmt);
    // In the order they are written, without the statement's own CTE names.
    const tables = [...new Set(f.tables.sort((a, b) => a.at - b.at).map((t) => t.name).filter((t) => !f.ctes.has(t.toLowerCase())))];
    const command = commandOf(type, node);
    const warnings = [...reasons];
    const unbounded = unboundedWrite(type, node);
    if (unbounded) warnings.unshift(`${command} without WHERE changes every row of ${tables[0] ?? 'the table'}`);
    const statement = statementText(sql, raw);
    let normalized = statement;
    try {
      normalized = normalizeSync(statement);
    } catch {
      // keep the text as it is
    }
    return { index, kind, command, statement, normalized, tables, warnings, unboundedWrite: unbounded };
  });
  return { dialect: 'postgres', parsed: true, statements };
}
