// Issue 9: a read that runs without review leaves no request and no job — one target round trip on a
// pooled session, and two audit events. Each speed-up must keep what the slow path guaranteed:
// audited before the answer, masking, a revoked key or a changed connection honoured at once, the
// target's check current, and nothing one request did reaching the next.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlTarget, createTargetDatabase } from '../helpers/databases.js';

type TargetDatabase = Awaited<ReturnType<typeof createTargetDatabase>>;
type MysqlTarget = Awaited<ReturnType<typeof createMysqlTarget>>;
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { readEvents } from '../helpers/review-trace.js';

let t: TestGateway;
let target: TargetDatabase;
let my: MysqlTarget;
let alice: { id: string; apiKey: string };

const exec = (conn: string, input: string, key = alice.apiKey, headers: Record<string, string> = {}) =>
  t.api('POST', `/api/connections/${conn}/exec`, { key, body: { input }, headers });
const setConnection = (body: Record<string, unknown>) => t.api('POST', '/api/connections?overwrite=true', { body });
const reviewRows = () => t.gateway.db.review.count();

beforeAll(async () => {
  target = await createTargetDatabase();
  await target.query(`CREATE TABLE items (id int PRIMARY KEY, label text, owner_email text);
    INSERT INTO items SELECT g, 'item ' || g, 'owner' || g || '@example.com' FROM generate_series(1, 20) g;`);
  my = await createMysqlTarget();
  t = await startTestGateway({ slack: false });
  alice = await t.createUser('alice@example.com', ['developers']);
  for (const [name, url] of [['pg', target.url], ['pg-open', target.url], ['my', my.url]] as const) {
    expect((await t.api('POST', '/api/connections', { body: { name, url, reviewers: ['dba-team'], reviewMode: 'writes' } })).status).toBe(201);
  }
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
  await my?.drop();
});

