import { beforeAll, describe, expect, it } from 'vitest';
import { loadPostgresParser } from '../../src/sql/classify-postgres.js';
import { lineagePostgres } from '../../src/sql/lineage.js';

// A catalog as the target would describe it: two tables and three views.
const relations = [
  { schema: 'public', name: 'users', kind: 'r', visible: true, columns: ['id', 'email', 'status', 'ssn'] },
  { schema: 'public', name: 'statuses', kind: 'r', visible: true, columns: ['status', 'label'] },
  { schema: 'pg_catalog', name: 'pg_statistic', kind: 'r', visible: true, columns: ['starelid', 'staattnum', 'stavalues1'] },
  { schema: 'public', name: 'orders', kind: 'r', visible: true, columns: ['id', 'user_id', 'total'] },
  { schema: 'app', name: 'users', kind: 'r', visible: false, columns: ['id', 'name'] },
  { schema: 'public', name: 'contacts', kind: 'v', visible: true, columns: ['uid', 'contact'], definition: ' SELECT users.id AS uid,\n    lower(users.email) AS contact\n   FROM users;' },
  { schema: 'public', name: 'contacts_of_contacts', kind: 'v', visible: true, columns: ['c'], definition: ' SELECT contacts.contact AS c FROM contacts;' },
  { schema: 'public', name: 'computed', kind: 'v', visible: true, columns: ['x'], definition: ' SELECT secret_of(users.id) AS x FROM users;' },
];

const lineage = (sql: string, maskColumns = ['email', 'ssn']) => lineagePostgres({ sql, maskColumns, relations })!;
const outputs = (sql: string) => lineage(sql)[0].outputs;

beforeAll(async () => {
  await loadPostgresParser();
});

describe('column lineage of a read', () => {
  it.each([
    ["SELECT replace(email, '@', ' at ') FROM users", [1]],
    ["SELECT split_part(email, '@', 1), translate(email, 'a', 'b'), reverse(email) FROM users", [1, 1, 1]],
    ["SELECT encode(email::bytea, 'hex'), string_to_array(email, NULL), ssn || 'x' FROM users", [1, 1, 1]],
    ['SELECT upper(u.email) AS e, u.id FROM users u', [1, 0]],
    ['SELECT CASE WHEN id > 1 THEN email ELSE status END FROM users', [1]],
    ['SELECT coalesce(NULL, email), concat_ws(status, email) FROM users', [1, 1]],
    ["SELECT string_agg(email, ','), array_agg(ssn), max(email) FROM users", [1, 1, 1]],
  ])('masks a column computed from a masked column: %s', (sql, expected) => {
    expect(outputs(sql)).toEqual(expected);
  });

  it.each([
    ['SELECT u FROM users u', [1]],
    ['SELECT row_to_json(u) FROM users u', [1]],
    ['SELECT to_jsonb(users) FROM users', [1]],
    ['SELECT u.* FROM users u', [0, 1, 0, 1]],
    ['SELECT * FROM users', [0, 1, 0, 1]],
    ['SELECT * FROM users u JOIN orders o ON o.user_id = u.id', [0, 1, 0, 1, 0, 0, 0]],
  ])('follows * and whole-row references: %s', (sql, expected) => {
    expect(outputs(sql)).toEqual(expected);
  });

  it.each([
    ['SELECT (SELECT email FROM users LIMIT 1) AS e', [1]],
    ['SELECT ARRAY(SELECT email FROM users)', [1]],
    ['SELECT t.e FROM (SELECT email AS e FROM users) t', [1]],
    ['WITH c AS (SELECT email AS e FROM users) SELECT e FROM c', [1]],
    ['WITH c(addr) AS (SELECT email FROM users) SELECT * FROM c', [1]],
    ['WITH RECURSIVE r(n, e) AS (SELECT 1, email FROM users UNION ALL SELECT n + 1, e FROM r WHERE n < 3) SELECT n, e FROM r', [0, 1]],
    ['SELECT id FROM users UNION SELECT email FROM users', [1]],
    ['SELECT (SELECT email) FROM users', [1]],
  ])('follows subqueries, CTEs and set operations: %s', (sql, expected) => {
    expect(outputs(sql)).toEqual(expected);
  });

  it.each([
    ['SELECT * FROM contacts', [0, 1]],
    ['SELECT contact FROM contacts', [1]],
    ['SELECT uid FROM contacts', [0]],
    ['SELECT c FROM contacts_of_contacts', [1]],
  ])('reads through views by their definitions: %s', (sql, expected) => {
    expect(outputs(sql)).toEqual(expected);
  });

  it.each([
    ['SELECT id, status FROM users', [0, 0]],
    ['SELECT count(email), status FROM users GROUP BY status', [0, 0]],
    ['SELECT id FROM users WHERE email LIKE $$a%$$', [0]],
    ['SELECT total FROM orders', [0]],
    ['SELECT x FROM (VALUES (1)) v(x)', [0]],
    ['SELECT n FROM generate_series(1, 3) g(n)', [0]],
    ['SELECT id, name FROM app.users', [0, 0]],
  ])('leaves clean columns clear: %s', (sql, expected) => {
    expect(outputs(sql)).toEqual(expected);
  });

  it('says a statement reads masked data when only its WHERE clause touches it (errors are withheld)', () => {
    expect(lineage('SELECT id FROM users WHERE email::int = 1')[0]).toMatchObject({ outputs: [0], reads: 1 });
    expect(lineage('SELECT total FROM orders o WHERE EXISTS (SELECT 1 FROM users WHERE email = $$a$$)')[0]).toMatchObject({ outputs: [0], reads: 1 });
    expect(lineage('SELECT total FROM orders')[0].reads).toBe(0);
  });

  it.each([
    ['SELECT secret_of(id) FROM users', 'secret_of() may return data the gateway cannot trace'],
    ['SELECT * FROM computed', 'secret_of() may return data the gateway cannot trace'],
    ['SELECT * FROM no_such_table', 'no_such_table is not a relation the gateway could look up'],
    ['SELECT 1; CREATE VIEW v2 AS SELECT email AS y FROM users; SELECT * FROM v2', 'it follows CREATE VIEW'],
  ])('calls what it cannot trace unknown, and says why: %s', (sql, why) => {
    const all = lineage(sql);
    const last = all.at(-1)!;
    expect(last.outputMax).toBe(2);
    expect(last.why.join(' ')).toContain(why.replace('CREATE VIEW', 'VIEW'));
  });
});

