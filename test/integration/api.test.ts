import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };
let sam: { id: string; apiKey: string };
let bo: { id: string; apiKey: string };

beforeAll(async () => {
  t = await startTestGateway({ slack: false });
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  sam = await t.createUser('sam@example.com', ['security']);
  bo = await t.createUser('bo@example.com', ['dba-team', 'security']);
  await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
  await t.api('POST', '/api/connections', { body: { name: 'dual', url: target.url, reviewers: ['dba-team', 'security'], reviewMode: 'all' } });
  await t.api('POST', '/api/connections', { body: { name: 'sandbox', url: target.url, reviewers: [] } });
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

const exec = (connection: string, input: string, key = alice.apiKey) => t.api('POST', `/api/connections/${connection}/exec`, { key, body: { input, reason: 'test' } });

describe('users and API keys', () => {
  it('creates a user whose key is shown once and works', async () => {
    const res = await t.api('POST', '/api/users', { body: { email: 'New@Example.com', name: 'New', groups: ['a', 'b'] } });
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({ email: 'new@example.com', groups: ['a', 'b'], admin: false });
    expect(res.body.apiKey).toMatch(/^hoop_/);
    const me = await t.api('GET', '/api/me', { key: res.body.apiKey });
    expect(me.body.user.email).toBe('new@example.com');
    const stored = await t.gateway.db.apiKey.findMany({ where: { userId: res.body.user.id } });
    expect(stored).toHaveLength(1);
    expect(stored[0].hash).not.toContain(res.body.apiKey.slice(5));
  });

  it('refuses a second user with the same email (409), bad input (400), non-admins (403), no key (401)', async () => {
    expect((await t.api('POST', '/api/users', { body: { email: 'alice@example.com' } })).status).toBe(409);
    expect((await t.api('POST', '/api/users', { body: { email: 'not-an-email' } })).body.error.code).toBe('bad_input');
    expect((await t.api('POST', '/api/users', { body: { email: 'x@example.com', groups: 'dba' } })).status).toBe(400);
    expect((await t.api('POST', '/api/users', { key: alice.apiKey, body: { email: 'y@example.com' } })).status).toBe(403);
    const none = await t.api('GET', '/api/connections', { key: '' });
    expect(none.status).toBe(401);
    expect(none.body.error.message).toContain('Authorization: Bearer');
    expect((await t.api('GET', '/api/connections', { key: 'hoop_wrong' })).status).toBe(401);
  });
});

describe('connections', () => {
  it('never returns the URL, refuses a duplicate name unless overwrite=true', async () => {
    const list = await t.api('GET', '/api/connections', { key: alice.apiKey });
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(target.url);
    expect(JSON.stringify(list.body)).not.toContain('postgresql://');
    expect(list.body.connections.find((c: any) => c.name === 'dual').reviewers).toEqual(['dba-team', 'security']);

    const dup = await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['x'], reviewMode: 'all' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.message).toContain('overwrite=true');
    // --overwrite --reviewers without a URL keeps the URL (the seed's example).
    const over = await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'prod-db', reviewers: ['dba-team'] } });
    expect(over.status).toBe(200);
    expect(over.body.connection.reviewers).toEqual(['dba-team']);
  });

  it('takes back every field it shows, without the URL, and keeps the URL (the web form\'s save)', async () => {
    await t.api('POST', '/api/connections', { body: { name: 'resent', url: target.url, reviewers: [], maskDetectors: ['email'] } });
    const shown = (await t.api('GET', '/api/connections')).body.connections.find((c: any) => c.name === 'resent');
    const { type: _type, teamsWebhookUrlSet: _set, createdAt: _c, updatedAt: _u, ...fields } = shown;
    const saved = await t.api('POST', '/api/connections?overwrite=true', { body: { ...fields, reviewers: ['dba-team'], reviewMode: 'writes' } });
    expect(saved.status).toBe(200);
    expect(saved.body.connection).toMatchObject({ reviewers: ['dba-team'], guardrails: shown.guardrails, maskDetectors: ['email'] });
    // The URL was kept: a read still runs on the database at once.
    const read = await exec('resent', 'SELECT 41 + 1 AS answer');
    expect(read.body.status).toBe('EXECUTED');
    expect(read.body.output).toContain('42');
  });

  it('rejects a non-postgres URL and a new connection without URL', async () => {
    expect((await t.api('POST', '/api/connections', { body: { name: 'my', url: 'redis://localhost:6379' } })).body.error.message).toContain('not supported');
    expect((await t.api('POST', '/api/connections', { body: { name: 'nourl', reviewers: [] } })).body.error.message).toContain('needs a "url"');
    expect((await t.api('POST', '/api/connections', { key: alice.apiKey, body: { name: 'z', url: target.url } })).status).toBe(403);
  });
});