describe('a read without review', () => {
  it('leaves no request and no job, only its two audit events: who, from where, what, rows, how long', async () => {
    const before = await reviewRows();
    const jobs = await t.gateway.db.outboxJob.count();
    const readsCounted = async () => Number(/^hoop_reads_total\{dialect="postgres",outcome="ok"\} (\d+)/m.exec(await fetch(`${t.baseUrl}/metrics`).then((r) => r.text()))?.[1] ?? 0);
    const readsBefore = await readsCounted();
    const res = await exec('pg', 'SELECT id, label FROM items WHERE id <= 3 ORDER BY id', alice.apiKey, { 'user-agent': 'agent-x/1.0' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'EXECUTED', readOnly: true, commandTags: ['SELECT 3'], connection: 'pg', requester: 'alice@example.com', groups: [] });
    expect(res.body.output).toContain('item 3');
    expect(await reviewRows()).toBe(before);
    expect(await t.gateway.db.outboxJob.count()).toBe(jobs);
    const events = await readEvents(t, res.body.id);
    expect(events.map((e) => e.action)).toEqual(['read.started', 'read.executed']);
    expect(events[0]).toMatchObject({ actor: 'alice@example.com', source: 'api', userAgent: 'agent-x/1.0', detail: { connection: 'pg', input: 'SELECT id, label FROM items WHERE id <= 3 ORDER BY id', tables: ['items'] } });
    expect(events[0].ip).toMatch(/127\.0\.0\.1/);
    expect(events[1].detail).toMatchObject({ outcome: 'executed', rows: 3, commandTags: ['SELECT 3'], error: null, outputTruncated: false });
    expect(events[1].detail.durationMs).toBeGreaterThan(0);
    // Its id names those events, not a request; and the read is counted in /metrics.
    const asked = await t.api('GET', `/api/reviews/${res.body.id}`);
    expect(asked.status).toBe(404);
    expect(await readsCounted()).toBe(readsBefore + 1);
  });

  it('is audited as failed when the target refuses it, and the error reaches the caller', async () => {
    const res = await exec('pg', 'SELECT no_such_column FROM items');
    expect(res.body).toMatchObject({ status: 'FAILED', readOnly: true });
    expect(res.body.error).toContain('no_such_column');
    const events = await readEvents(t, res.body.id);
    expect(events.map((e) => e.action)).toEqual(['read.started', 'read.failed']);
    expect(events[1].detail.error).toContain('no_such_column');
  });

  it('is not answered when its audit cannot be written: 503, nothing returned, and the read changed nothing', async () => {
    const state = new pg.Client({ connectionString: t.databaseUrl });
    await state.connect();
    try {
      await state.query(`CREATE FUNCTION refuse_marked_reads() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.detail->>'input' LIKE '%audit-refused%' THEN RAISE EXCEPTION 'audit refused'; END IF;
          -- The closing event of a read whose start was recorded.
          IF NEW.action = 'read.executed' AND NEW.detail->>'outputBytes' IS NOT NULL AND NEW."userAgent" = 'end-refused' THEN RAISE EXCEPTION 'audit refused'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER refuse_marked_reads BEFORE INSERT ON "AuditEvent" FOR EACH ROW EXECUTE FUNCTION refuse_marked_reads();`);
      for (const input of ["SELECT label FROM items WHERE id = 1 -- audit-refused", "SELECT 'audit-refused', owner_email FROM items"]) {
        const res = await exec('pg', input);
        expect(res.status).toBe(503);
        expect(res.body.error.message).toContain('could not record this read');
        expect(JSON.stringify(res.body)).not.toContain('item 1');
        expect(JSON.stringify(res.body)).not.toContain('owner1@example.com');
      }
      // Its start recorded, its end refused: still no answer.
      const end = await exec('pg', 'SELECT label FROM items WHERE id = 9', alice.apiKey, { 'user-agent': 'end-refused' });
      expect(end.status).toBe(503);
      expect(end.body.error.message).toContain('could not record the end of this read');
      expect(JSON.stringify(end.body)).not.toContain('item 9');
    } finally {
      await state.query('DROP TRIGGER IF EXISTS refuse_marked_reads ON "AuditEvent"; DROP FUNCTION IF EXISTS refuse_marked_reads()');
      await state.end();
    }
    expect((await exec('pg', 'SELECT 1')).status).toBe(201);
  });

  it('runs on MySQL too without a request, and a read the target holds becomes a request with the read audited as held', async () => {
    const before = await reviewRows();
    const ok = await exec('my', 'SELECT 1 AS one');
    expect(ok.body).toMatchObject({ status: 'EXECUTED', readOnly: true });
    expect(await reviewRows()).toBe(before);
    expect((await readEvents(t, ok.body.id)).map((e) => e.action)).toEqual(['read.started', 'read.executed']);

    // The parser sees a built-in; the target has a user-written overload the name may resolve to.
    await target.query(`CREATE FUNCTION public.initcap(integer) RETURNS text LANGUAGE sql AS $$ SELECT $1::text $$`);
    const held = await exec('pg', 'SELECT initcap(label) FROM items WHERE id = 1');
    expect(held.body).toMatchObject({ status: 'PENDING', readOnly: false });
    expect(held.body.classification.statements[0].warnings.join(' ')).toContain('public.initcap(integer)');
    const events = await t.gateway.db.auditEvent.findMany({ where: { reviewId: held.body.id }, orderBy: { id: 'asc' } });
    expect(events.map((e) => e.action)).toContain('read.held');
    const heldEvent = events.find((e) => e.action === 'read.held')!;
    expect((await readEvents(t, (heldEvent.detail as { readId: string }).readId)).map((e) => e.action)).toEqual(['read.started', 'read.held']);
  });
});

describe('what a read is planned with is checked by its audit write', () => {
  // Each case: a read warms this process's caches (the key's user, the connection), the change is
  // made, and the very next read must see it.
  it('a revoked key, or a deactivated user, gets 401 on the next read, and the read that ran is audited as discarded', async () => {
    for (const how of ['revoke', 'deactivate'] as const) {
      const u = await t.createUser(`${how}@example.com`, ['developers']);
      expect((await exec('pg', 'SELECT label FROM items WHERE id = 2', u.apiKey)).status).toBe(201);
      if (how === 'revoke') {
        const keys = (await t.api('GET', `/api/users/${u.id}/keys`)).body.keys;
        expect((await t.api('DELETE', `/api/keys/${keys[0].id}`)).status).toBe(200);
      } else {
        expect((await t.api('PATCH', `/api/users/${u.id}`, { body: { active: false } })).status).toBe(200);
      }
      const res = await exec('pg', 'SELECT label FROM items WHERE id = 2', u.apiKey);
      expect(res.status).toBe(401);
      expect(JSON.stringify(res.body)).not.toContain('item 2');
      const discarded = await t.gateway.db.auditEvent.findMany({ where: { action: 'read.discarded', actorId: u.id } });
      expect(discarded).toHaveLength(1);
    }
  });

  it('a user moved out of the connection\'s allowed groups no longer sees it', async () => {
    const u = await t.createUser('mover@example.com', ['analysts']);
    expect((await setConnection({ name: 'pg-open', allowedGroups: ['analysts'] })).status).toBe(200);
    expect((await exec('pg-open', 'SELECT label FROM items WHERE id = 4', u.apiKey)).body.status).toBe('EXECUTED');
    expect((await t.api('PATCH', `/api/users/${u.id}`, { body: { groups: ['marketing'] } })).status).toBe(200);
    const res = await exec('pg-open', 'SELECT label FROM items WHERE id = 4', u.apiKey);
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.body)).not.toContain('item 4');
    expect((await setConnection({ name: 'pg-open', allowedGroups: [] })).status).toBe(200);
  });

  it('a connection that starts masking, reviewing reads or blocking is obeyed by the next read', async () => {
    const read = 'SELECT owner_email FROM items WHERE id = 5';
    expect((await exec('pg-open', read)).body.output).toContain('owner5@example.com');
    expect((await setConnection({ name: 'pg-open', maskColumns: ['owner_email'] })).status).toBe(200);
    const masked = await exec('pg-open', read);
    expect(masked.body.status).toBe('EXECUTED');
    expect(masked.body.output).not.toContain('owner5@example.com');

    expect((await setConnection({ name: 'pg-open', maskColumns: [], reviewMode: 'all' })).status).toBe(200);
    expect((await exec('pg-open', read)).body).toMatchObject({ status: 'PENDING' });

    expect((await setConnection({ name: 'pg-open', reviewMode: 'writes', guardrails: [{ type: 'regex', pattern: 'owner_email', name: 'no-owners', message: 'Not that column.' }] })).status).toBe(200);
    const blocked = await exec('pg-open', read);
    expect(blocked.status).toBe(422);
    expect(blocked.body.error.message).toContain('no-owners');
    expect((await setConnection({ name: 'pg-open', guardrails: [] })).status).toBe(200);
  });
});

