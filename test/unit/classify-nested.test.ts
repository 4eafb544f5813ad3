// Guardrails see past the top-level command, and reads call only provable built-ins.
import { beforeAll, describe, expect, it } from 'vitest';
import { checkGuardrails, DEFAULT_GUARDRAILS, type GuardrailRule } from '../../src/core/sql-policy.js';
import { classifyPostgres, loadPostgresParser } from '../../src/sql/classify-postgres.js';
import { strictestKind } from '../../src/sql/types.js';

beforeAll(async () => {
  await loadPostgresParser();
});

const rule = (r: Partial<GuardrailRule> & { type: GuardrailRule['type'] }) => ({ name: r.type, message: 'no', ...r }) as GuardrailRule;
const DENY_DELETE = rule({ type: 'deny-command', command: 'DELETE' });
const NO_UNBOUNDED = rule({ type: 'deny-unbounded-write' });
const NO_UNCHECKED = rule({ type: 'deny-unchecked-sql' });
const DENY_DO = rule({ type: 'deny-command', command: 'DO' });
const blockedBy = (sql: string, rules: readonly GuardrailRule[] = DEFAULT_GUARDRAILS) => checkGuardrails(classifyPostgres(sql), rules)?.rule.name ?? null;

describe('guardrails on statements inside statements', () => {
  it.each([
    ["DO $$ BEGIN EXECUTE 'DROP TABLE keepme'; END $$", 'no-drop-table'],
    ['DO $$ BEGIN DROP TABLE keepme; END $$', 'no-drop-table'],
    ["DO $$ BEGIN EXECUTE $q$TRUNCATE users$q$; END $$", 'no-truncate'],
    ['DO $$ DECLARE r record; BEGIN FOR r IN EXECUTE $q$DROP TABLE keepme$q$ LOOP END LOOP; END $$', 'no-drop-table'],
    ['DROP SCHEMA public', 'no-drop-schema'],
    ['DROP SCHEMA public CASCADE', 'no-drop-table'], // CASCADE drops its tables too
    ['DROP OWNED BY CURRENT_USER', 'no-drop-table'], // drops every table the role owns
    ['DROP EXTENSION hstore CASCADE', 'no-drop-table'],
    ["CREATE FUNCTION f() RETURNS void LANGUAGE sql AS 'DROP TABLE keepme'", 'no-drop-table'],
    ['CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DROP TABLE keepme; END $$', 'no-drop-table'],
    ['CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC TRUNCATE users; END', 'no-truncate'],
    ['PREPARE x AS TRUNCATE users', null], // PREPARE cannot hold utility statements: PostgreSQL refuses it
    ["DO $$ BEGIN EXECUTE 'DO $i$ BEGIN EXECUTE ''DROP TABLE keepme''; END $i$'; END $$", 'no-drop-table'],
  ])('%s is blocked by %s', (sql, expected) => {
    expect(blockedBy(sql)).toBe(expected);
  });

  it.each([
    'PREPARE x AS DELETE FROM users; EXECUTE x',
    'WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d',
    'EXPLAIN ANALYZE DELETE FROM users',
    'CREATE RULE r AS ON INSERT TO t DO INSTEAD DELETE FROM users',
    'DO $$ BEGIN DELETE FROM users; END $$',
    'DELETE FROM users WHERE true',
    'DELETE FROM users WHERE 1 = 1',
    "DELETE FROM users WHERE 'a' <> 'b' OR false",
    'MERGE INTO users u USING (SELECT 1) s ON true WHEN MATCHED THEN DELETE',
    // An alias with a dot in it is one name, not the written table's schema-qualified name.
    'DELETE FROM public.users USING other AS "public.users" WHERE "public.users".id = 1',
    'MERGE INTO public.users USING other AS "public.users" ON "public.users".id = 1 WHEN MATCHED THEN DELETE',
    'DELETE FROM users USING other AS "public.users" WHERE "public.users".id = 1 OR users.id = 2',
  ])('a DELETE without WHERE inside "%s" is denied by deny:DELETE and no-unbounded-write', (sql) => {
    expect(blockedBy(sql, [DENY_DELETE])).toBe('deny-command');
    expect(blockedBy(sql, [NO_UNBOUNDED])).toBe('deny-unbounded-write');
  });

  it('lets bounded writes pass no-unbounded-write', () => {
    expect(blockedBy('DO $$ BEGIN DELETE FROM users WHERE id = 1; END $$', [NO_UNBOUNDED])).toBeNull();
    expect(blockedBy('DELETE FROM users WHERE id = (SELECT 1)', [NO_UNBOUNDED])).toBeNull();
    expect(blockedBy('MERGE INTO users u USING src s ON u.id = s.id WHEN MATCHED THEN DELETE', [NO_UNBOUNDED])).toBeNull();
    expect(blockedBy('MERGE INTO users u USING (SELECT 1) s ON true WHEN NOT MATCHED THEN INSERT VALUES (1)', [NO_UNBOUNDED])).toBeNull();
    expect(blockedBy('UPDATE public.accounts SET balance = 0 FROM other AS "public.accounts" WHERE "public.accounts".id = 1', [NO_UNBOUNDED])).toBe('deny-unbounded-write');
    // The written table named by schema, or by database and schema, bounds the write.
    expect(blockedBy('DELETE FROM public.users USING other WHERE public.users.id = other.id', [NO_UNBOUNDED])).toBeNull();
    expect(blockedBy('DELETE FROM public.users USING other WHERE mydb.public.users.id = 1', [NO_UNBOUNDED])).toBeNull();
    expect(blockedBy('DELETE FROM users USING other AS "public.users" WHERE users.id = 1', [NO_UNBOUNDED])).toBeNull();
  });

  it('names why a write changes every row', () => {
    expect(classifyPostgres('UPDATE users SET a = 1 WHERE 1 = 1').statements[0].warnings[0]).toBe('UPDATE with a WHERE that does not limit its rows changes every row of users');
    expect(classifyPostgres('MERGE INTO users u USING (SELECT 1) s ON true WHEN MATCHED THEN DELETE').statements[0].warnings[0]).toBe('MERGE with an ON condition that does not limit its rows changes every row of users');
  });
});

