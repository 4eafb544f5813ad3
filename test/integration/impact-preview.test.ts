// The impact preview against real databases: counts by a dry run that changes nothing (rows and
// sequences alike), the planner's estimate where a dry run is not safe, and a held lock that makes
// the dry run give up at once instead of waiting.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlExecutor } from '../../src/execution/index.js';
import type { PreviewRunOptions } from '../../src/execution/types.js';
import { classifyInline } from '../../src/sql/classify-inline.js';
import { previewLines } from '../../src/contracts/impact-preview.js';
import { createMysqlTarget, createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { runHoop } from '../helpers/hoop-cli.js';

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
    expect(p.reason).toContain('writing to events may draw from a sequence');
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

  it('runs no dry run after a SET of the input, and stops a dry run at its one time limit for all statements', async () => {
    // A SET could lift the limits or make the names checked mean other functions: the estimate only.
    const p = await preview("SET statement_timeout = 0; SET search_path = public, pg_catalog; UPDATE users SET status = 'slow' WHERE id = 3");
    expect(p.state).toBe('estimated');
    expect(p.reason).toBe('statement 1 is SET, which could change what the others call; statement 2 is SET, which could change what the others call');
    // 400³ combinations: seconds of work, stopped at 300 ms.
    const slowStarted = Date.now();
    const q = await preview('DELETE FROM events e USING events f, events g WHERE e.id + f.id + g.id < 0', { statementTimeoutMs: 300 });
    expect(Date.now() - slowStarted).toBeLessThan(3000);
    expect(q.state).toBe('estimated');
    expect(q.reason).toBe('it took longer than 300 ms in all');
    expect(q.statements).toEqual([expect.objectContaining({ command: 'DELETE', table: 'events', estimate: true })]);
    expect(await target.query("SELECT status FROM users WHERE id = 3")).toEqual([{ status: 'active' }]);
  });

  it('counts the rows a cascade deletes in other tables, and keeps no rows of a RETURNING the request wrote', async () => {
    await target.query(`CREATE TABLE customers (id int PRIMARY KEY, name text);
      CREATE TABLE orders (id int PRIMARY KEY, customer int REFERENCES customers ON DELETE CASCADE);
      INSERT INTO customers VALUES (1, 'a'), (2, 'b'); INSERT INTO orders SELECT g, 1 + g % 2 FROM generate_series(1, 40) g;`);
    const p = await preview('DELETE FROM customers WHERE id = 1');
    expect(p.state).toBe('measured');
    expect(p.statements[0]).toMatchObject({ rows: 1, alsoChanged: 20 });
    expect(previewLines(p)).toEqual(['would delete 1 row from customers, and 20 rows more in other tables (cascades)']);
    const own = await preview('UPDATE customers SET name = name WHERE id = 2 RETURNING (SELECT string_agg(email, \',\') FROM users)');
    expect(own.state).toBe('measured');
    expect(own.statements[0].rows).toBe(1);
    expect(own.statements[0].sample).toBeUndefined();
    expect(await target.query('SELECT count(*)::int AS n FROM orders')).toEqual([{ n: 40 }]);
  });

  it.each([
    ['a trigger on a partition of the table', `CREATE TABLE parts (id int, v int) PARTITION BY RANGE (id); CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (0) TO (100);
      INSERT INTO parts VALUES (1, 1); CREATE TRIGGER parts_1_log AFTER UPDATE ON parts_1 FOR EACH ROW EXECUTE FUNCTION log_change();`, 'UPDATE parts SET v = 2', 'triggers would fire (parts_1_log on parts_1)'],
    ['a trigger on an inheritance child', `CREATE TABLE base (id int, v int); CREATE TABLE kid () INHERITS (base); INSERT INTO kid VALUES (1, 1);
      CREATE TRIGGER kid_log AFTER UPDATE ON kid FOR EACH ROW EXECUTE FUNCTION log_change();`, 'UPDATE base SET v = 2', 'triggers would fire (kid_log on kid)'],
    ['a user function in a column default', `CREATE FUNCTION stamp() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$; CREATE TABLE stamped (id int, s text DEFAULT stamp());`, 'INSERT INTO stamped (id) VALUES (1)', 'call stamp()'],
    ['a user function in a check', `CREATE FUNCTION ok(int) RETURNS bool LANGUAGE sql AS $$ SELECT true $$; CREATE TABLE checked (id int CHECK (ok(id)));`, 'INSERT INTO checked VALUES (1)', 'call ok(integer)'],
    ['a sequence an UPDATE draws from with DEFAULT', 'CREATE TABLE numbered (id serial, v int); INSERT INTO numbered (v) VALUES (1);', 'UPDATE numbered SET id = DEFAULT', 'may draw from a sequence'],
    ['a user function the statement calls', "CREATE FUNCTION bump(int) RETURNS int LANGUAGE sql AS $$ SELECT $1 + 1 $$;", 'UPDATE users SET id = bump(id) WHERE id = 99', 'bump'],
  ])('gives %s the estimate, never a dry run', async (_what, setup, sql, reason) => {
    await target.query(setup);
    const seqBefore = await target.query("SELECT count(*)::int AS n FROM pg_class WHERE relkind = 'S'");
    const p = await preview(sql);
    expect(p.state === 'estimated' || p.state === 'none').toBe(true);
    expect(p.reason).toContain(reason);
    expect(await target.query('SELECT count(*)::int AS n FROM audit_log')).toEqual([{ n: 0 }]);
    expect(await target.query("SELECT count(*)::int AS n FROM pg_class WHERE relkind = 'S'")).toEqual(seqBefore);
  });

  it('says why there is no figure: DDL alone, input it cannot parse, a command that would fail', async () => {
    expect(await preview('ALTER TABLE users ADD COLUMN age int')).toMatchObject({ state: 'none', reason: 'statement 1 is ALTER TABLE, which a dry run does not measure' });
    expect(await preview('UPDATE users SET')).toMatchObject({ state: 'none' });
    const failing = await preview('UPDATE users SET id = 2 WHERE id = 1');
    expect(failing.state).toBe('none');
    expect(failing.reason).toBe('a dry run of statement 1 failed');
    expect(failing.error).toMatch(/^duplicate key value violates unique constraint "users_pkey"/);
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

describe('through the gateway: measured before review, shown, and held to at execution', () => {
  let t: TestGateway;
  let alice: { id: string; apiKey: string };
  let dana: { id: string; apiKey: string };
  let erin: { id: string; apiKey: string };

  const submit = async (connection: string, input: string) => {
    const res = await t.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input, reason: 'OPS-14' } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const get = async (id: string) => (await t.api('GET', `/api/reviews/${id}`, { key: dana.apiKey })).body;
  const measured = (id: string) => eventually(async () => ((await get(id)).preview?.state !== 'pending' ? get(id) : null), 10_000, 'the preview measured');
  const approve = (id: string, key: string, body: Record<string, unknown> = {}) => t.api('PUT', `/api/reviews/${id}/approve`, { key, body });
  const finished = (id: string) => eventually(async () => ((await get(id)).finishedAt ? get(id) : null), 10_000, 'the run finished');
  const requestMessages = (id: string) => t.slack.messages.filter((m: any) => !m.thread_ts && JSON.stringify(m.blocks ?? '').includes(`Request \`${id}\``));

  beforeAll(async () => {
    await target.query("CREATE TABLE tickets (id int PRIMARY KEY, state text NOT NULL); INSERT INTO tickets SELECT g, 'open' FROM generate_series(1, 6) g;");
    // Previews as a gateway has them by default (the helper switches them off for other tests).
    t = await startTestGateway({ env: { PREVIEW_DEFAULT_MODE: 'auto' } });
    alice = await t.createUser('alice@example.com', ['developers']);
    dana = await t.createUser('dana@example.com', ['dba-team']);
    erin = await t.createUser('erin@example.com', ['security']);
    for (const [name, extra] of [
      ['prod', {}],
      ['two', { reviewers: ['dba-team', 'security'], rowTolerancePct: 50 }],
      ['nopreview', { previewMode: 'off' }],
      ['reviewed', { reviewMode: 'all' }],
      ['unguarded', { previewMode: 'off', guardrails: [] }],
    ] as const) {
      const res = await t.api('POST', '/api/connections', { body: { name, url: target.url, reviewers: ['dba-team'], ...extra } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      // PREVIEW_DEFAULT_MODE for a connection that names none.
      expect(res.body.connection).toMatchObject({ previewMode: 'previewMode' in extra ? extra.previewMode : 'auto', previewTimeoutMs: 2000, previewLockTimeoutMs: 200 });
    }
    const bad = await t.api('POST', '/api/connections', { body: { name: 'bad', url: target.url, previewMode: 'always', rowTolerancePct: -1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('"previewMode" must be auto');
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('measures a write as it waits, audits it, and updates the Slack message with it', async () => {
    const r = await submit('prod', "UPDATE tickets SET state = 'closed' WHERE id <= 2");
    expect(r.status).toBe('PENDING');
    expect(r.preview).toEqual({ state: 'pending', reason: null, error: null, statements: [], at: null, tookMs: null });
    const v = await measured(r.id);
    expect(v.preview.state).toBe('measured');
    expect(v.preview.statements).toEqual([expect.objectContaining({ index: 0, command: 'UPDATE', table: 'tickets', rows: 2, estimate: false })]);
    expect(v.preview.statements[0].sample.rows).toEqual([['1', 'closed'], ['2', 'closed']]);
    // Nothing changed on the target.
    expect(await target.query("SELECT count(*)::int AS n FROM tickets WHERE state = 'open'")).toEqual([{ n: 6 }]);
    const audit = await t.gateway.db.auditEvent.findMany({ where: { reviewId: r.id, action: 'review.previewed' } });
    expect(audit).toHaveLength(1);
    expect((audit[0].detail as any).statements).toEqual([{ index: 0, command: 'UPDATE', table: 'tickets', rows: 2, estimate: false }]);
    await eventually(async () => requestMessages(r.id).some((m: any) => JSON.stringify(m.blocks).includes('would update 2 rows in `tickets`')), 10_000, 'the Slack message updated with the preview');
    const text = JSON.stringify(requestMessages(r.id).find((m: any) => m.channel === 'C-REVIEWS')!.blocks);
    expect(text).toContain('*Impact preview* _(dry run, rolled back)_');
    // A read waits for nobody and gets no preview; nor does a connection with previews off.
    expect((await submit('nopreview', "DELETE FROM tickets WHERE id = 99")).preview).toBeNull();
  });

  it('is measured by the sweep when its job was lost', async () => {
    const r = await submit('prod', "UPDATE tickets SET state = 'swept' WHERE id = 6");
    await measured(r.id);
    // As if Redis lost the job: still "measuring" a minute after the request was made.
    await t.gateway.db.$executeRaw`UPDATE "Review" SET preview = '{"state":"pending","reason":null,"error":null,"statements":[],"at":null,"tookMs":null}'::jsonb, "createdAt" = now() - interval '1 minute' WHERE id = ${r.id}::uuid`;
    const again = await measured(r.id);
    expect(again.preview.statements[0]).toMatchObject({ command: 'UPDATE', rows: 1, estimate: false });
    expect(await t.gateway.db.auditEvent.count({ where: { reviewId: r.id, action: 'review.previewed' } })).toBe(2);
    await t.api('PUT', `/api/reviews/${r.id}/reject`, { key: dana.apiKey, body: { reason: 'test done' } });
  });

  it('runs an approved write within its counted rows, and rolls back one that would now change more', async () => {
    const ok = await submit('prod', "UPDATE tickets SET state = 'triaged' WHERE id = 3");
    expect((await measured(ok.id)).preview.statements[0].rows).toBe(1);
    expect((await approve(ok.id, dana.apiKey)).status).toBe(200);
    const done = await finished(ok.id);
    expect(done.status).toBe('EXECUTED');
    expect(done.rowsAffected).toBe(1);

    const grown = await submit('prod', "UPDATE tickets SET state = 'stale' WHERE state = 'open' AND id > 4");
    expect((await measured(grown.id)).preview.statements[0].rows).toBe(2);
    // After the preview, before the approval, the data moves: the same command now matches 3 rows.
    await target.query("UPDATE tickets SET state = 'open' WHERE id = 3; INSERT INTO tickets VALUES (7, 'open')");
    expect((await approve(grown.id, dana.apiKey)).status).toBe(200);
    const failed = await finished(grown.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('statement 1 (UPDATE) affected 3 rows, approved for 2 rows as the dry run counted them; rolled back, nothing was changed');
    expect(await target.query("SELECT count(*)::int AS n FROM tickets WHERE state = 'stale'")).toEqual([{ n: 0 }]);
    const bound = await t.gateway.db.auditEvent.findMany({ where: { reviewId: grown.id, action: 'review.bound_exceeded' } });
    expect(bound).toHaveLength(1);
    expect((bound[0].detail as any).rowBound.statements).toEqual([{ index: 0, command: 'UPDATE', measured: 2, max: 2 }]);
    // Reviewers are told in the request's thread.
    await eventually(async () => t.slack.callsOf('chat.postMessage').some((c) => c.args.thread_ts && JSON.stringify(c.args).includes('approved for 2 rows')), 10_000, 'the failure posted to the thread');
  });

  it("allows the connection's tolerance above the count, and binds every approval to the input's sha256", async () => {
    const r = await submit('two', "UPDATE tickets SET state = 'held' WHERE id IN (1, 2)");
    expect((await measured(r.id)).preview.statements[0].rows).toBe(2);
    await target.query("UPDATE tickets SET id = 8 WHERE id = 7"); // unrelated: still 2 match
    expect((await approve(r.id, dana.apiKey)).status).toBe(200);
    const groups = await t.gateway.db.reviewGroup.findMany({ where: { reviewId: r.id, status: 'APPROVED' } });
    expect(groups.map((g) => g.inputSha256)).toEqual([createHash('sha256').update("UPDATE tickets SET state = 'held' WHERE id IN (1, 2)").digest('hex')]);
    expect((await approve(r.id, erin.apiKey)).status).toBe(200);
    const done = await finished(r.id);
    expect(done.status).toBe('EXECUTED');
    const stored = await t.gateway.db.review.findUniqueOrThrow({ where: { id: r.id }, select: { rowBound: true } });
    expect(stored.rowBound).toMatchObject({ maxRows: null, tolerancePct: 50, statements: [{ index: 0, command: 'UPDATE', measured: 2, max: 3 }] });
  });

  it('approves with a row limit: over it the run is rolled back, within it the run goes through', async () => {
    await target.query("UPDATE tickets SET state = 'open'");
    const over = await submit('nopreview', "UPDATE tickets SET state = 'x' WHERE id <= 3");
    const res = await approve(over.id, dana.apiKey, { maxRows: 2 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.groups[0]).toMatchObject({ status: 'APPROVED', maxRows: 2 });
    const failed = await finished(over.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('the command affected 3 rows, approved for at most 2 rows; rolled back, nothing was changed');
    expect(await target.query("SELECT count(*)::int AS n FROM tickets WHERE state = 'x'")).toEqual([{ n: 0 }]);

    const within = await submit('nopreview', "UPDATE tickets SET state = 'y' WHERE id <= 3");
    expect((await approve(within.id, dana.apiKey, { maxRows: 3 })).status).toBe(200);
    expect((await finished(within.id)).status).toBe('EXECUTED');
    expect(await target.query("SELECT count(*)::int AS n FROM tickets WHERE state = 'y'")).toEqual([{ n: 3 }]);
  });

  it('shows the preview in hoop get review, and approves with --max-rows from the terminal', async () => {
    await target.query("UPDATE tickets SET state = 'open'");
    const home = mkdtempSync(path.join(tmpdir(), 'hoop-preview-'));
    const hoop = (args: string[], key: string) => runHoop(args, { apiUrl: t.baseUrl, key, home });
    const r = await submit('prod', "DELETE FROM tickets WHERE id IN (1, 2)");
    await measured(r.id);
    const shown = await hoop(['get', 'review', r.id], dana.apiKey);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('Impact:      would delete 2 rows from tickets');
    expect(shown.stdout).toContain('Sample of statement 1 (the rows it would delete):');
    expect(shown.stdout).toMatch(/ id \| state\s*\n/);
    const bad = await hoop(['review', 'approve', r.id, '--max-rows', 'ten'], dana.apiKey);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-rows takes a whole number of rows (got "ten")');
    const ok = await hoop(['review', 'approve', r.id, '--max-rows', '1'], dana.apiKey);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('Approved, on condition it changes at most 1 row.');
    const failed = await finished(r.id);
    expect(failed.error).toBe('the command affected 2 rows, approved for at most 1 row; rolled back, nothing was changed');
    expect(await target.query('SELECT count(*)::int AS n FROM tickets WHERE id IN (1, 2)')).toEqual([{ n: 2 }]);
    // The connection's preview settings from the terminal.
    const made = await hoop(['admin', 'create', 'connection', 'estimated', '--reviewers', 'dba-team', '--preview', 'estimate', '--preview-timeout-ms', '900', '--row-tolerance', '10%', '--', 'psql', target.url], ADMIN_KEY);
    expect(made.code, made.stderr).toBe(0);
    const listed = (await t.api('GET', '/api/connections')).body.connections.find((c: { name: string }) => c.name === 'estimated');
    expect(listed).toMatchObject({ previewMode: 'estimate', previewTimeoutMs: 900, rowTolerancePct: 10 });
    const badFlag = await hoop(['admin', 'create', 'connection', 'other', '--reviewers', 'dba-team', '--row-tolerance', 'lots', '--', 'psql', target.url], ADMIN_KEY);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('--row-tolerance takes a whole number (got "lots")');
    const after = await hoop(['get', 'review', r.id], dana.apiKey);
    expect(after.stdout).toMatch(/dba-team: APPROVED by dana@example\.com at \S+ \(at most 1 row\)/);
  });

  it.each([
    [{ maxRows: -1 }, 'must be a whole number of rows from 0'],
    [{ maxRows: 1.5 }, 'must be a whole number of rows from 0'],
    [{ maxRows: '10' }, '"maxRows" must be a number (got string)'],
    [{ maxRows: 2_000_000_000 }, 'must be a whole number of rows from 0'],
  ])('refuses a bad row limit %j in words, and records no vote', async (body, words) => {
    const r = await submit('nopreview', "UPDATE tickets SET state = 'z' WHERE id = 1");
    const res = await approve(r.id, dana.apiKey, body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(words);
    expect((await get(r.id)).status).toBe('PENDING');
  });

  it('shows the preview where reads are reviewed to the reviewers only, not to the requester (get and list)', async () => {
    const r = await submit('reviewed', "UPDATE tickets SET state = 'seen' WHERE id = 1");
    const asReviewer = await measured(r.id);
    expect(asReviewer.preview.statements[0]).toMatchObject({ rows: 1, estimate: false, sample: expect.anything() });
    const asRequester = (await t.api('GET', `/api/reviews/${r.id}`, { key: alice.apiKey })).body;
    expect(asRequester.preview).toMatchObject({ state: 'measured', statements: [], error: null, reason: expect.stringContaining('shown to the reviewers only') });
    const listed = (await t.api('GET', '/api/reviews?status=pending&limit=200', { key: alice.apiKey })).body.reviews.find((v: { id: string }) => v.id === r.id);
    expect(listed.preview.statements).toEqual([]);
    // Where reads run at once, the requester could read the same: it sees the preview.
    const open = await submit('prod', "UPDATE tickets SET state = 'seen' WHERE id = 1");
    await measured(open.id);
    expect((await t.api('GET', `/api/reviews/${open.id}`, { key: alice.apiKey })).body.preview.statements[0].rows).toBe(1);
    for (const id of [r.id, open.id]) await t.api('PUT', `/api/reviews/${id}/reject`, { key: dana.apiKey, body: { reason: 'test done' } });
  });

  it('refuses a row limit on a TRUNCATE, whose rows PostgreSQL does not count', async () => {
    const r = await submit('unguarded', 'TRUNCATE tickets');
    const res = await approve(r.id, dana.apiKey, { maxRows: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('A row limit cannot be enforced on a TRUNCATE');
    expect((await get(r.id)).status).toBe('PENDING');
    await t.api('PUT', `/api/reviews/${r.id}/reject`, { key: dana.apiKey, body: { reason: 'test done' } });
  });

  it('refuses a row limit on a rejection and on a MySQL connection', async () => {
    const r = await submit('nopreview', "UPDATE tickets SET state = 'z' WHERE id = 1");
    const rej = await t.api('PUT', `/api/reviews/${r.id}/reject`, { key: dana.apiKey, body: { maxRows: 1 } });
    expect(rej.status).toBe(400);
    expect(rej.body.error.message).toContain('does not take "maxRows"');
    const my = await createMysqlTarget();
    try {
      expect((await t.api('POST', '/api/connections', { body: { name: 'my', url: my.url, reviewers: ['dba-team'] } })).status).toBe(201);
      const m = await submit('my', "UPDATE users SET status = 'x' WHERE id = 1");
      const res = await approve(m.id, dana.apiKey, { maxRows: 1 });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('A row limit is enforced on PostgreSQL connections only');
      expect((await get(m.id)).status).toBe('PENDING');
      // MySQL previews are the planner's estimate.
      const v = await measured(m.id);
      expect(v.preview).toMatchObject({ state: 'estimated', statements: [expect.objectContaining({ command: 'UPDATE', estimate: true })] });
    } finally {
      await my.drop();
    }
  });
});
