// The impact preview against real databases: counts by a dry run that changes nothing (rows and
// sequences alike), the planner's estimate where a dry run is not safe, and a held lock that makes
// the dry run give up at once instead of waiting.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlExecutor } from '../../src/execution/index.js';
import type { PreviewRunOptions } from '../../src/execution/types.js';
import { classifyInline } from '../../src/sql/classify-inline.js';
import { previewLines } from '../../src/contracts/impact-preview.js';
import { createMysqlTarget, createTargetDatabase } from '../helpers/databases.js';

const executor = createSqlExecutor({ limits: { max: 5, maxWaiting: 10, waitMs: 2000 } });
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
const TARGET = () => ({ name: 'pg', url: target.url });

async function preview(sql: string, extra: Partial<PreviewRunOptions> = {}, t = TARGET(), dialect: 'postgres' | 'mysql' = 'postgres') {
  const c = await classifyInline({ dialect, sql, options: {} });
  return executor.preview(t, { statements: c.statements, parsed: c.parsed, dryRun: true, statementTimeoutMs: 2000, lockTimeoutMs: 200, ...extra });
}

/** Everything a dry run could leave behind: every row of every table, and the sequence. */
async function snapshot(): Promise<unknown> {
  return {
    users: await target.query('SELECT * FROM users ORDER BY id'),
    events: await target.query('SELECT * FROM events ORDER BY id'),
    archive: await target.query('SELECT * FROM archive ORDER BY id'),
    audited: await target.query('SELECT * FROM audited ORDER BY id'),
    seq: await target.query('SELECT last_value, is_called FROM events_id_seq'),
  };
}

beforeAll(async () => {
  target = await createTargetDatabase();
  await target.query(`
    CREATE TABLE events (id serial PRIMARY KEY, kind text NOT NULL, owner text);
    INSERT INTO events (kind, owner) SELECT CASE WHEN g % 4 = 0 THEN 'error' ELSE 'info' END, 'user' || g || '@example.com' FROM generate_series(1, 400) g;
    CREATE TABLE archive (id int PRIMARY KEY, kind text NOT NULL);
    CREATE TABLE audited (id int PRIMARY KEY, note text);
    INSERT INTO audited VALUES (1, 'a'), (2, 'b');
    CREATE TABLE audit_log (at timestamptz DEFAULT now(), what text);
    CREATE FUNCTION log_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit_log (what) VALUES (TG_OP); RETURN NEW; END $$;
    CREATE TRIGGER audited_log AFTER UPDATE ON audited FOR EACH ROW EXECUTE FUNCTION log_change();
    ANALYZE;`);
});

afterAll(async () => {
  await executor.close();
  await target?.drop();
});