describe('exec', () => {
  it('holds a command as a PENDING review when the connection has reviewers', async () => {
    const res = await exec('prod-db', "UPDATE users SET status = 'held' WHERE id = 1");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'PENDING', connection: 'prod-db', requester: 'alice@example.com', reason: 'test', approvals: { approved: 0, total: 1 } });
    expect(new Date(res.body.expiresAt).getTime() - new Date(res.body.createdAt).getTime()).toBe(3600_000);
    expect(await target.query('SELECT status FROM users WHERE id = 1')).toEqual([{ status: 'active' }]);
  });

  it('runs at once and returns the result when the connection has no reviewers', async () => {
    const res = await exec('sandbox', "SELECT id, email FROM users WHERE id <= 2 ORDER BY id; UPDATE users SET status = status WHERE id = 3");
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('EXECUTED');
    expect(res.body.commandTags).toEqual(['SELECT 2', 'UPDATE 1']);
    expect(res.body.rowsAffected).toBe(1);
    expect(res.body.output).toBe([' id |      email', '----+-----------------', '  1 | ann@example.com', '  2 | bob@example.com', '(2 rows)', '', 'UPDATE 1'].join('\n'));
  });

  it('reports a failing command as FAILED with PostgreSQL\'s error', async () => {
    const res = await exec('sandbox', 'SELECT * FROM no_such_table');
    expect(res.body.status).toBe('FAILED');
    expect(res.body.error).toBe('relation "no_such_table" does not exist');
    expect(res.body.output).toContain('ERROR:  relation "no_such_table" does not exist');
  });

  it('refuses an unknown connection (404) and empty input (400) with a next step, creating nothing', async () => {
    const before = await t.gateway.db.review.count();
    const unknown = await exec('nope', 'SELECT 1');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('hoop admin get connections');
    const empty = await exec('prod-db', '   ');
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toContain('empty');
    const missing = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { reason: 'x' } });
    expect(missing.status).toBe(400);
    expect(await t.gateway.db.review.count()).toBe(before);
  });
});

describe('approve and reject through the API', () => {
  it('approves with the same rules as the buttons and returns the executed review to a waiting caller', async () => {
    const r = (await exec('prod-db', "UPDATE users SET status = 'api' WHERE id = 2")).body;
    const waiting = t.api('GET', `/api/reviews/${r.id}?wait=20`, { key: alice.apiKey });
    const self = await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: alice.apiKey });
    expect(self.status).toBe(403);
    // Someone who may not see the request (not theirs, not their group's) gets the answer of an unknown id.
    const notMember = await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: sam.apiKey });
    expect(notMember.status).toBe(404);
    expect(notMember.body.error.message).toBe((await t.api('GET', `/api/reviews/${r.id}`, { key: sam.apiKey })).body.error.message);
    const ok = await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: dana.apiKey });
    expect(ok.status).toBe(200);
    const waited = await waiting;
    expect(waited.status).toBe(200);
    expect(waited.body.status).toBe('EXECUTED');
    expect(waited.body.commandTags).toEqual(['UPDATE 1']);
    const again = await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: bo.apiKey });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain('already executed');
  });

  it('approves only the group named in the body, and a second group needs a second person', async () => {
    const one = (await exec('dual', 'SELECT 1')).body;
    const named = await t.api('PUT', `/api/reviews/${one.id}/approve`, { key: bo.apiKey, body: { group: 'security' } });
    expect(named.body.status).toBe('PENDING');
    expect(named.body.groups.map((g: any) => g.status)).toEqual(['PENDING', 'APPROVED']);
    const wrong = await t.api('PUT', `/api/reviews/${one.id}/approve`, { key: bo.apiKey, body: { group: 'nobody' } });
    expect(wrong.status).toBe(400);

    const two = (await exec('dual', 'SELECT 2')).body;
    const unnamed = await t.api('PUT', `/api/reviews/${two.id}/approve`, { key: bo.apiKey });
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.error.message).toContain('several groups');
    await t.api('PUT', `/api/reviews/${two.id}/approve`, { key: bo.apiKey, body: { group: 'dba-team' } });
    const all = await t.api('PUT', `/api/reviews/${two.id}/approve`, { key: sam.apiKey });
    expect(all.body.groups.map((g: any) => g.status)).toEqual(['APPROVED', 'APPROVED']);
    const done = await eventually(async () => {
      const v = (await t.api('GET', `/api/reviews/${two.id}`)).body;
      return v.status === 'EXECUTED' && v;
    });
    expect(done.output).toContain('(1 row)');
  });

  it('rejects with a reason; any group can reject; the command never runs', async () => {
    const r = (await exec('dual', "UPDATE users SET status = 'never' WHERE id = 3")).body;
    await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: dana.apiKey });
    const rej = await t.api('PUT', `/api/reviews/${r.id}/reject`, { key: sam.apiKey, body: { reason: 'not during freeze' } });
    expect(rej.status).toBe(200);
    expect(rej.body).toMatchObject({ status: 'REJECTED', rejectReason: 'not during freeze' });
    expect(rej.body.groups.find((g: any) => g.group === 'security')).toMatchObject({ status: 'REJECTED', reviewer: 'sam@example.com' });
    const late = await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: sam.apiKey });
    expect(late.status).toBe(409);
    expect(await target.query('SELECT status FROM users WHERE id = 3')).toEqual([{ status: 'active' }]);
    const waited = await t.api('GET', `/api/reviews/${r.id}?wait=5`, { key: alice.apiKey });
    expect(waited.body.status).toBe('REJECTED');
  });

  it('answers 404 for an unknown or malformed review id', async () => {
    expect((await t.api('PUT', '/api/reviews/00000000-0000-0000-0000-000000000000/approve', { key: dana.apiKey })).status).toBe(404);
    expect((await t.api('GET', '/api/reviews/not-a-uuid')).status).toBe(404);
  });
});

