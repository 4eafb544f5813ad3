// MySQL/MariaDB statements whose first words hide what they run: the classifier reports the command
// that really runs, and the statements they carry (`nested`), so the unchanged guardrails apply.
import { describe, expect, it } from 'vitest';
import { checkGuardrails, DEFAULT_GUARDRAILS, routeCommand, type GuardrailRule } from '../../src/core/sql-policy.js';
import { classifyMysql } from '../../src/sql/classify-mysql.js';

const NO_UNBOUNDED: GuardrailRule = { type: 'deny-unbounded-write', name: 'no-unbounded-write', message: 'Add a WHERE clause.' };
const NO_UNCHECKED: GuardrailRule = { type: 'deny-unchecked-sql', name: 'no-unchecked-sql', message: 'Unchecked.' };
const DENY_DELETE: GuardrailRule = { type: 'deny-command', name: 'deny-delete', command: 'DELETE', message: 'No DELETE.' };
const DENY_UPDATE: GuardrailRule = { type: 'deny-command', name: 'deny-update', command: 'UPDATE', message: 'No UPDATE.' };
const ALL = [...DEFAULT_GUARDRAILS, NO_UNBOUNDED, NO_UNCHECKED];

const first = (sql: string) => classifyMysql(sql).statements[0];
const blockedBy = (sql: string, rules: readonly GuardrailRule[] = DEFAULT_GUARDRAILS) => checkGuardrails(classifyMysql(sql), rules)?.rule.name ?? null;
const nestedCommands = (sql: string) => classifyMysql(sql).statements.flatMap((s) => (s.nested ?? []).map((n) => n.command));

describe('DROP TABLE however it is spelt', () => {
  it.each([
    'DROP TABLES keep1',
    'drop tables keep1',
    'DrOp TaBlEs `keep1`',
    'DROP /* why not */ TABLES `keep1`',
    'DROP -- a comment\nTABLES keep1',
    'DROP\n\tTABLES\n  keep1 ,  keep2',
    'DROP TEMPORARY TABLE keep1',
    'DROP TEMPORARY TABLES IF EXISTS keep1',
    'DROP TABLE IF EXISTS a, b',
    'DROP TABLE IF EXISTS `a`, `b` CASCADE',
    'DROP /*!40101 TEMPORARY */ TABLE keep1',
    'DROP TABLE keep1 WAIT 5',
    'DROP WIDGET keep1', // an object it does not know: read as the DROP that loses data
  ])('%j is DROP TABLE, blocked by no-drop-table', (sql) => {
    expect(first(sql).command).toBe('DROP TABLE');
    expect(blockedBy(sql)).toBe('no-drop-table');
  });

  it.each([
    ['DROP VIEW v', 'DROP VIEW'],
    ['DROP SCHEMA s', 'DROP DATABASE'],
    ['DROP PREPARE s', 'DEALLOCATE PREPARE'],
    ['DROP INDEX i ON t', 'DROP INDEX'],
  ])('%j stays %s', (sql, command) => {
    expect(first(sql).command).toBe(command);
    expect(blockedBy(sql, [DEFAULT_GUARDRAILS[0]])).toBeNull();
  });
});

