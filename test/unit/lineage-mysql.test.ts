import { describe, expect, it } from 'vitest';
import { lineageMysql } from '../../src/sql/lineage.js';
import type { MysqlRelation } from '../../src/sql/lineage-mysql.js';
import { mysqlViewReads } from '../../src/sql/mysql-statement.js';

// A catalog as information_schema describes it; view definitions as MariaDB prints them.
const relations: MysqlRelation[] = [
  { schema: 'shop', name: 'users', kind: 'r', visible: true, columns: ['id', 'email', 'status', 'ssn'] },
  { schema: 'shop', name: 'orders', kind: 'r', visible: true, columns: ['id', 'user_id', 'total'] },
  { schema: 'shop', name: 'secrets', kind: 'r', visible: true, columns: ['id', 'note'], hidden: ['ssn'] },
  { schema: 'other', name: 'users', kind: 'r', visible: false, columns: ['id', 'name'] },
  { schema: 'shop', name: 'audited', kind: 'r', visible: true, columns: ['id', 'note'], triggers: true },
  { schema: 'mysql', name: 'column_stats', kind: 'r', visible: false, columns: ['db_name', 'table_name', 'column_name', 'min_value', 'max_value'] },
  { schema: 'information_schema', name: 'PROCESSLIST', kind: 'r', visible: false, columns: ['ID', 'USER', 'INFO'] },
  { schema: 'shop', name: 'contacts', kind: 'v', visible: true, columns: ['uid', 'contact'], definition: 'select `shop`.`users`.`id` AS `uid`,lcase(`shop`.`users`.`email`) AS `contact` from `shop`.`users`' },
  { schema: 'shop', name: 'contacts_of_contacts', kind: 'v', visible: true, columns: ['c'], definition: 'select `contacts`.`contact` AS `c` from `shop`.`contacts`' },
  { schema: 'shop', name: 'casted', kind: 'v', visible: true, columns: ['c', 'n'], definition: 'select cast(`shop`.`users`.`email` as char(10) charset utf8mb4) AS `c`,octet_length(`shop`.`users`.`status`) AS `n` from `shop`.`users`' },
  { schema: 'shop', name: 'joined', kind: 'v', visible: true, columns: ['a', 'b'], definition: "select `u`.`id` AS `a`,concat(`u`.`email`,'x') AS `b` from (`shop`.`users` `u` join `shop`.`orders` `o` on(`o`.`user_id` = `u`.`id`)) where `u`.`status` = 'active'" },
  { schema: 'shop', name: 'with_cte', kind: 'v', visible: true, columns: ['g', 'n'], definition: 'with x as (select `shop`.`users`.`email` AS `email` from `shop`.`users`)select group_concat(`x`.`email` separator \';\') AS `g`,count(0) AS `n` from `x`' },
  { schema: 'shop', name: 'computed', kind: 'v', visible: true, columns: ['x'], definition: 'select `shop`.`secret_of`(`shop`.`users`.`id`) AS `x` from `shop`.`users`' },
  { schema: 'shop', name: 'unreadable', kind: 'v', visible: true, columns: ['a'], definition: '' },
  { schema: 'shop', name: 'selfref', kind: 'v', visible: true, columns: ['a'], definition: 'select `selfref`.`a` AS `a` from `shop`.`selfref`' },
];

const lineage = (sql: string, maskColumns = ['email', 'ssn']) => lineageMysql({ sql, maskColumns, relations })!;
const outputs = (sql: string, maskColumns?: string[]) => lineage(sql, maskColumns)[0].outputs;