describe('ORDER BY, GROUP BY, DISTINCT ON and windows', () => {
  it.each([
    ['SELECT id FROM users ORDER BY id', 0],
    ['SELECT id AS k FROM users ORDER BY k LIMIT 3', 0],
    ['SELECT id FROM users GROUP BY id ORDER BY id', 0],
    ['SELECT DISTINCT ON (k) id AS k FROM users ORDER BY k', 0],
    ['SELECT id FROM users UNION SELECT id FROM orders ORDER BY id', 0],
    ['SELECT id AS k FROM users UNION SELECT user_id FROM orders ORDER BY k', 0],
    ['VALUES (1), (2) ORDER BY column1', 0],
    ['SELECT id, rank() OVER w FROM users WINDOW w AS (ORDER BY id)', 0],
    // Reading a masked column to order or group counts as reading it (its error texts are withheld).
    ['SELECT id FROM users ORDER BY email', 1],
    ['SELECT email AS e FROM users ORDER BY e', 1],
    ['SELECT lower(email) AS e FROM users GROUP BY e', 1],
    ['SELECT email AS e FROM users UNION SELECT status FROM users ORDER BY e', 1],
    ['SELECT id FROM users UNION SELECT id FROM orders ORDER BY (SELECT max(email) FROM users)', 1],
    ['SELECT id, rank() OVER (ORDER BY ssn) FROM users', 1],
    // A name neither the relations nor the output have stays untraceable.
    ['SELECT id FROM users ORDER BY nowhere', 2],
  ])('%s reads at taint %i and is traced', (sql, taint) => {
    expect(lineage(sql)[0].reads).toBe(taint);
  });

  it('a sorted read does not make the next statement untraceable', () => {
    const all = lineage('SELECT id FROM orders ORDER BY id; SELECT id, total FROM orders');
    expect(all.map((l) => l.outputMax)).toEqual([0, 0]);
  });
});

