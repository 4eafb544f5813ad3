import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlExecutor } from '../../src/execution/index.js';
import type { RunOptions } from '../../src/execution/types.js';
import { classifyMysql } from '../../src/sql/classify-mysql.js';
import { classifyPostgres, loadPostgresParser } from '../../src/sql/classify-postgres.js';
import { dialectOf } from '../../src/sql/types.js';
import { createTargetDatabase } from '../helpers/databases.js';

let target: Awaited<ReturnType<typeof createTargetDatabase>>;
const opts = { statementTimeoutMs: 500, outputMaxBytes: 64 * 1024 };
const executor = createSqlExecutor({ limits: { max: 5, maxWaiting: 10, waitMs: 2000 } });
// The gateway always hands the executor the input's classification; these tests classify here.
const executeSql = (url: string, input: string, options: Omit<RunOptions, 'statements'> & Partial<Pick<RunOptions, 'statements'>>) =>
  executor.run({ name: 'target', url }, input, { ...options, statements: options.statements ?? (dialectOf(url) === 'mysql' ? classifyMysql(input) : classifyPostgres(input)).statements });

beforeAll(async () => {
  await loadPostgresParser();
  target = await createTargetDatabase();
});
afterAll(async () => {
  await executor.close();
  await target?.drop();
});

describe('executeSql', () => {
  it('captures each statement\'s full command tag as psql shows it, and rows affected', async () => {
    const r = await executeSql(target.url, "CREATE TABLE t (a int); INSERT INTO t VALUES (1), (2); DELETE FROM t WHERE a = 1; DROP TABLE t", opts);
    expect(r).toMatchObject({ ok: true, commandTags: ['CREATE TABLE', 'INSERT 0 2', 'DELETE 1', 'DROP TABLE'], rowsAffected: 3, error: null });
  });

  it('stops a statement at the statement timeout and reports it as a failure', async () => {
    const r = await executeSql(target.url, 'SELECT pg_sleep(5)', opts);
    expect(r.ok).toBe(false);
    expect(r.error).toBe('canceling statement due to statement timeout');
  });

  it('rolls back the whole input when one statement fails, and says so', async () => {
    const r = await executeSql(target.url, "UPDATE users SET status = 'gone' WHERE id = 1; SELECT 1/0", opts);
    expect(r.ok).toBe(false);
    expect(r.error).toBe('division by zero');
    expect(r.output).toContain('rolled back');
    expect(await target.query('SELECT status FROM users WHERE id = 1')).toEqual([{ status: 'active' }]);
  });

  it('caps the output with a visible flag', async () => {
    const r = await executeSql(target.url, 'SELECT g, repeat($$x$$, 100) FROM generate_series(1, 100) g', { ...opts, outputMaxBytes: 1000 });
    expect(r.ok).toBe(true);
    expect(r.outputTruncated).toBe(true);
    expect(Buffer.byteLength(r.output)).toBeLessThanOrEqual(1000);
  });

  it('keeps server notices in the output', async () => {
    const r = await executeSql(target.url, "DO $$ BEGIN RAISE NOTICE 'hello from plpgsql'; END $$", opts);
    expect(r.output).toBe('NOTICE:  hello from plpgsql\nDO');
  });

  it('reports an unreachable database as a failure, not a crash', async () => {
    const r = await executeSql('postgresql://postgres@127.0.0.1:5432/no_such_database_here', 'SELECT 1', opts);
    expect(r.ok).toBe(false);
    expect(r.error).toContain('does not exist');
  });
});

describe('executeSql on a huge result', () => {
  it('keeps only maxRows rows, says how many there were, and flags the cut', async () => {
    const r = await executeSql(target.url, 'SELECT g FROM generate_series(1, 200000) g', { ...opts, statementTimeoutMs: 10_000, maxRows: 3 });
    expect(r.ok).toBe(true);
    expect(r.commandTags).toEqual(['SELECT 200000']);
    expect(r.outputTruncated).toBe(true);
    expect(r.output).toBe([' g', '---', ' 1', ' 2', ' 3', '(200000 rows, the first 3 shown)'].join('\n'));
  });
});