describe('MySQL column lineage of a read', () => {
  it.each([
    ["SELECT REPLACE(email, '@', ' at ') FROM users", [1]],
    ['SELECT HEX(email), TO_BASE64(email), UNHEX(HEX(ssn)) FROM users', [1, 1, 1]],
    ["SELECT CONCAT(ssn, 'x'), CONCAT_WS('-', id, email), SUBSTRING_INDEX(email, '@', 1) FROM users", [1, 1, 1]],
    ['SELECT LOWER(email), UPPER(u.email), REVERSE(email), LEFT(email, 3) FROM users u', [1, 1, 1, 1]],
    ["SELECT CASE WHEN id > 1 THEN email ELSE status END, IF(id, email, 1), IFNULL(NULL, email), COALESCE(ssn, '') FROM users", [1, 1, 1, 1]],
    ['SELECT CAST(email AS CHAR), CONVERT(email USING latin1), CONVERT(email, CHAR), email COLLATE utf8mb4_bin FROM users', [1, 1, 1, 1]],
    ["SELECT TRIM(LEADING 'a' FROM email), email->>'$.a', MD5(email), LENGTH(email) FROM users", [1, 1, 1, 1]],
    ["SELECT email = 'x', id + 1 FROM users", [1, 0]],
    ['SELECT u.email AS e, u.id FROM users u', [1, 0]],
    ['SELECT shop.users.email, `shop`.`users`.id, users.ssn FROM shop.users', [1, 0, 1]],
    ['SELECT EMAIL, U.ID FROM USERS U', [1, 0]],
  ])('masks a column computed from a masked column: %s', (sql, expected) => {
    expect(outputs(sql)).toEqual(expected);
  });

  it.each([
    ['SELECT * FROM users', [0, 1, 0, 1]],
    ['SELECT u.* FROM users u', [0, 1, 0, 1]],
    ['SELECT *, id FROM users', [0, 1, 0, 1, 0]],
    ['SELECT o.*, u.* FROM users u JOIN orders o ON o.user_id = u.id', [0, 0, 0, 0, 1, 0, 1]],
    ['SELECT * FROM users u, orders o', [0, 1, 0, 1, 0, 0, 0]],
    ['SELECT * FROM (users u JOIN orders o ON o.user_id = u.id)', [0, 1, 0, 1, 0, 0, 0]],
    ['SELECT shop.users.* FROM shop.users', [0, 1, 0, 1]],
    ['SELECT * FROM secrets', [0, 0]],
    ['SELECT ssn FROM secrets', [1]],
  ])('expands * with the catalog columns, in order (INVISIBLE ones left out): %s', (sql, expected) => {
    expect(outputs(sql)).toEqual(expected);
  });

  it.each([
    ['SELECT t.e FROM (SELECT email AS e FROM users) t', [1]],
    ['SELECT * FROM (SELECT id, LOWER(email) AS e FROM users) AS t', [0, 1]],
    ['SELECT (SELECT email FROM users LIMIT 1) AS e', [1]],
    ['SELECT (SELECT u.email) FROM users u', [1]],
    ['SELECT id, (SELECT MAX(o.total) FROM orders o WHERE o.user_id = u.id) FROM users u', [0, 0]],
    ['WITH c AS (SELECT email AS e FROM users) SELECT e FROM c', [1]],
    ['WITH c(addr) AS (SELECT email FROM users) SELECT * FROM c', [1]],
    ['WITH RECURSIVE r(n, e) AS (SELECT 1, email FROM users UNION ALL SELECT n + 1, e FROM r WHERE n < 3) SELECT n, e FROM r', [0, 1]],
    ['WITH RECURSIVE r(a, b, c) AS (SELECT email, 1, 2 FROM users UNION ALL SELECT c, a, b FROM r WHERE b < 3) SELECT a, b, c FROM r', [1, 1, 1]],
    ['SELECT id FROM users UNION SELECT email FROM users', [1]],
    ['(SELECT id FROM users) UNION ALL (SELECT total FROM orders) ORDER BY 1', [0]],
    // The server names an unaliased expression by its text: such a name reaches the masked column.
    ['SELECT `LOWER(email)` FROM (SELECT LOWER(email) FROM users) s', [1]],
    ["SELECT s.`REPLACE(email,'@','')`, s.id FROM (SELECT id, REPLACE(email,'@','') FROM users) s", [1, 0]],
    ['WITH c AS (SELECT HEX(ssn) FROM users) SELECT `HEX(ssn)` FROM c', [1]],
    ['SELECT `email COLLATE utf8mb4_bin` FROM (SELECT email COLLATE utf8mb4_bin FROM users) s', [1]],
    ['SELECT id FROM (SELECT id, LOWER(email) FROM users) s', [0]],
  ])('follows derived tables, subqueries, CTEs and UNION: %s', (sql, expected) => {
    expect(outputs(sql)).toEqual(expected);
  });

  it.each([
    ["SELECT GROUP_CONCAT(email SEPARATOR ','), MAX(email), MIN(ssn), AVG(id) FROM users", [1, 1, 1, 0]],
    ['SELECT COUNT(email), COUNT(*), COUNT(DISTINCT ssn), status FROM users GROUP BY status', [0, 0, 0, 0]],
    ['SELECT GROUP_CONCAT(DISTINCT UPPER(email) ORDER BY id) FROM users', [1]],
  ])('masks aggregates of masked columns, except COUNT: %s', (sql, expected) => {
    expect(outputs(sql)).toEqual(expected);
  });

  it.each([
    ['SELECT * FROM contacts', [0, 1]],
    ['SELECT contact FROM contacts', [1]],
    ['SELECT uid FROM contacts', [0]],
    ['SELECT c FROM contacts_of_contacts', [1]],
    ['SELECT * FROM casted', [1, 0]],
    ['SELECT a, b FROM joined', [0, 1]],
    ['SELECT g, n FROM with_cte', [1, 0]],
  ])('reads through views (and views of views) by their definitions: %s', (sql, expected) => {
    expect(outputs(sql)).toEqual(expected);
  });

  it.each([
    ['SELECT id, status FROM users', [0, 0]],
    ["SELECT id FROM users WHERE email LIKE 'a%'", [0]],
    ['SELECT total FROM orders', [0]],
    ['SELECT id, name FROM other.users', [0, 0]],
    ['SELECT 1, NOW(), DATABASE(), @@version', [0, 0, 0, 0]],
    ["SELECT EXISTS (SELECT 1 FROM users WHERE email = 'a')", [0]],
    ["SELECT user_id IN (SELECT id FROM users WHERE email LIKE 'a%'), NOT EXISTS (SELECT ssn FROM users) FROM orders", [0, 0]],
    ['SELECT 1 FROM DUAL', [0]],
    ['SELECT nosuch FROM users', [0]],
  ])('leaves clean columns clear: %s', (sql, expected) => {
    expect(outputs(sql)).toEqual(expected);
  });

  it.each([
    'SELECT id FROM users WHERE email + 0 = 1',
    "SELECT total FROM orders o WHERE EXISTS (SELECT 1 FROM users WHERE email = 'a')",
    "SELECT total FROM orders WHERE user_id IN (SELECT id FROM users WHERE ssn = '1')",
    'SELECT id FROM users ORDER BY email',
    "SELECT id FROM users GROUP BY id HAVING MAX(email) > 'a'",
    'SELECT COUNT(email) FROM users',
    'SELECT u.id FROM users u JOIN orders o ON o.id = u.email',
  ])('says a statement reads masked data when only its WHERE, ORDER BY... touch it (errors are withheld): %s', (sql) => {
    const [l] = lineage(sql);
    expect(l.outputs?.every((t) => t === 0)).toBe(true);
    expect(l.reads).toBe(1);
  });

  it('says a statement that touches no masked column reads nothing masked', () => {
    expect(lineage('SELECT total FROM orders WHERE user_id > 1 ORDER BY id')[0].reads).toBe(0);
    expect(lineage('SELECT id FROM users WHERE status = 1')[0].reads).toBe(0);
  });

  it.each([
    ['SELECT secret_of(id) FROM users', 'secret_of() may return data the gateway cannot trace'],
    ['SELECT shop.secret_of(id) FROM users', 'shop.secret_of() may return data the gateway cannot trace'],
    ['SELECT `lower`(email) FROM users', 'lower() may return data the gateway cannot trace'],
    ['SELECT * FROM computed', 'shop.secret_of() may return data the gateway cannot trace'],
    ['SELECT * FROM no_such_table', 'no_such_table is not a relation the gateway could look up'],
    ['SELECT a FROM unreadable', 'the definition of view shop.unreadable could not be read'],
    ['SELECT a FROM selfref', 'the view shop.selfref could not be traced'],
    ['SELECT @a', '@a is a user variable'],
    ['SELECT BINARY email FROM users', 'BINARY is read by the server as an operator'],
    ['SELECT id /*!, email */ FROM users', 'the gateway cannot read this statement'],
    ['SELECT x FROM (SELECT 1 AS x) AS t (a)', 'the gateway cannot read this statement'],
    ['SELECT 1; CREATE VIEW v2 AS SELECT email AS y FROM users; SELECT * FROM v2', 'it follows CREATE VIEW'],
    ['SET @x = 1; SELECT id FROM users', 'it follows SET'],
    ['USE other; SELECT id FROM users', 'it follows USE'],
    ['CALL p()', 'CALL runs a stored procedure'],
    ['SHOW PROCESSLIST', 'SHOW PROCESSLIST may show data'],
    ['SHOW WARNINGS', 'the gateway cannot read this statement'],
    ['SELECT min_value, max_value FROM mysql.column_stats', "mysql.column_stats holds values of other tables' columns"],
    ['SELECT info FROM information_schema.processlist', "information_schema.processlist holds the texts of other sessions' statements"],
  ])('calls what it cannot trace unknown, and says why: %s', (sql, why) => {
    const last = lineage(sql).at(-1)!;
    expect(last.outputMax).toBe(2);
    expect(last.reads).toBe(2);
    expect(last.why.join(' ')).toContain(why);
  });

  it('withholds errors of a statement whose WHERE calls a stored function, whose output stays traced', () => {
    expect(lineage('SELECT id FROM users WHERE my_check(email) = 1')[0]).toMatchObject({ outputs: [0], outputMax: 0, reads: 2, why: ['my_check() may return data the gateway cannot trace'] });
  });

  it('does not map * over JOIN ... USING (the server merges the shared columns), but still sees what it carries', () => {
    expect(lineage('SELECT * FROM users JOIN orders USING (id)')[0]).toMatchObject({ outputs: null, outputMax: 1 });
    expect(outputs('SELECT u.status FROM users u JOIN orders o USING (id)')).toEqual([0]);
  });

  it('keeps tracing after statements that do not change what names mean', () => {
    const all = lineage('START TRANSACTION; SELECT email FROM users; SHOW TABLES; DESCRIBE users; COMMIT; SELECT id FROM users');
    expect(all.map((l) => l.outputMax)).toEqual([0, 1, 0, 0, 0, 0]);
    expect(all[1].outputs).toEqual([1]);
  });

  it('shows EXPLAIN plans in clear, but counts what the explained statement reads', () => {
    expect(lineage('EXPLAIN SELECT email FROM users')[0]).toMatchObject({ outputs: null, outputMax: 0, reads: 1 });
    expect(lineage('EXPLAIN SELECT total FROM orders')[0].reads).toBe(0);
  });
});