describe('column lineage of a write', () => {
  it('masks RETURNING columns computed from masked columns, and counts the write as reading the table', () => {
    expect(lineage("UPDATE users SET status = 'x' WHERE id = 1 RETURNING replace(email, '@', '_'), id")[0]).toMatchObject({ outputs: [1, 0], reads: 1 });
    expect(lineage("UPDATE users SET status = 'x' WHERE id = 1")[0]).toMatchObject({ outputs: null, reads: 1 });
    expect(lineage('INSERT INTO orders (user_id, total) VALUES (1, 2) RETURNING *')[0]).toMatchObject({ outputs: [0, 0, 0], reads: 0 });
    expect(lineage('DELETE FROM users WHERE id = 1 RETURNING *')[0].outputs).toEqual([0, 1, 0, 1]);
  });

  it('counts DDL on a table with masked columns as reading it (an index expression can fail on a value)', () => {
    expect(lineage('CREATE INDEX ON users ((email::int))')[0].reads).toBe(1);
    expect(lineage('CREATE INDEX ON orders (total)')[0].reads).toBe(0);
    expect(lineage("DO $$ BEGIN RAISE NOTICE '%', 1; END $$")[0].reads).toBe(2);
  });

  it('matches patterns by column name, with * and by relation.column', () => {
    expect(lineage('SELECT id, total FROM orders', ['orders.total'])[0].outputs).toEqual([0, 1]);
    expect(lineage('SELECT id, user_id FROM orders', ['*_id'])[0].outputs).toEqual([0, 1]);
  });
});

