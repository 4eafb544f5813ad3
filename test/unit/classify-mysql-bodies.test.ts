// MySQL/MariaDB: writes whose WHERE bounds nothing, stored programs and compound statements whose
// bodies the guardrails must see when they are created, and statements whose SQL cannot be checked.
import { describe, expect, it } from 'vitest';
import { checkGuardrails, DEFAULT_GUARDRAILS, routeCommand, type GuardrailRule } from '../../src/core/sql-policy.js';
import { classifyMysql } from '../../src/sql/classify-mysql.js';

const NO_UNBOUNDED: GuardrailRule = { type: 'deny-unbounded-write', name: 'no-unbounded-write', message: 'Add a WHERE clause.' };
const NO_UNCHECKED: GuardrailRule = { type: 'deny-unchecked-sql', name: 'no-unchecked-sql', message: 'Unchecked.' };
const ALL = [...DEFAULT_GUARDRAILS, NO_UNBOUNDED, NO_UNCHECKED];

const first = (sql: string) => classifyMysql(sql).statements[0];
const blockedBy = (sql: string, rules: readonly GuardrailRule[] = ALL) => checkGuardrails(classifyMysql(sql), rules)?.rule.name ?? null;

describe('UPDATE and DELETE whose WHERE does not bound them', () => {
  it.each([
    'DELETE FROM t WHERE true',
    'DELETE FROM t WHERE 1=1',
    'delete from t where 1',
    'DELETE FROM t WHERE 1 = 1 AND 2 = 2',
    "DELETE FROM t WHERE 'a' = 'a'",
    'DELETE FROM t WHERE @x',
    'DELETE FROM t WHERE @@autocommit = 1',
    'DELETE FROM t WHERE NOW() > 0',
    'DELETE FROM t WHERE id = 1 OR 1 = 1',
    'DELETE FROM t WHERE (id = 1) or (TRUE)',
    'DELETE FROM t WHERE id = 1 || 1', // the server reads (id = 1) OR 1
    'DELETE FROM t WHERE EXISTS (SELECT 1 FROM u)',
    'DELETE FROM t WHERE (SELECT count(*) FROM u WHERE u.x > 0) > 0',
    'DELETE t1 FROM t1, t2 WHERE t2.x = 1', // names only the table it does not delete from
    'DELETE a, b FROM a JOIN b ON a.id = b.id',
    'DELETE FROM t /* c */ WHERE /* d */ 1 = 1 ORDER BY id LIMIT 10',
    'DELETE LOW_PRIORITY QUICK IGNORE FROM t WHERE 1', // not parsed: read from the tokens
    'DELETE FROM a, b USING a JOIN b ON a.id = b.id WHERE 1=1',
    'DELETE IGNORE FROM t WHERE NOW() - INTERVAL 1 DAY > 0',
    'UPDATE t SET a = 1 WHERE TRUE',
    'UPDATE t SET a = 1 WHERE 1 = 1 LIMIT 10',
    'UPDATE a, b SET a.x = 1 WHERE @go',
  ])('%j changes every row: no-unbounded-write blocks it', (sql) => {
    expect(first(sql).unboundedWrite).toBe(true);
    expect(blockedBy(sql, [NO_UNBOUNDED])).toBe('no-unbounded-write');
  });

  it.each([
    'DELETE FROM t WHERE id = 1',
    'DELETE FROM t WHERE `id` = 1',
    'DELETE FROM t WHERE t.id = 1 OR t.id = 2',
    'DELETE FROM t WHERE id = 1 || id = 2',
    "DELETE FROM t WHERE name = 'a||b'",
    'DELETE FROM t WHERE id IN (SELECT tid FROM u)',
    'DELETE FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.tid = t.id)',
    'DELETE a, b FROM a JOIN b ON a.id = b.id WHERE a.x = 1',
    'DELETE x FROM t1 AS x JOIN t2 ON x.a = t2.a WHERE x.b = 1',
    'UPDATE t AS x SET a = 1 WHERE x.id = 5',
    'UPDATE t SET a = 1 WHERE id = 1 AND 1 = 1',
    'DELETE LOW_PRIORITY FROM t WHERE `id` = 1',
    'DELETE QUICK FROM t WHERE created < NOW() - INTERVAL 1 DAY',
  ])('%j is bounded by its WHERE', (sql) => {
    expect(first(sql).unboundedWrite).toBe(false);
    expect(blockedBy(sql, [NO_UNBOUNDED])).toBeNull();
  });

  it('tells reviewers why a WHERE does not bound the write', () => {
    expect(first('DELETE FROM users WHERE 1=1').warnings[0]).toBe('DELETE with a WHERE that names no column of users (or only in some OR branches) changes every row of it, or none');
  });
});

