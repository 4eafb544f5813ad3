// Built-in functions that only read: a SELECT calling nothing else may run without review. Every
// other function (user-defined, volatile, or with side effects such as nextval, set_config,
// pg_terminate_backend, lo_import) makes the statement a write unless the connection allow-lists it.
const NAMES = `
count sum avg min max array_agg string_agg json_agg jsonb_agg json_object_agg jsonb_object_agg bool_and bool_or every
stddev stddev_pop stddev_samp variance var_pop var_samp corr covar_pop covar_samp regr_slope regr_intercept
percentile_cont percentile_disc mode row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value
last_value nth_value bit_and bit_or
abs ceil ceiling floor round trunc mod power pow sqrt cbrt exp ln log log10 sign pi degrees radians sin cos tan asin
acos atan atan2 random div gcd lcm factorial width_bucket scale
lower upper initcap length char_length character_length octet_length bit_length substr substring position strpos
trim btrim ltrim rtrim replace translate split_part concat concat_ws format left right lpad rpad repeat reverse md5
sha224 sha256 sha384 sha512 encode decode to_char to_date to_timestamp to_number chr ascii to_hex quote_ident
quote_literal quote_nullable starts_with regexp_replace regexp_match regexp_matches regexp_split_to_table
regexp_split_to_array regexp_like regexp_count regexp_instr regexp_substr string_to_array string_to_table
array_to_string array_length array_lower array_upper array_position array_positions array_append array_prepend
array_cat array_remove array_replace array_dims array_ndims cardinality unnest generate_series generate_subscripts
now clock_timestamp statement_timestamp transaction_timestamp timeofday date_trunc date_part extract age make_date
make_time make_timestamp make_timestamptz make_interval justify_days justify_hours justify_interval date_bin
isfinite timezone to_json to_jsonb row_to_json array_to_json json_build_object jsonb_build_object json_build_array
jsonb_build_array json_object jsonb_object json_extract_path json_extract_path_text jsonb_extract_path
jsonb_extract_path_text json_array_elements jsonb_array_elements json_array_elements_text jsonb_array_elements_text
json_each jsonb_each json_each_text jsonb_each_text json_object_keys jsonb_object_keys json_typeof jsonb_typeof
json_array_length jsonb_array_length jsonb_pretty jsonb_set jsonb_insert jsonb_strip_nulls json_strip_nulls
jsonb_path_query jsonb_path_exists jsonb_path_match to_tsvector to_tsquery plainto_tsquery websearch_to_tsquery
ts_rank ts_headline
pg_typeof version current_setting current_database current_schema current_schemas current_user session_user
pg_size_pretty pg_total_relation_size pg_relation_size pg_database_size pg_table_size pg_indexes_size
pg_column_size has_table_privilege has_column_privilege has_schema_privilege has_database_privilege
pg_get_viewdef pg_get_indexdef pg_get_constraintdef pg_get_functiondef pg_get_triggerdef pg_get_expr
pg_get_userbyid format_type obj_description col_description shobj_description pg_backend_pid
pg_postmaster_start_time pg_conf_load_time inet_client_addr inet_server_addr pg_is_in_recovery
pg_last_xact_replay_timestamp pg_current_wal_lsn pg_wal_lsn_diff pg_sleep gen_random_uuid pg_table_is_visible
pg_encoding_to_char pg_client_encoding to_regclass to_regtype num_nonnulls num_nulls host network netmask
masklen broadcast family abbrev text int2 int4 int8 float4 float8 numeric bool date time timestamp timestamptz
interval varchar bpchar
has_function_privilege has_sequence_privilege has_type_privilege has_any_column_privilege has_language_privilege
has_foreign_data_wrapper_privilege has_server_privilege has_tablespace_privilege has_parameter_privilege pg_has_role
pg_get_function_arg_default pg_get_function_arguments pg_get_function_identity_arguments pg_get_function_result
pg_get_ruledef pg_get_statisticsobjdef pg_get_partkeydef pg_get_serial_sequence pg_partition_tree pg_partition_root
pg_partition_ancestors makeaclitem aclexplode pg_trigger_depth currval lastval pg_input_is_valid
`;

export const SAFE_FUNCTIONS: ReadonlySet<string> = new Set(NAMES.split(/\s+/).filter(Boolean));

// Operators and types of a stock PostgreSQL (pg_operator / pg_type rows with oid < 16384, the ones
// initdb makes). A read may use these; whether the target has user-defined ones of the same name is
// checked against its catalog before the read runs. Anything else makes a statement a write.
const OPERATORS = `
!! !~ !~* !~~ !~~* # ## #- #> #>> % & && &< &<| &> * *< *<= *<> *= *> *>= + - -> ->> -|- / < <-> << <<= <<| <= <> <@ <^ = >
>= >> >>= >^ ? ?# ?& ?- ?-| ?| ?|| @ @-@ @> @? @@ @@@ ^ ^@ | |&> |/ |>> || ||/ ~ ~* ~<=~ ~<~ ~= ~>=~ ~>~ ~~ ~~* !=
`;

const TYPES = `
aclitem bit bool box bpchar bytea char cid cidr circle date datemultirange daterange float4 float8 gtsvector 
inet int2 int2vector int4 int4multirange int4range int8 int8multirange int8range interval json jsonb jsonpath 
line lseg macaddr macaddr8 money name numeric nummultirange numrange oid oidvector path pg_brin_bloom_summary 
pg_brin_minmax_multi_summary pg_dependencies pg_lsn pg_mcv_list pg_ndistinct pg_node_tree pg_snapshot point 
polygon refcursor regclass regcollation regconfig regdictionary regnamespace regoper regoperator regproc 
regprocedure regrole regtype text tid time timestamp timestamptz timetz tsmultirange tsquery tsrange 
tstzmultirange tstzrange tsvector txid_snapshot uuid varbit varchar xid xid8 xml
`;

export const SAFE_OPERATORS: ReadonlySet<string> = new Set(OPERATORS.split(/\s+/).filter(Boolean));
export const SAFE_TYPES: ReadonlySet<string> = new Set(TYPES.split(/\s+/).filter(Boolean));

/**
 * An allow-list entry as PostgreSQL would name it: unquoted parts fold to lower case, "quoted" parts
 * keep theirs (`My_Report` means my_report; `"MyReport"` means MyReport); operators stay as written.
 */
export function allowListName(entry: string): string {
  return entry
    .trim()
    .split('.')
    .map((part) => (/^".*"$/.test(part) ? part.slice(1, -1) : /^[A-Za-z_]/.test(part) ? part.toLowerCase() : part))
    .join('.');
}

/** Allow-list entries as names compare: exactly, after allowListName. */
export function allowListSet(entries: readonly string[] | undefined): ReadonlySet<string> {
  return new Set((entries ?? []).map(allowListName));
}

/** The bare name of `name` or `pg_catalog.name` (where built-ins live), else null. */
export function builtinName(qualified: string): string | null {
  const parts = qualified.split('.');
  if (parts.length === 1) return parts[0];
  return parts.length === 2 && parts[0] === 'pg_catalog' ? parts[1] : null;
}

/** True for a built-in function whose result depends only on its arguments. */
export function isSafeBuiltinFunction(qualified: string): boolean {
  const bare = builtinName(qualified);
  return bare !== null && SAFE_FUNCTIONS.has(bare);
}
