// What the target's own catalog says about a command before it runs: whether the names a read calls
// resolve only to built-ins (functions, operators, cast types, and what the views and row-level
// policies it reads call), whether the server reads string literals as the gateway's parser does,
// and the columns and view definitions that column lineage needs.
import type pg from 'pg';
import type { RelationInfo } from '../sql/lineage-postgres.js';
import type { StatementCalls } from '../sql/types.js';

/** Objects made by initdb have OIDs below this; everything a user or an extension made is above. */
const FIRST_NORMAL_OBJECT_ID = 16384;

/** How many views or partition levels deep the check follows; a read reaching further is held. */
const MAX_DEPTH = 32;

/** The relations named in parameter $N (any schema) and, recursively, those their views read. */
const relsCte = (param: number, name = 'rels') => `${name}(oid, depth) AS (
  SELECT c.oid, 0 FROM pg_class c WHERE c.relname = ANY($${param}::text[])
  UNION
  SELECT next.oid, r.depth + 1 FROM ${name} r CROSS JOIN LATERAL (
    -- What a view reads.
    SELECT d.refobjid AS oid FROM pg_rewrite w
      JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid AND d.refclassid = 'pg_class'::regclass
     WHERE w.ev_class = r.oid AND d.refobjid <> r.oid
    UNION ALL
    -- Reading a table reads its partitions and inheritance children too (a foreign one runs its wrapper).
    SELECT i.inhrelid FROM pg_inherits i WHERE i.inhparent = r.oid
  ) next
  WHERE r.depth < ${MAX_DEPTH}
)`;

const bare = (names: string[]) => [...new Set(names.map((n) => n.split('.').at(-1)!))];