describe('stored programs and compound statements: guardrails see their bodies when they are created', () => {
  it.each<[string, string, string]>([
    ['CREATE PROCEDURE p() BEGIN DROP TABLE t; END', 'DROP TABLE', 'no-drop-table'],
    ['create procedure p() drop table t', 'DROP TABLE', 'no-drop-table'],
    ["CREATE DEFINER = CURRENT_USER PROCEDURE `p`(IN a INT) COMMENT 'x' MODIFIES SQL DATA BEGIN DECLARE n INT DEFAULT 0; lbl: LOOP TRUNCATE t; LEAVE lbl; END LOOP; END", 'TRUNCATE', 'no-truncate'],
    ['CREATE OR REPLACE PROCEDURE p() BEGIN /* c */ SELECT 1; DROP /* d */ TABLES t; END', 'DROP TABLE', 'no-drop-table'],
    ['CREATE FUNCTION f() RETURNS SET("a") CHARACTER SET utf8 MODIFIES SQL DATA BEGIN DELETE FROM t; RETURN "a"; END', 'DELETE', 'no-unbounded-write'],
    ['CREATE FUNCTION f(x INT) RETURNS DECIMAL(10, 2) UNSIGNED DETERMINISTIC BEGIN UPDATE t SET a = x WHERE true; RETURN 1; END', 'UPDATE', 'no-unbounded-write'],
    ['CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW DELETE FROM audit', 'DELETE', 'no-unbounded-write'],
    ['CREATE DEFINER=`root`@`%` TRIGGER tr AFTER UPDATE ON t FOR EACH ROW FOLLOWS other BEGIN IF NEW.a > 1 THEN TRUNCATE log; END IF; END', 'TRUNCATE', 'no-truncate'],
    ["CREATE EVENT e ON SCHEDULE EVERY 1 DAY COMMENT 'do it' DO DROP TABLE t", 'DROP TABLE', 'no-drop-table'],
    ['ALTER EVENT e ON SCHEDULE EVERY 2 DAY DO DELETE FROM t WHERE 1', 'DELETE', 'no-unbounded-write'],
    ["BEGIN NOT ATOMIC DECLARE CONTINUE HANDLER FOR SQLSTATE '42S02', NOT FOUND DROP TABLE x; SELECT 1; END", 'DROP TABLE', 'no-drop-table'],
    ['BEGIN NOT ATOMIC DECLARE c CURSOR FOR SELECT 1; CREATE OR REPLACE TABLE t (id int); END', 'DROP TABLE', 'no-drop-table'],
    ['IF @x THEN SELECT 1; ELSE DROP TABLE t; END IF', 'DROP TABLE', 'no-drop-table'],
    ['IF (SELECT CASE WHEN 1 THEN 1 END) THEN SELECT 1; ELSEIF 2 THEN TRUNCATE t; END IF', 'TRUNCATE', 'no-truncate'],
    ['CASE @x WHEN 1 THEN SELECT 1; ELSE TRUNCATE t; END CASE', 'TRUNCATE', 'no-truncate'],
    ['lbl: BEGIN NOT ATOMIC WHILE 1 DO SET STATEMENT x=1 FOR DROP TABLE t; END WHILE; END lbl', 'DROP TABLE', 'no-drop-table'],
    ["BEGIN NOT ATOMIC EXECUTE IMMEDIATE 'DROP TABLE t'; END", 'DROP TABLE', 'no-drop-table'],
    ['BEGIN NOT ATOMIC REPEAT DELETE FROM t; UNTIL 1 END REPEAT; END', 'DELETE', 'no-unbounded-write'],
    ["BEGIN NOT ATOMIC PREPARE s FROM 'DROP TABLE t'; EXECUTE s; END", 'DROP TABLE', 'no-drop-table'],
  ])('%j: the program carries %s, blocked by %s at creation', (sql, nested, rule) => {
    const c = classifyMysql(sql);
    expect(c.statements[0].kind).toBe('unknown');
    expect(c.statements[0].nested?.map((n) => n.command)).toContain(nested);
    expect(checkGuardrails(c, ALL)).toMatchObject({ rule: { name: rule }, statement: { index: 0 } });
  });

  it('names what a body runs for reviewers', () => {
    expect(first('CREATE PROCEDURE p() BEGIN DELETE FROM t WHERE id = 1; DROP TABLE u; END').warnings).toContain('the body of procedure p runs DELETE, DROP TABLE');
  });

  it('lets a body that only reads and writes within bounds pass every rule', () => {
    const sql = 'BEGIN NOT ATOMIC FOR i IN 1..3 DO REPEAT DELETE FROM t WHERE id = i; UNTIL 1 END REPEAT; END FOR; END';
    expect(first(sql).nested).toEqual([{ command: 'DELETE', unboundedWrite: false }]);
    expect(blockedBy(sql)).toBeNull();
  });

  it('reads the statements after a program on their own once its END is found', () => {
    const c = classifyMysql('CREATE PROCEDURE p() BEGIN BEGIN END; END; DROP TABLE q');
    expect(c.statements[0].nested).toBeUndefined();
    expect(c.statements.at(-1)).toMatchObject({ command: 'DROP TABLE', kind: 'unknown' });
    expect(checkGuardrails(c, DEFAULT_GUARDRAILS)?.statement.index).toBe(c.statements.length - 1);
  });

  it('sees a statement after a control word even where the body was already read', () => {
    const c = classifyMysql('IF @x THEN SELECT 1; ELSE DROP TABLE t; END IF');
    expect(c.statements.map((s) => [s.command, s.nested?.map((n) => n.command)])).toEqual([
      ['IF', ['DROP TABLE']],
      ['ELSE', ['DROP TABLE']],
      ['END', undefined],
    ]);
  });
});