describe('the target\'s check of a read', () => {
  it('is asked again once the gateway ran anything else on the target: a function made by an approved command holds the next read', async () => {
    // A verdict that would stand for a minute: only the gateway's own command can drop it.
    const g = await startTestGateway({ slack: false, env: { READ_CHECK_CACHE_MS: '60000' } });
    try {
      expect((await g.api('POST', '/api/connections', { body: { name: 'pg', url: target.url, reviewers: ['dba-team'], reviewMode: 'writes' } })).status).toBe(201);
      const carol = await g.createUser('carol@example.com', ['developers']);
      const read = 'SELECT lower(label) FROM items WHERE id = 6';
      const run = () => g.api('POST', '/api/connections/pg/exec', { key: carol.apiKey, body: { input: read } });
      expect((await run()).body.status).toBe('EXECUTED');
      expect((await run()).body.status).toBe('EXECUTED');
      // The admin's own command runs at once, through the gateway.
      const ddl = await g.api('POST', '/api/connections/pg/exec', { body: { input: 'CREATE FUNCTION public.lower(integer) RETURNS text LANGUAGE sql AS $$ SELECT $1::text $$' } });
      expect(ddl.body.status).toBe('EXECUTED');
      const next = await run();
      expect(next.body.status).toBe('PENDING');
      expect(next.body.classification.statements[0].warnings.join(' ')).toContain('public.lower(integer)');
    } finally {
      await target.query('DROP FUNCTION IF EXISTS public.lower(integer)');
      await g.stop();
    }
  });

  it('reuses a verdict for READ_CHECK_CACHE_MS at most when the catalog changes behind the gateway\'s back', async () => {
    const g = await startTestGateway({ slack: false, env: { READ_CHECK_CACHE_MS: '300' } });
    try {
      expect((await g.api('POST', '/api/connections', { body: { name: 'pg', url: target.url, reviewers: ['dba-team'], reviewMode: 'writes' } })).status).toBe(201);
      // Not the admin: an admin's own command runs at once even when it is held for review.
      const bob = await g.createUser('bob@example.com', ['developers']);
      const run = (input: string) => g.api('POST', '/api/connections/pg/exec', { key: bob.apiKey, body: { input } });
      const read = 'SELECT upper(label) FROM items WHERE id = 7';
      expect((await run(read)).body.status).toBe('EXECUTED');
      await target.query('CREATE FUNCTION public.upper(integer) RETURNS text LANGUAGE sql AS $$ SELECT $1::text $$');
      try {
        await new Promise((r) => setTimeout(r, 400));
        const next = await run(read);
        expect(next.body.status).toBe('PENDING');
      } finally {
        await target.query('DROP FUNCTION public.upper(integer)');
      }
    } finally {
      await g.stop();
    }
  });
});