describe('MySQL column lineage of a write', () => {
  it.each([
    ['UPDATE users SET id = email WHERE id = 1', 1],
    ["UPDATE users SET status = 'x' WHERE id = 1", 1],
    ['UPDATE orders SET total = 1 WHERE id = 1', 0],
    ['UPDATE orders o JOIN users u ON u.id = o.user_id SET o.total = 1', 1],
    ['UPDATE orders SET total = (SELECT email FROM users LIMIT 1)', 1],
    ['DELETE FROM users WHERE id = 1', 1],
    ['DELETE o FROM orders o JOIN users u ON u.id = o.user_id WHERE u.id = 1', 1],
    ['INSERT INTO orders (user_id, total) VALUES (1, 2)', 0],
    ['INSERT INTO orders (user_id, total) SELECT id, email FROM users', 1],
    ["REPLACE INTO users (id, email) VALUES (1, 'a')", 1],
    ['ALTER TABLE users MODIFY email INT', 1],
    ['ALTER TABLE orders ADD COLUMN note INT', 0],
  ])('counts as reading its target and whatever it reads: %s', (sql, reads) => {
    const [l] = lineage(sql);
    expect(l.outputs).toBeNull();
    expect(l.reads).toBe(reads);
  });
});

describe('MySQL statements that run stored code', () => {
  it.each([
    ['SELECT secret_of(id) FROM users', true],
    ['SELECT * FROM computed', true],
    ['SELECT a FROM unreadable', true],
    ['CALL p()', true],
    ['PREPARE s FROM @q', true],
    ["UPDATE audited SET note = 'x' WHERE id = 1", true],
    ['SELECT id, LOWER(email) FROM users', false],
    ['SELECT * FROM no_such_table', false],
    ["UPDATE orders SET total = 'x' WHERE id = 1", false],
  ])('are told apart, since stored code may raise any errno with any text: %s', (sql, runsCode) => {
    expect(lineage(sql)[0].runsCode).toBe(runsCode);
  });

  it('count a write to a table with triggers as reading what cannot be traced', () => {
    expect(lineage("UPDATE audited SET note = 'x' WHERE id = 1")[0]).toMatchObject({ reads: 2, why: ['shop.audited has triggers, which run code the gateway cannot trace'] });
  });
});