describe('column lineage where PostgreSQL names or orders columns itself', () => {
  it.each([
    ['SELECT email AS x FROM (SELECT email::text FROM users) s', [1]],
    ['SELECT email AS x FROM (SELECT (u).email FROM users u) s', [1]],
    ['SELECT "coalesce" AS x FROM (SELECT coalesce(email, $$$$) FROM users) s', [1]],
    ['WITH c AS (SELECT greatest(email, $$$$) FROM users) SELECT "greatest" AS x FROM c', [1]],
    ['SELECT email AS x FROM (SELECT email COLLATE "C" FROM users) s', [1]],
    ['SELECT "case" AS x FROM (SELECT CASE WHEN true THEN email END FROM users) s', [1]],
    ['SELECT text AS x FROM (SELECT $$a$$::text) s', [0]],
  ])('finds a subquery column by the name PostgreSQL gives it: %s', (sql, expected) => {
    expect(outputs(sql)).toEqual(expected);
  });

  it('calls unknown a name it cannot find, rather than take its own reading of the scope for right', () => {
    expect(lineage('SELECT nosuch AS x FROM (SELECT email FROM users) s')[0].outputMax).toBe(2);
    expect(lineage('SELECT emial FROM users')[0].outputMax).toBe(2);
  });

  it('lets a LATERAL subquery or function on the right of a JOIN see the left side', () => {
    expect(outputs('SELECT x FROM users JOIN LATERAL (SELECT email AS x) s ON true')).toEqual([1]);
    expect(outputs('SELECT x FROM users CROSS JOIN unnest(ARRAY[email]) x')).toEqual([1]);
  });

  it('does not take an alias with a dot for a qualified table name', () => {
    const [l] = lineage(`SELECT public.users.email FROM (SELECT 'x' AS email) AS "public.users", public.users`);
    expect(l.outputs).toEqual([1]);
  });

  it('lets every CTE of WITH RECURSIVE see the others, also those written after it', () => {
    expect(outputs('WITH RECURSIVE a AS (SELECT * FROM statuses), statuses AS (SELECT email AS status, 1 AS label FROM users) SELECT * FROM a')).toEqual([1, 0]);
  });

  it('counts what count(), FILTER and a set operation\'s LIMIT read, for their errors', () => {
    expect(lineage('SELECT count(email::int) FROM users')[0]).toMatchObject({ outputs: [0], reads: 1 });
    expect(lineage('SELECT count(*) FILTER (WHERE email::int > 0) FROM users')[0].reads).toBe(1);
    expect(lineage('SELECT 1 UNION SELECT 2 LIMIT (SELECT email::int FROM users LIMIT 1)')[0].reads).toBe(1);
    expect(lineage('VALUES (1) OFFSET (SELECT ssn::int FROM users LIMIT 1)')[0].reads).toBe(1);
  });

  it('stops tracing after a statement that moved masked data or cannot be traced', () => {
    const moved = lineage('INSERT INTO statuses (label) SELECT email FROM users; SELECT label FROM statuses');
    expect(moved[1].outputMax).toBe(2);
    const temp = lineage('CREATE TEMP TABLE statuses AS SELECT email AS status FROM users; SELECT * FROM statuses');
    expect(temp[1].outputMax).toBe(2);
    const clean = lineage("INSERT INTO statuses VALUES ('a', 'b'); SELECT label FROM statuses");
    expect(clean[1].outputs).toEqual([0]);
  });

  it('masks a partition or an inheritance child by its ancestors\' table-qualified patterns', () => {
    const parts = [{ schema: 'public', name: 'accounts_2024', kind: 'r', visible: true, columns: ['id', 'email'], ancestors: ['accounts'] }];
    expect(lineagePostgres({ sql: 'SELECT email FROM accounts_2024', maskColumns: ['accounts.email'], relations: parts })![0].outputs).toEqual([1]);
  });

  it('lists a USING or NATURAL join as PostgreSQL does: the merged columns first, once', () => {
    expect(outputs('SELECT * FROM users JOIN statuses USING (status)')).toEqual([0, 0, 1, 1, 0]);
    expect(outputs('SELECT * FROM users NATURAL JOIN statuses')).toEqual([0, 0, 1, 1, 0]);
    expect(outputs('SELECT c AS x FROM (SELECT * FROM users JOIN statuses USING (status)) s(a, b, c)')).toEqual([1]);
    expect(outputs('SELECT users.* FROM users JOIN statuses USING (status)')).toEqual([0, 1, 0, 1]);
  });

  it('runs a recursive CTE until its taints hold still, and follows its SEARCH and CYCLE columns', () => {
    expect(outputs("WITH RECURSIVE r(a, b, c, n) AS (SELECT '', '', email, 0 FROM users UNION ALL SELECT b, c, a, n + 1 FROM r WHERE n < 3) SELECT a FROM r")).toEqual([1]);
    expect(outputs('WITH RECURSIVE r AS (SELECT id, email FROM users UNION ALL SELECT id, email FROM r) SEARCH DEPTH FIRST BY email SET ord SELECT ord FROM r')).toEqual([1]);
    expect(outputs('WITH RECURSIVE r AS (SELECT id, email FROM users UNION ALL SELECT id, email FROM r) CYCLE email SET looped USING p SELECT p FROM r')).toEqual([1]);
    expect(outputs('WITH RECURSIVE r AS (SELECT id, email FROM users UNION ALL SELECT id, email FROM r) CYCLE id SET looped USING p SELECT p FROM r')).toEqual([0]);
  });

  it('follows the expressions of XMLTABLE columns', () => {
    expect(lineage("SELECT v FROM users, XMLTABLE('/a' PASSING '<a/>' COLUMNS v text PATH 'b' DEFAULT email) t")[0]).toMatchObject({ outputs: [1], reads: 1 });
  });

  it('shows in RETURNING what a write put into a column, not what the column held', () => {
    expect(outputs('UPDATE users SET status = email WHERE id = 1 RETURNING status')).toEqual([1]);
    expect(outputs('INSERT INTO statuses (label) SELECT email FROM users RETURNING label, status')).toEqual([1, 0]);
    expect(outputs("INSERT INTO statuses VALUES ('x', (SELECT ssn FROM users LIMIT 1)) RETURNING *")).toEqual([0, 1]);
    expect(outputs("INSERT INTO statuses VALUES ('x', 'y') ON CONFLICT (status) DO UPDATE SET label = (SELECT email FROM users LIMIT 1) RETURNING label")).toEqual([1]);
    expect(outputs("MERGE INTO statuses s USING users u ON s.status = u.status WHEN MATCHED THEN UPDATE SET label = u.email RETURNING s.label")).toEqual([1]);
    expect(outputs("UPDATE statuses SET label = 'x' RETURNING label")).toEqual([0]);
  });

  it('masks the planner statistics, which hold values of every column', () => {
    expect(outputs('SELECT stavalues1 FROM pg_statistic')).toEqual([1]);
  });
});