describe('pooled target sessions', () => {
  it('never see what a command that changes things left: settings, temp tables, prepared statements, advisory locks, open transactions', async () => {
    // An approved (here: the admin's own) command that leaves every kind of session state behind:
    // it runs on a connection of its own, which ends with it.
    const dirty = await t.api('POST', '/api/connections/pg/exec', {
      body: { input: "SET statement_timeout = 1234; SELECT set_config('application_name', 'dirty', false); CREATE TEMP TABLE leftover (x int); PREPARE leftover_stmt AS SELECT 1; SELECT pg_advisory_lock(4242);" },
    });
    expect(dirty.body.status).toBe('EXECUTED');
    const open = await t.api('POST', '/api/connections/pg/exec', { body: { input: 'BEGIN; SELECT 1' } });
    expect(['EXECUTED', 'FAILED']).toContain(open.body.status);
    // Reads, many, so every pooled session serves one.
    const reads = await Promise.all(
      Array.from({ length: 12 }, () =>
        exec('pg', "SELECT current_setting('statement_timeout') AS st, current_setting('application_name') AS app, current_setting('transaction_read_only') AS ro, (SELECT count(*) FROM pg_prepared_statements WHERE name = 'leftover_stmt') AS prepared, (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND pid = pg_backend_pid()) AS locks, (to_regclass('leftover') IS NOT NULL)::int AS temp"),
      ),
    );
    for (const r of reads) {
      expect(r.body.status).toBe('EXECUTED');
      const line = r.body.output.split('\n')[2];
      expect(line).not.toContain('1234');
      expect(line).not.toContain('dirty');
      expect(line.split('|').map((c: string) => c.trim()).slice(2)).toEqual(['on', '0', '0', '0']);
    }
  });

  it('are closed after a read that calls a function the connection allows: nothing it set outlives it', async () => {
    // One pooled session, so every read below would share it; the check cache on (its default).
    const g = await startTestGateway({ slack: false, env: { TARGET_POOL_MAX: '1' } });
    try {
      await target.query('CREATE SEQUENCE IF NOT EXISTS never_called');
      const oid = (await target.query(`SELECT 'never_called'::regclass::oid AS oid`))[0].oid;
      const allowed = { url: target.url, reviewers: ['dba-team'], reviewMode: 'writes', allowFunctions: ['set_config', 'pg_advisory_lock'] };
      expect((await g.api('POST', '/api/connections', { body: { name: 'pg', ...allowed } })).status).toBe(201);
      const erin = await g.createUser('erin@example.com', ['developers']);
      const run = async (input: string) => (await g.api('POST', '/api/connections/pg/exec', { key: erin.apiKey, body: { input } })).body;
      expect((await run("SELECT 'a'")).status).toBe('EXECUTED');
      // Allowed, so it runs as a read: it must not leave the session reading literals otherwise, or writable.
      expect((await run("SELECT set_config('standard_conforming_strings', 'off', false), set_config('default_transaction_read_only', 'off', false), pg_advisory_lock(4343)")).status).toBe('EXECUTED');
      // One string literal to the parser; on a session left with standard_conforming_strings off it would call nextval.
      const sneaky = await run(`SELECT 'a\\'', nextval(${oid}::regclass) --'`);
      expect(sneaky.status).toBe('EXECUTED');
      expect((await target.query('SELECT is_called FROM never_called'))[0].is_called).toBe(false);
      const state = await run("SELECT current_setting('standard_conforming_strings') AS scs, current_setting('transaction_read_only') AS ro");
      expect(state.output.split('\n')[2].split('|').map((c: string) => c.trim())).toEqual(['on', 'on']);
      // The session that took it was closed (its backend ends a moment after the socket).
      await eventually(async () => (await target.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4343`)).length === 0, 5_000, 'the advisory lock released');
    } finally {
      await g.stop();
    }
  });

  it('stay read-only when the connection URL brings options of its own', async () => {
    const withOptions = `${target.url}${target.url.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c work_mem=8MB')}`;
    expect((await setConnection({ name: 'pg-open', url: withOptions })).status).toBe(200);
    try {
      const res = await exec('pg-open', "SELECT current_setting('transaction_read_only') AS ro, current_setting('work_mem') AS wm, current_setting('standard_conforming_strings') AS scs");
      expect(res.body.status).toBe('EXECUTED');
      expect(res.body.output.split('\n')[2].split('|').map((c: string) => c.trim())).toEqual(['on', '8MB', 'on']);
    } finally {
      expect((await setConnection({ name: 'pg-open', url: target.url })).status).toBe(200);
    }
  });

  it('are not spoiled by a read that fails or is stopped at its time limit', async () => {
    for (let i = 0; i < 12; i++) {
      expect((await exec('pg', 'SELECT 1/0')).body.status).toBe('FAILED');
    }
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => exec('pg', `SELECT label FROM items WHERE id = ${(i % 20) + 1}`)));
    expect(results.every((r) => r.body.status === 'EXECUTED')).toBe(true);
  });
});
