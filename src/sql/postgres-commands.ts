// PostgreSQL statement node types, their kinds and their commands as people write them; the tree walk.

export type Node = Record<string, any>;

export const DML = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);
export const DDL = new Set([
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
export const DCL = new Set([
  'GrantStmt', 'GrantRoleStmt', 'CreateRoleStmt', 'AlterRoleStmt', 'AlterRoleSetStmt', 'DropRoleStmt', 'AlterDefaultPrivilegesStmt',
  'ReassignOwnedStmt', 'DropOwnedStmt', 'AlterOwnerStmt',
]);
export const SESSION = new Set(['VariableSetStmt', 'TransactionStmt', 'DiscardStmt', 'DeallocateStmt', 'PrepareStmt', 'ClosePortalStmt', 'ConstraintsSetStmt', 'ListenStmt', 'UnlistenStmt']);
export const UTILITY = new Set(['VacuumStmt', 'DoStmt', 'CallStmt', 'CheckPointStmt', 'ClusterStmt', 'ReindexStmt', 'NotifyStmt', 'LoadStmt', 'LockStmt', 'DeclareCursorStmt', 'FetchStmt', 'ExecuteStmt', 'CopyStmt']);

const OBJECT_NAMES: Record<string, string> = {
  OBJECT_TABLE: 'TABLE', OBJECT_INDEX: 'INDEX', OBJECT_VIEW: 'VIEW', OBJECT_MATVIEW: 'MATERIALIZED VIEW', OBJECT_SEQUENCE: 'SEQUENCE',
  OBJECT_SCHEMA: 'SCHEMA', OBJECT_FUNCTION: 'FUNCTION', OBJECT_PROCEDURE: 'PROCEDURE', OBJECT_TYPE: 'TYPE', OBJECT_DOMAIN: 'DOMAIN',
  OBJECT_TRIGGER: 'TRIGGER', OBJECT_RULE: 'RULE', OBJECT_EXTENSION: 'EXTENSION', OBJECT_FOREIGN_TABLE: 'FOREIGN TABLE',
  OBJECT_POLICY: 'POLICY', OBJECT_ROLE: 'ROLE', OBJECT_DATABASE: 'DATABASE', OBJECT_TABLESPACE: 'TABLESPACE',
};

/** The statement's command as people write it: `DROP TABLE`, `UPDATE`, `ALTER SYSTEM`... */
export function commandOf(type: string, node: Node): string {
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
export function walk(node: unknown, visit: (type: string, value: Node) => void): void {
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
      // So are TypeName nodes (a cast's type, a column definition's type).
      else if (Array.isArray((value as Node).names) && 'typemod' in (value as Node)) visit('TypeName', value as Node);
    }
    walk(value, visit);
  }
}

// Joins the parts of a qualified name: no identifier holds NUL, so an alias "public.accounts" (one
// part) never equals the table accounts of schema public (two parts).
const QUAL = '\u0000';

/** The names a column of the written table may be qualified with (its alias, or its name), parts joined by QUAL. */
function targetNames(node: Node): Set<string> {
  const rel = node.relation ?? {};
  return new Set(rel.alias?.aliasname ? [rel.alias.aliasname] : [rel.relname, [rel.schemaname, rel.relname].filter(Boolean).join(QUAL)].filter(Boolean));
}

/**
 * True when `expr` names a column of the written table outside any subquery. An unqualified name
 * counts only when nothing else is joined in (with USING or FROM it may be the other table's).
 */
function namesTarget(expr: unknown, targets: Set<string>, alone: boolean): boolean {
  if (Array.isArray(expr)) return expr.some((e) => namesTarget(e, targets, alone));
  if (!expr || typeof expr !== 'object') return false;
  for (const [key, value] of Object.entries(expr as Node)) {
    if (key === 'SubLink') continue;
    if (key === 'ColumnRef') {
      const parts = ((value as Node).fields ?? []).map((f: Node) => f.String?.sval).filter(Boolean) as string[];
      // rel.col, schema.rel.col, or catalog.schema.rel.col (the catalog is the connection's database).
      if (parts.length === 1 ? alone : targets.has(parts.slice(0, -1).join(QUAL)) || (parts.length === 4 && targets.has(parts.slice(1, -1).join(QUAL)))) return true;
      continue;
    }
    if (namesTarget(value, targets, alone)) return true;
  }
  return false;
}

/** True when a condition limits the written rows: every OR branch names a column of the written table. */
function bounds(expr: Node | undefined, targets: Set<string>, alone: boolean): boolean {
  if (!expr) return false;
  const bool = expr.BoolExpr as Node | undefined;
  if (bool?.boolop === 'OR_EXPR') return (bool.args ?? []).every((a: Node) => bounds(a, targets, alone));
  if (bool?.boolop === 'AND_EXPR') return (bool.args ?? []).some((a: Node) => bounds(a, targets, alone));
  return namesTarget(expr, targets, alone);
}

/**
 * Why a write changes every row of its table, or null: an UPDATE or DELETE without WHERE or with a
 * WHERE that does not limit the written rows (`WHERE true`, `WHERE id = 1 OR true`, a condition on
 * another table only, `EXISTS (...)`), a MERGE whose join condition does not (with a MATCHED
 * UPDATE/DELETE).
 */
export function unboundedWriteOf(type: string, node: Node): string | null {
  const targets = targetNames(node);
  if (type === 'UpdateStmt' || type === 'DeleteStmt') {
    if (node.whereCurrentOf) return null;
    if (!node.whereClause) return 'without WHERE';
    const alone = !(node.fromClause?.length || node.usingClause?.length);
    return bounds(node.whereClause, targets, alone) ? null : 'with a WHERE that does not limit its rows';
  }
  if (type === 'MergeStmt' && !bounds(node.joinCondition, targets, false)) {
    const matched = (node.mergeWhenClauses ?? []).map((w: Node) => w.MergeWhenClause).filter((w: Node) => w?.matchKind === 'MERGE_WHEN_MATCHED' && ['CMD_UPDATE', 'CMD_DELETE'].includes(w.commandType));
    if (matched.some((w: Node) => !w.condition || !bounds(w.condition, targets, false))) return 'with an ON condition that does not limit its rows';
  }
  return null;
}
