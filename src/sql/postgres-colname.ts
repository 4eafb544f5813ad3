// The name PostgreSQL gives an output column that has no alias (its FigureColname): lineage must
// find a subquery's columns by the very names the server gives them, or an outer query that
// names one would look for a column that is not there.
import type { Node } from './postgres-commands.js';

const str = (n: Node | undefined): string | undefined => n?.String?.sval;

const SQL_VALUE_FUNCTIONS: Record<string, string> = {
  SVFOP_CURRENT_DATE: 'current_date', SVFOP_CURRENT_TIME: 'current_time', SVFOP_CURRENT_TIME_N: 'current_time',
  SVFOP_CURRENT_TIMESTAMP: 'current_timestamp', SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp', SVFOP_LOCALTIME: 'localtime',
  SVFOP_LOCALTIME_N: 'localtime', SVFOP_LOCALTIMESTAMP: 'localtimestamp', SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
  SVFOP_CURRENT_ROLE: 'current_role', SVFOP_CURRENT_USER: 'current_user', SVFOP_USER: 'user', SVFOP_SESSION_USER: 'session_user',
  SVFOP_CURRENT_CATALOG: 'current_catalog', SVFOP_CURRENT_SCHEMA: 'current_schema',
};
const XML_FUNCTIONS: Record<string, string> = {
  IS_XMLCONCAT: 'xmlconcat', IS_XMLELEMENT: 'xmlelement', IS_XMLFOREST: 'xmlforest', IS_XMLPARSE: 'xmlparse',
  IS_XMLPI: 'xmlpi', IS_XMLROOT: 'xmlroot', IS_XMLSERIALIZE: 'xmlserialize',
};
const JSON_FUNCTIONS: Record<string, string> = { JSON_EXISTS_OP: 'json_exists', JSON_QUERY_OP: 'json_query', JSON_VALUE_OP: 'json_value' };
const FIXED: Record<string, string> = {
  A_ArrayExpr: 'array', RowExpr: 'row', CoalesceExpr: 'coalesce', GroupingFunc: 'grouping', MergeSupportFunc: 'merge_action',
  XmlSerialize: 'xmlserialize', JsonParseExpr: 'json', JsonScalarExpr: 'json_scalar', JsonSerializeExpr: 'json_serialize',
  JsonObjectConstructor: 'json_object', JsonArrayConstructor: 'json_array', JsonArrayQueryConstructor: 'json_array',
  JsonObjectAgg: 'json_objectagg', JsonArrayAgg: 'json_arrayagg',
};

/** [name, strength]: 2 a real name, 1 a fallback (a type or a keyword), 0 none. */
function figure(node: Node | undefined): [string, number] {
  if (!node || typeof node !== 'object') return ['?column?', 0];
  const [type, value] = (Object.entries(node)[0] ?? ['', {}]) as [string, Node];
  switch (type) {
    case 'ColumnRef': {
      const last = str((value.fields ?? []).filter((f: Node) => !f.A_Star).at(-1));
      return last ? [last, 2] : ['?column?', 0];
    }
    case 'A_Indirection': {
      const last = str((value.indirection ?? []).filter((i: Node) => i.String).at(-1));
      return last ? [last, 2] : figure(value.arg);
    }
    case 'FuncCall':
      return [str((value.funcname ?? []).at(-1)) ?? '?column?', 2];
    case 'A_Expr':
      return value.kind === 'AEXPR_NULLIF' ? ['nullif', 2] : ['?column?', 0];
    case 'TypeCast': {
      const inner = figure(value.arg);
      return inner[1] > 1 ? inner : [str((value.typeName?.names ?? []).at(-1)) ?? '?column?', 1];
    }
    case 'CollateClause':
      return figure(value.arg);
    case 'SubLink':
      if (value.subLinkType === 'EXISTS_SUBLINK') return ['exists', 2];
      if (value.subLinkType === 'ARRAY_SUBLINK') return ['array', 2];
      if (value.subLinkType === 'EXPR_SUBLINK') {
        const target = value.subselect?.SelectStmt?.targetList?.[0]?.ResTarget;
        return target?.name ? [target.name, 2] : figure(target?.val);
      }
      return ['?column?', 0];
    case 'CaseExpr': {
      const inner = figure(value.defresult);
      return inner[1] > 1 ? inner : ['case', 1];
    }
    case 'MinMaxExpr':
      return [value.op === 'IS_LEAST' ? 'least' : 'greatest', 2];
    case 'SQLValueFunction':
      return [SQL_VALUE_FUNCTIONS[value.op] ?? '?column?', 2];
    case 'XmlExpr':
      return XML_FUNCTIONS[value.op] ? [XML_FUNCTIONS[value.op], 2] : ['?column?', 0];
    case 'JsonFuncExpr':
      return [JSON_FUNCTIONS[value.op] ?? '?column?', 2];
    default:
      return FIXED[type] ? [FIXED[type], 2] : ['?column?', 0];
  }
}

/** The output column name PostgreSQL gives an expression without an alias. */
export function figureColname(val: Node | undefined): string {
  return figure(val)[0];
}