describe('listing and visibility', () => {
  it('filters by status and shows a user only their own requests and those their groups review', async () => {
    const pending = await t.api('GET', '/api/reviews?status=pending');
    expect(pending.status).toBe(200);
    expect(pending.body.reviews.length).toBeGreaterThan(0);
    expect(pending.body.reviews.every((r: any) => r.status === 'PENDING')).toBe(true);
    expect((await t.api('GET', '/api/reviews?status=bogus')).status).toBe(400);

    const outsider = await t.createUser('outsider@example.com', ['marketing']);
    const mine = await t.api('GET', '/api/reviews', { key: outsider.apiKey });
    expect(mine.body.reviews).toEqual([]);
    const someone = pending.body.reviews[0];
    expect((await t.api('GET', `/api/reviews/${someone.id}`, { key: outsider.apiKey })).status).toBe(404);
  });

  it('records an audit trail of every step with IP and user agent', async () => {
    const r = (await exec('prod-db', 'SELECT 42')).body;
    await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: dana.apiKey, headers: { 'user-agent': 'audit-test/1.0' } });
    await eventually(async () => (await t.api('GET', `/api/reviews/${r.id}`)).body.status === 'EXECUTED');
    const events = await t.gateway.db.auditEvent.findMany({ where: { reviewId: r.id }, orderBy: { id: 'asc' } });
    expect(events.map((e) => e.action)).toEqual(['review.created', 'review.approved', 'review.execution_started', 'review.executed']);
    const approved = events[1];
    expect(approved).toMatchObject({ actor: 'dana@example.com', source: 'api', userAgent: 'audit-test/1.0' });
    expect(approved.ip).toMatch(/127\.0\.0\.1/);
    const trail = await t.api('GET', `/api/reviews/${r.id}/events`, { key: alice.apiKey });
    expect(trail.body.events.map((e: any) => [e.action, e.actor, e.source])).toEqual([
      ['review.created', 'alice@example.com', 'api'],
      ['review.approved', 'dana@example.com', 'api'],
      ['review.execution_started', 'system', 'system'],
      ['review.executed', 'system', 'system'],
    ]);
    const outsiderKey = (await t.createUser('nosy@example.com', ['marketing'])).apiKey;
    expect((await t.api('GET', `/api/reviews/${r.id}/events`, { key: outsiderKey })).status).toBe(404);
    // Append-only: the database itself refuses changes to the trail.
    await expect(t.gateway.db.auditEvent.update({ where: { id: approved.id }, data: { actor: 'mallory' } })).rejects.toThrow(/append-only/);
    await expect(t.gateway.db.auditEvent.deleteMany({ where: { reviewId: r.id } })).rejects.toThrow(/append-only/);
  });
});

describe('long-poll across processes', () => {
  it('wakes a waiter on one gateway when a decision is made on another', async () => {
    const other = await startTestGateway({ slack: false, databaseUrl: t.databaseUrl, prefix: t.prefix });
    try {
      const r = (await exec('prod-db', 'SELECT 7')).body;
      const waiting = t.api('GET', `/api/reviews/${r.id}?wait=30`, { key: alice.apiKey });
      await new Promise((res) => setTimeout(res, 300));
      const ok = await other.api('PUT', `/api/reviews/${r.id}/approve`, { key: dana.apiKey });
      expect(ok.status).toBe(200);
      const approvedAt = Date.now();
      const waited = await waiting;
      expect(waited.body.status).toBe('EXECUTED');
      // Woken by the other process's event, well before the 2 s fallback re-read.
      expect(Date.now() - approvedAt).toBeLessThan(1800);
    } finally {
      await other.stop();
    }
  });

  it('returns the still-pending review when the wait ends first', async () => {
    const r = (await exec('prod-db', 'SELECT 8')).body;
    const res = await t.api('GET', `/api/reviews/${r.id}?wait=1`, { key: ADMIN_KEY });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('PENDING');
    expect((await t.api('GET', `/api/reviews/${r.id}?wait=abc`)).status).toBe(400);
  });
});