// Relations named by the statement, then (recursively) what their views read; with the functions
// and operators those views and their row-level security policies call.
const VET_CTES = `${relsCte(4)}, used AS (
  SELECT d.refclassid, d.refobjid FROM rels r JOIN pg_rewrite w ON w.ev_class = r.oid JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
  UNION
  SELECT d.refclassid, d.refobjid FROM rels r JOIN pg_policy p ON p.polrelid = r.oid JOIN pg_depend d ON d.classid = 'pg_policy'::regclass AND d.objid = p.oid
), ext AS (
  SELECT x.classid, x.objid, e.extname FROM pg_depend x JOIN pg_extension e ON e.oid = x.refobjid WHERE x.deptype = 'e'
)`;
const VET_SELECT = `
SELECT 'function' AS kind, p.proname AS name,
       n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS label,
       (SELECT extname FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid) AS extension,
       p.proname = ANY($1::text[]) AS named
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE p.oid >= ${FIRST_NORMAL_OBJECT_ID} AND (p.proname = ANY($1::text[]) OR p.oid IN (SELECT refobjid FROM used WHERE refclassid = 'pg_proc'::regclass))
UNION ALL
SELECT 'operator', o.oprname, n.nspname || '.' || o.oprname || '(' || format_type(o.oprleft, NULL) || ', ' || format_type(o.oprright, NULL) || ')',
       (SELECT extname FROM ext WHERE ext.classid = 'pg_operator'::regclass AND ext.objid = o.oid), o.oprname = ANY($2::text[])
  FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
 WHERE o.oid >= ${FIRST_NORMAL_OBJECT_ID} AND (o.oprname = ANY($2::text[]) OR o.oid IN (SELECT refobjid FROM used WHERE refclassid = 'pg_operator'::regclass))
UNION ALL
SELECT 'type', t.typname, n.nspname || '.' || t.typname,
       (SELECT extname FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid), true
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.oid >= ${FIRST_NORMAL_OBJECT_ID} AND t.typname = ANY($3::text[])
UNION ALL
SELECT 'cast', t.typname, format_type(c.castsource, NULL) || ' to ' || format_type(c.casttarget, NULL), NULL, true
  FROM pg_cast c JOIN pg_type t ON t.oid = c.casttarget
 WHERE c.oid >= ${FIRST_NORMAL_OBJECT_ID} AND t.typname = ANY($3::text[])
UNION ALL
-- A user-written implicit cast runs wherever PostgreSQL needs it (lower(int_column) through int -> text).
SELECT 'implicit cast', t.typname, format_type(c.castsource, NULL) || ' to ' || format_type(c.casttarget, NULL) || ' (in ' || l.lanname || ')', NULL, false
  FROM pg_cast c JOIN pg_proc p ON p.oid = c.castfunc JOIN pg_language l ON l.oid = p.prolang JOIN pg_type t ON t.oid = c.casttarget
 WHERE c.oid >= ${FIRST_NORMAL_OBJECT_ID} AND c.castcontext IN ('i', 'a') AND l.lanname NOT IN ('c', 'internal')
UNION ALL
-- Reading a foreign table runs its wrapper: file_fdw's program option runs a shell command.
SELECT 'foreign table', c.relname, n.nspname || '.' || c.relname || ' (through ' || w.fdwname || ')', NULL, true
  FROM (SELECT DISTINCT oid FROM rels) r JOIN pg_class c ON c.oid = r.oid AND c.relkind = 'f' JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_foreign_table ft ON ft.ftrelid = c.oid JOIN pg_foreign_server fs ON fs.oid = ft.ftserver JOIN pg_foreign_data_wrapper w ON w.oid = fs.srvfdw
 WHERE w.fdwname NOT IN ('postgres_fdw', 'file_fdw')
    OR EXISTS (SELECT 1 FROM unnest(coalesce(ft.ftoptions, '{}') || coalesce(fs.srvoptions, '{}')) o WHERE o LIKE 'program=%')
UNION ALL
-- The planner runs user functions the statement never names: an index's predicate and expressions
-- (a partial index WHERE id > cutoff()), and a range type's canonical and subtype_diff functions.
SELECT 'planner', p.proname, n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') in ' || l.lanname, NULL, false
  FROM (SELECT DISTINCT oid FROM rels) r
  JOIN pg_index x ON x.indrelid = r.oid
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = x.indexrelid AND d.refclassid = 'pg_proc'::regclass
  JOIN pg_proc p ON p.oid = d.refobjid JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
 WHERE p.oid >= ${FIRST_NORMAL_OBJECT_ID} AND l.lanname NOT IN ('c', 'internal')
UNION ALL
SELECT 'planner', p.proname, n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') in ' || l.lanname, NULL, false
  FROM (SELECT DISTINCT oid FROM rels) r
  JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_range rg ON rg.rngtypid = a.atttypid
  JOIN pg_proc p ON p.oid IN (rg.rngcanonical, rg.rngsubdiff) JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
 WHERE p.oid >= ${FIRST_NORMAL_OBJECT_ID} AND l.lanname NOT IN ('c', 'internal')
UNION ALL
-- A view or partitioned table at the last level followed: what lies below it was not checked.
SELECT 'too deep', c.relname, n.nspname || '.' || c.relname, NULL, false
  FROM (SELECT DISTINCT oid FROM rels WHERE depth = ${MAX_DEPTH}) r JOIN pg_class c ON c.oid = r.oid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE EXISTS (SELECT 1 FROM pg_rewrite w WHERE w.ev_class = r.oid) OR EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = r.oid)
UNION ALL
SELECT 'setting', 'standard_conforming_strings', current_setting('standard_conforming_strings'), NULL, true`;
const VET_SQL = `WITH RECURSIVE ${VET_CTES}${VET_SELECT}`;

interface VetRow {
  kind: string;
  name: string;
  label: string;
  extension: string | null;
  named: boolean;
}

/**
 * Why a read that the parser calls side-effect free is not provably so on this target (empty when it
 * is): a user-defined or extension object that its names may resolve to, one that its views or
 * policies call, or string-literal rules that differ from the parser's.
 */
export async function vetReadOnTarget(client: pg.ClientBase, calls: StatementCalls[], allow: ReadonlySet<string>): Promise<{ writes: string[]; unknown: string[] }> {
  const all = (k: keyof StatementCalls) => calls.flatMap((c) => c[k]);
  const { rows } = await client.query<VetRow>(VET_SQL, [bare(all('functions')), bare(all('operators')), bare(all('types')), bare(all('relations'))]);
  return verdictOf(rows, allow);
}

/** The reasons a read is not provably side-effect free, from the rows of the vetting query. */
function verdictOf(rows: VetRow[], allow: ReadonlySet<string>): { writes: string[]; unknown: string[] } {
  const reasons: string[] = [];
  const unknown: string[] = [];
  for (const r of rows) {
    if (r.kind === 'setting') {
      if (r.label !== 'on') unknown.push(`the target reads string literals with standard_conforming_strings = ${r.label}, not as the gateway's parser does`);
      continue;
    }
    if (r.kind === 'too deep') {
      reasons.push(`it reads ${r.label} through more than ${MAX_DEPTH} levels of views or partitions; the gateway did not check what lies below`);
      continue;
    }
    const allowed = allow.has(r.name) || allow.has(r.label.split('(')[0]);
    if (allowed) continue;
    if (r.kind === 'implicit cast') {
      reasons.push(`the implicit cast ${r.label} is user-written and may run in any expression`);
      continue;
    }
    if (r.kind === 'planner') {
      reasons.push(`planning it runs ${r.label}, a user function (an index predicate or expression, or a range type's function)`);
      continue;
    }
    if (r.kind === 'foreign table') {
      reasons.push(`it reads the foreign table ${r.label}, which runs code outside the database`);
      continue;
    }
    const from = r.extension ? ` from the extension ${r.extension}` : ' defined on this database';
    const how = r.named ? 'may resolve to' : 'is called by a view or policy it reads:';
    reasons.push(`${r.kind === 'cast' ? `a cast ${r.label}` : `${r.kind} name ${r.name}`} ${how} ${r.label}${from}, not a built-in`);
  }
  return { writes: reasons, unknown };
}