describe('a statement that runs another one now takes its command and kind', () => {
  it.each<[string, string, string | null]>([
    ['SET STATEMENT max_statement_time=100 FOR DROP TABLE keep2', 'DROP TABLE', 'no-drop-table'],
    ['set statement max_statement_time = 100 for drop table keep2', 'DROP TABLE', 'no-drop-table'],
    ['SET /* a */ STATEMENT max_statement_time=100, sql_mode="" FOR /* b */ DROP TABLES `keep2`', 'DROP TABLE', 'no-drop-table'],
    ['SET STATEMENT max_statement_time=(SELECT 1 FOR UPDATE) FOR TRUNCATE t', 'TRUNCATE', 'no-truncate'],
    ["SET STATEMENT sql_mode='' FOR SET STATEMENT max_statement_time=1 FOR TRUNCATE TABLE t", 'TRUNCATE', 'no-truncate'],
    ['SET STATEMENT x=1 FOR CREATE OR REPLACE TABLE t (id int)', 'CREATE TABLE', 'no-drop-table'],
    ["SET STATEMENT x=1 FOR EXECUTE IMMEDIATE 'DROP TABLE t'", 'DROP TABLE', 'no-drop-table'],
    ['SET STATEMENT max_statement_time=100 FOR DELETE FROM rows3', 'DELETE', 'no-unbounded-write'],
    ['SET STATEMENT max_statement_time=100 FOR UPDATE t SET a = 1 WHERE 1=1', 'UPDATE', 'no-unbounded-write'],
    ['SET STATEMENT max_statement_time=100 FOR DELETE FROM rows3 WHERE id = 1', 'DELETE', null],
    ['ANALYZE DELETE FROM rows4', 'DELETE', 'no-unbounded-write'],
    ['analyze delete from `rows4`', 'DELETE', 'no-unbounded-write'],
    ['ANALYZE FORMAT=JSON DELETE FROM rows4', 'DELETE', 'no-unbounded-write'],
    ['ANALYZE /* c */ format = json UPDATE t SET a = 1', 'UPDATE', 'no-unbounded-write'],
    ['ANALYZE DROP TABLE t', 'DROP TABLE', 'no-drop-table'],
    ['EXPLAIN ANALYZE DELETE FROM t', 'DELETE', 'no-unbounded-write'],
    ['EXPLAIN FORMAT=TREE ANALYZE DELETE FROM t WHERE true', 'DELETE', 'no-unbounded-write'],
    ['DESCRIBE ANALYZE TRUNCATE t', 'TRUNCATE', 'no-truncate'],
    ['WITH RECURSIVE x (n) AS (SELECT 1) DELETE LOW_PRIORITY FROM t', 'DELETE', 'no-unbounded-write'],
    ["EXECUTE IMMEDIATE 'DROP TABLE t'", 'DROP TABLE', 'no-drop-table'],
    ["EXECUTE IMMEDIATE 'TRUNCATE ' 't'", 'TRUNCATE', 'no-truncate'],
    ["execute immediate _utf8mb4'DELETE FROM t'", 'DELETE', 'no-unbounded-write'],
  ])('%j runs %s (blocked by %s)', (sql, command, rule) => {
    const s = first(sql);
    expect(s.command).toBe(command);
    expect(s.kind).not.toBe('read');
    expect(blockedBy(sql, ALL)).toBe(rule);
  });

  it.each([
    ['SET STATEMENT max_statement_time=100 FOR DROP TABLE keep2', 'DROP TABLE keep2'],
    ['ANALYZE FORMAT=JSON DELETE FROM rows4 WHERE id = 1', 'DELETE FROM rows4 WHERE id = 1'],
    ["EXECUTE IMMEDIATE 'GRANT SELECT ON db.* TO u'", 'GRANT SELECT ON db.* TO u'],
    ['SET STATEMENT x=1 FOR DROP TABLES keep2', 'DROP TABLES keep2'],
  ])('gives %j the kind, command and tables of %j on its own', (sql, inner) => {
    const s = first(sql);
    const alone = first(inner);
    expect([s.kind, s.command, s.tables, s.unboundedWrite]).toEqual([alone.kind, alone.command, alone.tables, alone.unboundedWrite]);
  });

  it('says what runs, in words reviewers read', () => {
    expect(first('SET STATEMENT max_statement_time=100 FOR DROP TABLE keep2').warnings).toContain('SET STATEMENT … FOR runs DROP TABLE, with the settings before FOR');
    expect(first('ANALYZE DELETE FROM rows4').warnings).toEqual(['DELETE without WHERE changes every row of rows4', 'ANALYZE runs DELETE (it does not only plan it) and reports how it ran']);
  });

  it.each(['ANALYZE SELECT * FROM t', 'SET STATEMENT max_statement_time=1 FOR SELECT 1', "EXECUTE IMMEDIATE 'SELECT 1'", 'EXPLAIN ANALYZE SELECT 1'])(
    'holds the read %j for review: only plain reads run at once',
    (sql) => {
      const c = classifyMysql(sql);
      expect(c.statements[0]).toMatchObject({ kind: 'unknown', command: 'SELECT' });
      expect(routeCommand(c, 'writes', true)).toBe('review');
    },
  );

  it.each([
    ['ANALYZE TABLE t', 'ANALYZE TABLE'],
    ['ANALYZE LOCAL TABLE t', 'ANALYZE TABLE'],
    ['EXPLAIN DELETE FROM t', 'EXPLAIN'], // plain EXPLAIN only plans
    ['EXPLAIN FOR CONNECTION 3', 'EXPLAIN'],
  ])('%j carries nothing: %s', (sql, command) => {
    const s = first(sql);
    expect(s.command).toBe(command);
    expect(s.nested).toBeUndefined();
    expect(blockedBy(sql, ALL)).toBeNull();
  });

  it('holds SET STATEMENT without FOR as SQL it cannot check', () => {
    expect(first('SET STATEMENT max_statement_time=1')).toMatchObject({ kind: 'unknown', uncheckedSql: [expect.stringContaining('without FOR')] });
  });
});