describe('a dry run counts, and changes nothing', () => {
  it('counts an UPDATE with WHERE, a DELETE without WHERE and an INSERT ... SELECT, with masked samples', async () => {
    const before = await snapshot();
    const p = await preview(
      "UPDATE users SET status = 'locked' WHERE id = 2; DELETE FROM archive; INSERT INTO archive (id, kind) SELECT id, kind FROM events WHERE kind = 'error'; DELETE FROM events",
      { masking: { columns: ['owner'], detectors: ['email'] } },
    );
    expect(p.state).toBe('measured');
    expect(p.statements.map((s) => [s.index, s.command, s.table, s.rows, s.estimate])).toEqual([
      [0, 'UPDATE', 'users', 1, false],
      [1, 'DELETE', 'archive', 0, false],
      [2, 'INSERT', 'archive', 100, false],
      [3, 'DELETE', 'events', 400, false],
    ]);
    // The sample is the row as the statement leaves it, its email masked by the detector.
    expect(p.statements[0].sample?.columns).toEqual(['id', 'email', 'status']);
    expect(p.statements[0].sample?.rows[0][0]).toBe('2');
    expect(p.statements[0].sample?.rows[0][2]).toBe('locked');
    expect(p.statements[0].sample?.rows[0][1]).not.toContain('bob@example.com');
    expect(p.statements[2].sample?.rows).toHaveLength(5);
    // owner is a masked column: no address of it comes back in clear.
    const owners = p.statements[3].sample!.rows.map((r) => r[p.statements[3].sample!.columns.indexOf('owner')]);
    expect(owners).toHaveLength(5);
    for (const o of owners) expect(o).toBe('u***@example.com');
    expect(previewLines(p)).toEqual([
      '1. would update 1 row in users',
      '2. would delete 0 rows from archive — matches nothing',
      '3. would insert 100 rows into archive',
      '4. would delete 400 rows from events',
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it('does not run an INSERT that draws from a sequence: the estimate, and the sequence untouched', async () => {
    const before = await snapshot();
    const p = await preview("INSERT INTO events (kind) SELECT 'copy' FROM generate_series(1, 50)");
    expect(p.state).toBe('estimated');
    expect(p.reason).toContain('draws from a sequence');
    expect(p.statements[0]).toMatchObject({ command: 'INSERT', table: 'events', estimate: true, rows: 50 });
    expect(await snapshot()).toEqual(before);
  });

  it('gives a table with a trigger the estimate, and fires nothing', async () => {
    const p = await preview("UPDATE audited SET note = 'x' WHERE id = 1");
    expect(p.state).toBe('estimated');
    expect(p.reason).toContain('triggers would fire (audited_log on audited)');
    expect(p.statements[0]).toMatchObject({ command: 'UPDATE', table: 'audited', estimate: true });
    expect(await target.query('SELECT count(*)::int AS n FROM audit_log')).toEqual([{ n: 0 }]);
  });

  it('gives up on a held lock within the lock timeout, without waiting for it, and estimates instead', async () => {
    const holder = new pg.Client({ connectionString: target.url });
    await holder.connect();
    try {
      await holder.query('BEGIN; UPDATE users SET status = status WHERE id = 1');
      const started = Date.now();
      const p = await preview("UPDATE users SET status = 'x' WHERE id = 1", { lockTimeoutMs: 150 });
      expect(Date.now() - started).toBeLessThan(1500);
      expect(p.state).toBe('estimated');
      expect(p.reason).toBe('a lock on users was not obtained within 150 ms (another session holds it)');
      expect(p.statements[0]).toMatchObject({ rows: 1, estimate: true });
      expect(previewLines(p)[0]).toBe('would update ≈ 1 row in users (estimate)');
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect(await target.query('SELECT status FROM users WHERE id = 1')).toEqual([{ status: 'active' }]);
  });

  it('keeps its limits when the input lifts them, and is stopped at its statement timeout', async () => {
    const started = Date.now();
    const p = await preview("SET statement_timeout = 0; UPDATE users SET status = 'slow' WHERE id = 3 AND pg_sleep(5) IS NOT NULL", { statementTimeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(3000);
    // pg_sleep is a call the gateway does not take for side-effect-free: no dry run; the estimate runs nothing.
    expect(p.state).toBe('estimated');
    // 400³ combinations: seconds of work, stopped at 300 ms although the input set no limit.
    const slowStarted = Date.now();
    const q = await preview('SET statement_timeout = 0; SET lock_timeout = 0; DELETE FROM events e USING events f, events g WHERE e.id + f.id + g.id < 0', { statementTimeoutMs: 300 });
    expect(Date.now() - slowStarted).toBeLessThan(3000);
    expect(q.state).toBe('estimated');
    expect(q.reason).toBe('it took longer than 300 ms');
    expect(q.statements).toEqual([expect.objectContaining({ command: 'DELETE', table: 'events', estimate: true })]);
    expect(await target.query("SELECT status FROM users WHERE id = 3")).toEqual([{ status: 'active' }]);
  });

  it('says why there is no figure: DDL alone, input it cannot parse, a command that would fail', async () => {
    expect(await preview('ALTER TABLE users ADD COLUMN age int')).toMatchObject({ state: 'none', reason: 'statement 1 is ALTER TABLE, which a dry run does not measure' });
    expect(await preview('UPDATE users SET')).toMatchObject({ state: 'none' });
    const failing = await preview('UPDATE users SET id = 2 WHERE id = 1');
    expect(failing.state).toBe('none');
    expect(failing.reason).toMatch(/^a dry run of statement 1 failed: duplicate key value violates unique constraint "users_pkey"/);
    expect(await target.query('SELECT id FROM users ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  it('gives only the estimate when the connection asks for estimates', async () => {
    const p = await preview("DELETE FROM events WHERE kind = 'error'", { dryRun: false });
    expect(p.state).toBe('estimated');
    expect(p.reason).toBe('previews on this connection are estimates only');
    expect(p.statements[0].rows).toBeGreaterThan(50);
    expect(p.statements[0].rows).toBeLessThan(200);
  });
});

describe('MySQL', () => {
  it('gives the planner\'s estimate and changes nothing', async () => {
    const my = await createMysqlTarget();
    try {
      const p = await preview("UPDATE users SET status = 'x' WHERE id > 1; DELETE FROM users", {}, { name: 'my', url: my.url }, 'mysql');
      expect(p.state).toBe('estimated');
      expect(p.reason).toContain('MySQL and MariaDB get the planner\'s estimate');
      expect(p.statements.map((s) => [s.command, s.table, s.estimate])).toEqual([
        ['UPDATE', 'users', true],
        ['DELETE', 'users', true],
      ]);
      expect(p.statements.every((s) => typeof s.rows === 'number' && s.rows >= 1 && s.rows <= 3)).toBe(true);
      expect(await my.query('SELECT status FROM users ORDER BY id')).toEqual([{ status: 'active' }, { status: 'active' }, { status: 'active' }]);
    } finally {
      await my.drop();
    }
  });
});