describe('MySQL masking patterns', () => {
  it('match a column name, with * and by table.column, case-insensitively', () => {
    expect(outputs('SELECT id, total FROM orders', ['orders.total'])).toEqual([0, 1]);
    expect(outputs('SELECT id, user_id FROM orders', ['*_id'])).toEqual([0, 1]);
    expect(outputs('SELECT Email, id FROM users', ['EMAIL'])).toEqual([1, 0]);
    expect(outputs('SELECT * FROM users', ['*ssn'])).toEqual([0, 0, 0, 1]);
    expect(outputs('SELECT contact, uid FROM contacts', ['users.email'])).toEqual([1, 0]);
    expect(outputs('SELECT id, name FROM other.users', ['users.name'])).toEqual([0, 1]);
  });
});

describe('mysqlViewReads', () => {
  it('names the relations a view definition reads, in the view schema when unqualified', () => {
    const definition = (name: string) => relations.find((r) => r.name === name)!.definition!;
    expect(mysqlViewReads('shop', definition('contacts_of_contacts'))).toEqual(['shop.contacts']);
    expect(mysqlViewReads('shop', definition('joined')).sort()).toEqual(['shop.orders', 'shop.users']);
    expect(mysqlViewReads('shop', 'not sql at all')).toEqual([]);
  });
});