// The relations a statement names (any schema) and, recursively, those their views read.
const CATALOG_SELECT = (rels: string) => `
SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, pg_table_is_visible(c.oid) AS visible, c.oid >= ${FIRST_NORMAL_OBJECT_ID} AS "userDefined",
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS definition,
       ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS columns,
       ARRAY(WITH RECURSIVE up(oid, depth) AS (SELECT i.inhparent, 1 FROM pg_inherits i WHERE i.inhrelid = c.oid
                UNION SELECT i.inhparent, u.depth + 1 FROM up u JOIN pg_inherits i ON i.inhrelid = u.oid WHERE u.depth < 16)
             SELECT p.relname::text FROM up JOIN pg_class p ON p.oid = up.oid ORDER BY up.depth) AS ancestors,
       -- The row-level security policies PostgreSQL applies when the relation is read.
       coalesce((SELECT json_agg(json_build_object('name', p.polname, 'qual', pg_get_expr(p.polqual, p.polrelid), 'withCheck', pg_get_expr(p.polwithcheck, p.polrelid)))
                   FROM pg_policy p WHERE p.polrelid = c.oid AND c.relrowsecurity), '[]'::json) AS policies
  FROM (SELECT DISTINCT oid FROM ${rels}) r JOIN pg_class c ON c.oid = r.oid JOIN pg_namespace n ON n.oid = c.relnamespace`;
const CATALOG_SQL = `WITH RECURSIVE ${relsCte(1)}${CATALOG_SELECT('rels')}`;

// Both in one statement, one round trip: the vetting rows and the relations, each as a JSON array.
const INSPECT_SQL = `WITH RECURSIVE ${VET_CTES}, ${relsCte(5, 'crels')}
SELECT (SELECT coalesce(json_agg(v), '[]'::json) FROM (${VET_SELECT}) v) AS vet,
       (SELECT coalesce(json_agg(c), '[]'::json) FROM (${CATALOG_SELECT('crels')}) c) AS relations`;

/** A row-level security policy and its expressions as SQL text. */
export interface CatalogPolicy {
  name: string;
  qual: string | null;
  withCheck: string | null;
}

/**
 * A relation as the catalog has it, whether its bare name resolves to it (search_path), whether a
 * user made it, and the row-level security policies applied when it is read.
 */
export type CatalogRelation = RelationInfo & { visible: boolean; userDefined: boolean; policies: CatalogPolicy[] };

/** Columns, view definitions and policies of the relations `names` may mean, and of what their views read. */
export async function relationsOnTarget(client: pg.ClientBase, names: string[]): Promise<CatalogRelation[]> {
  if (names.length === 0) return [];
  const { rows } = await client.query<CatalogRelation>(CATALOG_SQL, [bare(names)]);
  return rows;
}

/**
 * The vetting of vetReadOnTarget and the relations of relationsOnTarget in one round trip: what a
 * read that runs without review asks the target in the transaction that reads. Prepared once per
 * connection (named), so the server plans it once.
 */
export async function inspectOnTarget(client: pg.ClientBase, calls: StatementCalls[], names: string[], allow: ReadonlySet<string>): Promise<{ writes: string[]; unknown: string[]; relations: CatalogRelation[] }> {
  const all = (k: keyof StatementCalls) => calls.flatMap((c) => c[k]);
  const { rows } = await client.query<{ vet: VetRow[]; relations: CatalogRelation[] }>({
    name: 'hoop-inspect-read-v1',
    text: INSPECT_SQL,
    values: [bare(all('functions')), bare(all('operators')), bare(all('types')), bare(all('relations')), bare(names)],
  });
  const { vet, relations } = rows[0];
  return { ...verdictOf(vet, allow), relations: names.length ? relations : [] };
}