describe('executeSql on MariaDB', () => {
  it('runs multi-statement input with a tag per statement, keeps maxRows rows, and reports errors as MySQL does', async () => {
    const { createMysqlTarget } = await import('../helpers/databases.js');
    const my = await createMysqlTarget();
    try {
      const r = await executeSql(my.url, "INSERT INTO users VALUES (9, 'z@example.com', 'new'); DELETE FROM users WHERE id = 9; SELECT id FROM users ORDER BY id", { ...opts, maxRows: 2 });
      expect(r).toMatchObject({ ok: true, commandTags: ['INSERT 1', 'DELETE 1', 'SELECT 3'], rowsAffected: 2, outputTruncated: true });
      expect(r.output).toBe('INSERT 1\n\nDELETE 1\n\n id\n----\n  1\n  2\n(3 rows, the first 2 shown)');
      // Huge values are cut while they are read: memory follows the output cap, not the result.
      const wide = await executeSql(my.url, "SELECT REPEAT('x', 300000) AS v FROM seq_1_to_200", { ...opts, statementTimeoutMs: 10_000 });
      expect(wide).toMatchObject({ ok: true, outputTruncated: true, commandTags: ['SELECT 200'] });
      expect(Buffer.byteLength(wide.output)).toBeLessThanOrEqual(opts.outputMaxBytes);
      const bad = await executeSql(my.url, 'SELECT * FROM missing', opts);
      expect(bad).toMatchObject({ ok: false, error: expect.stringContaining("missing' doesn't exist") });
      expect(bad.output).toMatch(/^ERROR 1146 \(42S02\)/);
    } finally {
      await my.drop();
    }
  });
});

describe('an auto-run read on MariaDB over the time limit of a request', () => {
  it('is stopped with the gateway\'s own message, kept on a masking connection and printed without an errno', async () => {
    const { createMysqlTarget } = await import('../helpers/databases.js');
    const my = await createMysqlTarget();
    try {
      const input = 'SELECT SLEEP(0.4); SELECT SLEEP(0.4); SELECT SLEEP(0.4); SELECT SLEEP(0.4)';
      const { statements } = classifyMysql(input);
      const r = await executeSql(my.url, input, { ...opts, statementTimeoutMs: 900, readOnly: true, statements, masking: { columns: ['email'], detectors: [] } });
      const message = 'the read took longer than 900 ms in all, the limit of a request; it was stopped';
      expect(r).toMatchObject({ ok: false, error: message });
      expect(r.output).toBe(`ERROR:  ${message}`);
    } finally {
      await my.drop();
    }
  });
});

describe('the last line of defence of an auto-run read', () => {
  it('is the read-only transaction: a write the catalog check was not told about is refused by the server', async () => {
    await target.query(`CREATE TABLE hits (at timestamptz DEFAULT now());
      CREATE FUNCTION hit() RETURNS int LANGUAGE sql AS $$ INSERT INTO hits DEFAULT VALUES RETURNING 1 $$;
      CREATE VIEW sneaky AS SELECT hit() AS one;`);
    // A statement the classifier called a read, naming nothing the catalog check could look up.
    const statement = { index: 0, kind: 'read' as const, command: 'SELECT', statement: 'SELECT * FROM sneaky', tables: [], warnings: [], calls: { functions: [], operators: [], types: [], relations: [] } };
    const r = await executeSql(target.url, statement.statement, { ...opts, readOnly: true, statements: [statement] });
    expect(r.ok).toBe(false);
    expect(r.error).toContain('read-only transaction');
    expect(await target.query('SELECT count(*)::int AS n FROM hits')).toEqual([{ n: 0 }]);
  });
});