describe('SQL the guardrails cannot check', () => {
  it.each([
    ["DO $$ BEGIN EXECUTE 'DROP ' || 'TABLE keepme'; END $$", 'runs SQL built at run time'],
    ["DO $$ BEGIN EXECUTE format('DROP TABLE %I', 'keepme'); END $$", 'runs SQL built at run time'],
    ['DO LANGUAGE plpython3u $$ plpy.execute("DROP TABLE keepme") $$', 'written in plpython3u'],
    ['EXECUTE prepared_before', 'prepared outside this request'],
    ["SELECT dblink_exec('dbname=x', 'DROP TABLE keepme')", 'dblink_exec() runs SQL given to it as text'],
    ["CREATE FUNCTION f(t text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE t; END $$", 'the body of function f runs SQL built at run time'],
    ['DO $$ BEGIN NOT VALID PLPGSQL; END $$', 'the DO block could not be read'],
    ["COPY (SELECT 1) TO PROGRAM 'rm -rf /'", 'COPY TO PROGRAM runs a shell command on the database server'],
    ["COPY users FROM PROGRAM 'curl http://x'", 'COPY FROM PROGRAM runs a shell command on the database server'],
  ])('%s warns reviewers (%s) and is denied by no-unchecked-sql and deny:DO', (sql, why) => {
    const [s] = classifyPostgres(sql).statements;
    expect(s.warnings.join(' ')).toContain('contains SQL the guardrails cannot check');
    expect(s.warnings.join(' ')).toContain(why);
    expect(blockedBy(sql, [NO_UNCHECKED])).toBe('deny-unchecked-sql');
    if (sql.startsWith('DO')) expect(blockedBy(sql, [DENY_DO])).toBe('deny-command');
  });

  it('does not warn about SQL it could read', () => {
    for (const sql of ["DO $$ BEGIN EXECUTE 'SELECT 1'; END $$", 'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$', 'SELECT 1']) {
      expect(classifyPostgres(sql).statements[0].uncheckedSql).toBeUndefined();
    }
  });
});

describe('reads call only provable built-ins', () => {
  it.each([
    ['SELECT "LOWER"(email) FROM users', 'LOWER'],
    ['SELECT public.lower(email) FROM users', 'public.lower'],
    ['SELECT a OPERATOR(public.###) b FROM t', 'the operator public.###'],
    ['SELECT a === b FROM t', 'the operator ==='],
    ["SELECT 'x'::mood", 'a cast to mood'],
    ["SELECT CAST('x' AS public.mood)", 'a cast to public.mood'],
    ['EXPLAIN SELECT my_immutable(1)', 'my_immutable'],
    ['SELECT id FROM users ORDER BY id USING <<<', 'the operator <<<'],
    ["SELECT * FROM XMLTABLE('/a' PASSING '<a/>' COLUMNS v logged_text PATH 'b') t", 'a cast to logged_text'],
    ["SELECT XMLSERIALIZE(CONTENT '<a/>' AS logged_text)", 'a cast to logged_text'],
    ['SELECT * FROM t WHERE a @@@@ b', 'the operator @@@@'],
  ])('%s is a write naming %s', (sql, name) => {
    const [s] = classifyPostgres(sql).statements;
    expect(s.kind).toBe('write');
    expect(s.warnings.join(' ')).toContain(name);
  });

  it.each([
    "SELECT lower(email), pg_catalog.upper(status) FROM users WHERE email LIKE 'a%' AND id BETWEEN 1 AND 5",
    "SELECT id::text, '2024-01-01'::date, CAST(1 AS bigint), x::numeric(10, 2) FROM t",
    "SELECT * FROM t WHERE tags @> ARRAY['a'] AND doc ->> 'k' = 'v' AND name ~* '^a' AND id = ANY('{1,2}')",
    'SELECT id FROM t WHERE a IS DISTINCT FROM b AND c IN (1, 2) AND d NOT BETWEEN 3 AND 4',
    'EXPLAIN SELECT count(*) FROM users',
  ])('%s stays a read', (sql) => {
    expect(strictestKind(classifyPostgres(sql).statements)).toBe('read');
  });

  it('lets a connection allow-list a function or an operator by its exact name', () => {
    expect(classifyPostgres('SELECT a === b FROM t', { allowFunctions: ['==='] }).statements[0].kind).toBe('read');
    expect(classifyPostgres('SELECT "LOWER"(x) FROM t', { allowFunctions: ['lower'] }).statements[0].kind).toBe('write');
  });

  it('lists what a read calls, for the check against the target catalog', () => {
    const [s] = classifyPostgres("SELECT lower(email)::text FROM users u JOIN app.orders o ON o.id = u.id WHERE email LIKE 'a%'").statements;
    expect(s.calls).toEqual({ functions: ['lower'], operators: ['=', '~~'], types: ['text'], relations: ['users', 'app.orders'] });
  });
});

describe('the statement cap', () => {
  it('stops after counting when the input has more statements than allowed', () => {
    const c = classifyPostgres('SELECT 1;'.repeat(11), { maxStatements: 10 });
    expect(c.tooManyStatements).toBe(11);
    expect(c.statements).toEqual([]);
    expect(classifyPostgres('SELECT 1;'.repeat(10), { maxStatements: 10 }).statements).toHaveLength(10);
  });
});