describe('PREPARE and EXECUTE', () => {
  it.each<[string, string, number]>([
    ["PREPARE s FROM 'DROP TABLE t'", 'no-drop-table', 0],
    ["PREPARE s FROM 'SELECT 1'; PREPARE t FROM 'DROP TABLE t'; EXECUTE t", 'no-drop-table', 1],
    ["prepare S from 'truncate t'", 'no-truncate', 0],
    ["PREPARE `s` FROM _utf8mb4'DROP ' 'TABLE t'", 'no-drop-table', 0],
    ['PREPARE s FROM "DROP TABLE t"', 'no-drop-table', 0],
    ["PREPARE s FROM 'SET STATEMENT x=1 FOR DROP TABLE t'", 'no-drop-table', 0],
    ["PREPARE s FROM 'DELETE FROM t'", 'no-unbounded-write', 0],
    ["PREPARE s /* c */ FROM 'UPDATE t SET a = 1 WHERE 1'", 'no-unbounded-write', 0],
    ["SET @q = 'DROP TABLE t'; PREPARE s FROM @q", 'no-drop-table', 1],
    ["SET @q := 'TRUNCATE t'; EXECUTE IMMEDIATE @q", 'no-truncate', 1],
  ])('%j is blocked by %s at statement %i', (sql, rule, index) => {
    expect(checkGuardrails(classifyMysql(sql), ALL)).toMatchObject({ rule: { name: rule }, statement: { index } });
  });

  it('lets EXECUTE of a statement prepared in the same input carry it, by case-insensitive name', () => {
    const [prepare, execute] = classifyMysql("PREPARE s FROM 'DELETE FROM t WHERE id = 1'; EXECUTE S USING @a").statements;
    expect(prepare).toMatchObject({ command: 'PREPARE', kind: 'write', nested: [{ command: 'DELETE', unboundedWrite: false }] });
    expect(execute).toMatchObject({ command: 'EXECUTE', kind: 'write', nested: [{ command: 'DELETE', unboundedWrite: false }] });
    expect(execute.uncheckedSql).toBeUndefined();
  });

  it.each([
    ['PREPARE s FROM @q', 'PREPARE s runs the SQL held in @q, which the gateway cannot check'],
    ["PREPARE s FROM CONCAT('DROP ', 'TABLE t')", "PREPARE s runs SQL built at run time (CONCAT('DROP ', 'TABLE t'))"],
    ["PREPARE s FROM X'44524f50'", "PREPARE s runs SQL built at run time (X'44524f50')"],
    ['EXECUTE s', 'EXECUTE s runs a statement prepared outside this request'],
    ["PREPARE s FROM 'DROP TABLE t'; DEALLOCATE PREPARE s; EXECUTE s", 'EXECUTE s runs a statement prepared outside this request'],
    ['EXECUTE IMMEDIATE @q', 'EXECUTE IMMEDIATE runs the SQL held in @q, which the gateway cannot check'],
    ["EXECUTE IMMEDIATE CONCAT('TRUNCATE ', 't')", "EXECUTE IMMEDIATE runs SQL built at run time (CONCAT('TRUNCATE ', 't'))"],
  ])('flags %j as SQL it cannot check', (sql, why) => {
    const c = classifyMysql(sql);
    const s = c.statements.at(-1)!;
    expect(s.kind).toBe('unknown');
    expect(s.uncheckedSql).toEqual([why]);
    expect(s.warnings).toContain(`contains SQL the guardrails cannot check: ${why}`);
    expect(checkGuardrails(c, [NO_UNCHECKED])?.statement.index).toBe(c.statements.length - 1);
  });

  it('still shows what a variable set above holds, though it cannot trust it', () => {
    const [, prepare] = classifyMysql("SET @q = 'DELETE FROM t'; PREPARE s FROM @q").statements;
    expect(prepare).toMatchObject({ kind: 'unknown', nested: [{ command: 'DELETE', unboundedWrite: true }], uncheckedSql: [expect.stringContaining('@q')] });
  });
});