describe('SQL the gateway cannot check: flagged, unknown, blocked by no-unchecked-sql', () => {
  it.each([
    ['CREATE PROCEDURE p(q TEXT) BEGIN PREPARE s FROM q; EXECUTE s; END', 'PREPARE s runs SQL built at run time (q)'],
    ['CREATE PROCEDURE p() BEGIN EXECUTE IMMEDIATE @q; END', 'EXECUTE IMMEDIATE runs the SQL held in @q, which the gateway cannot check'],
    ["CREATE PROCEDURE p() BEGIN EXECUTE s; END; PREPARE s FROM 'SELECT 1'", 'EXECUTE s runs a statement prepared outside this request'],
    ['CREATE FUNCTION f RETURNS STRING SONAME "udf.so"', 'the body of function f is native code from a shared library, which the gateway cannot read'],
    ['CREATE PACKAGE pk AS PROCEDURE p(); END', 'a package body, which the gateway does not read'],
    ['CREATE PROCEDURE p() COMMENT "no body"', 'the body of procedure p could not be found'],
    ['BEGIN NOT ATOMIC IF 1 THEN SELECT 1', 'the compound statement could not be read (a block that is never closed with END)'],
    ["BINLOG 'AAAA'", 'BINLOG replays binary-log events, whose changes the gateway cannot read'],
    ["INSTALL SONAME 'ha_spider'", 'INSTALL loads a plugin, native code the gateway cannot read'],
    ["SET GLOBAL init_connect = 'DROP TABLE t'", 'init_connect holds SQL the server runs for every client that connects, which the gateway does not check'],
    ['FROBNICATE t', 'FROBNICATE is not a statement the gateway knows, so it cannot tell what it runs'],
  ])('%j', (sql, why) => {
    const c = classifyMysql(sql);
    expect(c.statements[0].uncheckedSql).toContain(why);
    expect(c.statements[0].kind).toBe('unknown');
    expect(routeCommand(c, 'writes', true)).toBe('review');
    expect(checkGuardrails(c, [NO_UNCHECKED])?.statement.index).toBe(0);
  });

  it('gives up past eight statements deep, and says so', () => {
    const sql = `${'SET STATEMENT x=1 FOR '.repeat(10)}DROP TABLE t`;
    expect(first(sql).uncheckedSql).toEqual(['it nests statements deeper than the gateway follows']);
    expect(blockedBy(sql, [NO_UNCHECKED])).toBe('no-unchecked-sql');
  });

  it('reads many programs, transactions and carriers in linear time', () => {
    // Each unclosed program's body runs to the end of the input: read once, not once per program.
    const input = (n: number) =>
      "BEGIN; COMMIT; CREATE TABLE t (id int); PREPARE s FROM 'SELECT 1'; EXECUTE s;\n".repeat(n) +
      Array.from({ length: n }, (_, i) => `CREATE PROCEDURE p${i}() BEGIN DELETE FROM t WHERE id = ${i};`).join('\n');
    const time = (n: number) => {
      const t0 = performance.now();
      const c = classifyMysql(input(n));
      expect(c.statements).toHaveLength(6 * n);
      return performance.now() - t0;
    };
    time(200); // warm-up
    // Linear is about 8; quadratic would be about 64.
    expect(time(4_000) / time(500)).toBeLessThan(25);
  });
});