describe('statements that drop, delete or update more than their command says', () => {
  it.each<[string, string, string]>([
    ['CREATE OR REPLACE TABLE keep5 (id int)', 'DROP TABLE', 'no-drop-table'],
    ['create or replace table keep5 as select 1', 'DROP TABLE', 'no-drop-table'],
    ['CREATE OR REPLACE TEMPORARY TABLE t (id int)', 'DROP TABLE', 'no-drop-table'],
    ['CREATE /* c */ OR /* d */ REPLACE TABLE `keep5` LIKE other', 'DROP TABLE', 'no-drop-table'],
    ['CREATE /*! OR REPLACE */ TABLE keep5 (id int)', 'DROP TABLE', 'no-drop-table'],
    ['CREATE OR REPLACE DATABASE d', 'DROP DATABASE', 'no-drop-database'],
    ['CREATE OR REPLACE SCHEMA d', 'DROP DATABASE', 'no-drop-database'],
    ['ALTER TABLE t TRUNCATE PARTITION p0', 'TRUNCATE', 'no-truncate'],
    ['alter table `t` truncate partition p0, p1', 'TRUNCATE', 'no-truncate'],
    ['REPLACE INTO t VALUES (1)', 'DELETE', 'deny-delete'],
    ['REPLACE t SET id = 1', 'DELETE', 'deny-delete'],
    ['replace into t select * from u', 'DELETE', 'deny-delete'],
    ["LOAD DATA INFILE '/tmp/x' REPLACE INTO TABLE t", 'DELETE', 'deny-delete'],
    ['INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = 1', 'UPDATE', 'deny-update'],
    ['insert into t select * from u on /* c */ duplicate key update a = values(a)', 'UPDATE', 'deny-update'],
  ])('%j carries %s (blocked by %s)', (sql, nested, rule) => {
    expect(nestedCommands(sql)).toContain(nested);
    expect(blockedBy(sql, [...DEFAULT_GUARDRAILS, DENY_DELETE, DENY_UPDATE])).toBe(rule);
  });

  it.each([
    ['CREATE OR REPLACE VIEW v AS SELECT 1', 'DROP VIEW'],
    ['CREATE OR REPLACE SEQUENCE s', 'DROP SEQUENCE'],
    ['CREATE OR REPLACE USER u', 'DROP USER'],
  ])('%j carries %s, which the default rules allow', (sql, nested) => {
    expect(nestedCommands(sql)).toEqual([nested]);
    expect(blockedBy(sql)).toBeNull();
  });

  it.each(['CREATE TABLE t (id int)', 'INSERT INTO t VALUES (1)', "LOAD DATA INFILE '/tmp/x' INTO TABLE t", 'ALTER TABLE t ADD COLUMN c int'])('%j carries nothing', (sql) => {
    expect(first(sql).nested).toBeUndefined();
  });

  it.each(['TRUNCATE t', 'truncate table `t`', 'TRUNCATE /* x */ TABLE t WAIT 1', 'TrUnCaTe\n`db`.`t`'])('%j is TRUNCATE', (sql) => {
    expect(first(sql).command).toBe('TRUNCATE');
    expect(blockedBy(sql)).toBe('no-truncate');
  });

  it('reads RENAME TABLE as RENAME TABLE: the server refuses to rename over an existing table, so nothing is dropped', () => {
    expect(first('rename table `a` to `b`, c to a')).toMatchObject({ kind: 'ddl', command: 'RENAME TABLE' });
    expect(first('RENAME TABLE a TO b').nested).toBeUndefined();
  });

  it.each<[string, string, string]>([
    ["LOAD DATA LOCAL INFILE '/tmp/x' INTO TABLE t", 'write', 'LOAD DATA'],
    ["LOAD XML INFILE '/tmp/x' INTO TABLE t", 'unknown', 'LOAD XML'],
  ])('reads %j as a %s, %s, of rows from a file the gateway cannot see', (sql, kind, command) => {
    expect(first(sql)).toMatchObject({ kind, command });
  });

  it.each(['HANDLER `t` OPEN AS h', 'handler t read first'])('holds %j, which reads a table past any query, for review', (sql) => {
    const c = classifyMysql(sql);
    expect(c.statements[0]).toMatchObject({ kind: 'unknown', command: 'HANDLER', tables: ['t'] });
    expect(c.statements[0].warnings).toContain('HANDLER reads rows of a table directly, not through a query the gateway can check');
    expect(routeCommand(c, 'writes', true)).toBe('review');
  });

  it('says that CREATE OR REPLACE drops the table with its rows', () => {
    expect(first('CREATE OR REPLACE TABLE keep5 (id int)').warnings).toContain('CREATE OR REPLACE drops any existing table of that name first, with its rows');
  });
});
