// Users and API keys after creation, through the real API: key lifecycle, user updates,
// deactivation (API, Slack buttons, Slack DMs), the last-admin lockout, and emails in any case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockAction, slashCommand } from '../fakes/slack-requests.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };

const KEY_FIELDS = ['bootstrap', 'createdAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'user'];

async function subscribe(slackId: string, email: string) {
  t.slack.users.set(slackId, { email });
  const res = await t.slackPost(slashCommand(slackId, 'subscribe'));
  expect(res.status).toBe(200);
  return res.body;
}

const me = (key: string) => t.api('GET', '/api/me', { key });
const audits = (action: string) => t.gateway.db.auditEvent.findMany({ where: { action }, orderBy: { id: 'asc' } });

beforeAll(async () => {
  t = await startTestGateway();
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('API keys', () => {
  it('lists a user\'s keys by id or by email in any case, never with the hash or the key', async () => {
    const u = await t.createUser('lister@example.com', ['developers']);
    for (const ref of [u.id, 'lister@example.com', 'Lister@Example.COM', encodeURIComponent(' LISTER@example.com ')]) {
      const res = await t.api('GET', `/api/users/${ref}/keys`);
      expect(res.status, ref).toBe(200);
      expect(res.body.keys).toHaveLength(1);
      expect(Object.keys(res.body.keys[0]).sort()).toEqual(KEY_FIELDS);
      expect(res.body.keys[0]).toMatchObject({ user: 'lister@example.com', prefix: u.apiKey.slice(0, 9), revokedAt: null, bootstrap: false });
      expect(JSON.stringify(res.body)).not.toContain(u.apiKey.slice(9));
    }
    const stored = await t.gateway.db.apiKey.findFirstOrThrow({ where: { userId: u.id } });
    expect(JSON.stringify((await t.api('GET', `/api/users/${u.id}/keys`)).body)).not.toContain(stored.hash);
    expect((await t.api('GET', '/api/users/nobody@example.com/keys')).status).toBe(404);
  });

  it('creates a named key that is shown once, works at once and is audited', async () => {
    const u = await t.createUser('maker@example.com', ['developers']);
    const res = await t.api('POST', '/api/users/MAKER@example.com/keys', { body: { name: ' laptop ' } });
    expect(res.status).toBe(201);
    expect(res.body.apiKey).toMatch(/^hoop_/);
    expect(res.body.key).toMatchObject({ user: 'maker@example.com', name: 'laptop', prefix: res.body.apiKey.slice(0, 9), revokedAt: null });
    expect((await me(res.body.apiKey)).body.user.email).toBe('maker@example.com');
    const unnamed = await t.api('POST', `/api/users/${u.id}/keys`);
    expect(unnamed.status).toBe(201);
    expect(unnamed.body.key.name).toBeNull();
    const listed = (await t.api('GET', `/api/users/${u.id}/keys`)).body.keys;
    expect(listed).toHaveLength(3);
    expect(JSON.stringify(listed)).not.toContain(res.body.apiKey);
    const created = (await audits('api_key.created')).filter((e: any) => e.detail.user === 'maker@example.com');
    expect(created.map((e: any) => [e.actor, e.detail.name])).toEqual([['root@example.com', 'laptop'], ['root@example.com', null]]);
  });

  it('refuses bad key input with a sentence and creates nothing', async () => {
    const before = await t.gateway.db.apiKey.count();
    const cases: [unknown, string][] = [
      [{ name: 5 }, '"name" must be a string'],
      [{ name: 'x'.repeat(201) }, '"name" is longer than 200 characters'],
      [{ label: 'ci' }, 'does not take "label". It accepts: name.'],
      [['ci'], 'must be a JSON object'],
    ];
    for (const [body, message] of cases) {
      const res = await t.api('POST', '/api/users/alice@example.com/keys', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.message).toContain(message);
    }
    expect(await t.gateway.db.apiKey.count()).toBe(before);
  });

  it('revokes a key: the next request with it gets 401, the user\'s other keys keep working, and it is audited once', async () => {
    const u = await t.createUser('revokee@example.com', ['developers']);
    const second = (await t.api('POST', `/api/users/${u.id}/keys`, { body: { name: 'ci' } })).body;
    expect((await me(second.apiKey)).status).toBe(200);
    const res = await t.api('DELETE', `/api/keys/${second.key.id}`);
    expect(res.status).toBe(200);
    expect(res.body.key).toMatchObject({ id: second.key.id, name: 'ci' });
    expect(res.body.key.revokedAt).not.toBeNull();
    const refused = await me(second.apiKey);
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toContain('revoked');
    expect((await me(u.apiKey)).status).toBe(200);
    const again = await t.api('DELETE', `/api/keys/${second.key.id}`);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain('already revoked');
    expect((await audits('api_key.revoked')).filter((e: any) => e.detail.keyId === second.key.id)).toHaveLength(1);
    expect((await t.api('GET', `/api/users/${u.id}/keys`)).body.keys.find((k: any) => k.id === second.key.id).revokedAt).toBe(res.body.key.revokedAt);
    for (const id of ['00000000-0000-0000-0000-000000000000', 'not-a-key-id']) {
      expect((await t.api('DELETE', `/api/keys/${id}`)).status).toBe(404);
    }
  });

  it('lets a user list, create and revoke their own keys, and nobody else\'s', async () => {
    const own = await t.createUser('self@example.com', ['developers']);
    const mine = await t.api('GET', '/api/me/keys', { key: own.apiKey });
    expect(mine.status).toBe(200);
    expect(mine.body.keys.map((k: any) => k.user)).toEqual(['self@example.com']);
    for (const ref of [own.id, 'SELF@example.com']) {
      expect((await t.api('GET', `/api/users/${ref}/keys`, { key: own.apiKey })).status).toBe(200);
    }
    const extra = await t.api('POST', '/api/users/Self@Example.com/keys', { key: own.apiKey, body: { name: 'script' } });
    expect(extra.status).toBe(201);
    // Someone else, or someone who may not exist: the same 403, so emails cannot be probed.
    for (const ref of ['alice@example.com', alice.id, 'ghost@example.com']) {
      const res = await t.api('GET', `/api/users/${ref}/keys`, { key: own.apiKey });
      expect(res.status, ref).toBe(403);
      expect(res.body.error.message).toContain('your own API keys');
      expect((await t.api('POST', `/api/users/${ref}/keys`, { key: own.apiKey, body: {} })).status).toBe(403);
    }
    const aliceKeyId = (await t.api('GET', `/api/users/${alice.id}/keys`)).body.keys[0].id;
    expect((await t.api('DELETE', `/api/keys/${aliceKeyId}`, { key: own.apiKey })).status).toBe(404);
    expect((await me(alice.apiKey)).status).toBe(200);
    expect((await t.api('DELETE', `/api/keys/${extra.body.key.id}`, { key: own.apiKey })).status).toBe(200);
    expect((await me(extra.body.apiKey)).status).toBe(401);
    const audit = (await audits('api_key.revoked')).find((e: any) => e.detail.keyId === extra.body.key.id)!;
    expect(audit).toMatchObject({ actor: 'self@example.com', source: 'api' });
  });

  it('records lastUsedAt on authentication, but at most once a minute per key', async () => {
    const u = await t.createUser('counted@example.com', []);
    const key = () => t.gateway.db.apiKey.findFirstOrThrow({ where: { userId: u.id } });
    expect((await key()).lastUsedAt).toBeNull();
    await me(u.apiKey);
    const first = (await key()).lastUsedAt;
    expect(first).not.toBeNull();
    for (let i = 0; i < 5; i++) await me(u.apiKey);
    await Promise.all([me(u.apiKey), me(u.apiKey), me(u.apiKey)]);
    expect((await key()).lastUsedAt).toEqual(first);
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await t.gateway.db.apiKey.updateMany({ where: { userId: u.id }, data: { lastUsedAt: twoMinutesAgo } });
    await me(u.apiKey);
    const later = (await key()).lastUsedAt!;
    expect(later.getTime()).toBeGreaterThan(twoMinutesAgo.getTime() + 60_000);
    expect((await t.api('GET', `/api/users/${u.id}/keys`)).body.keys[0].lastUsedAt).toBe(later.toISOString());
  });
});

describe('updating users', () => {
  it('changes groups, admin and name, shows them in GET /api/users and audits before and after', async () => {
    const u = await t.createUser('mover@example.com', ['developers']);
    const res = await t.api('PATCH', '/api/users/MOVER@Example.com', { body: { groups: ['dba-team', ' security ', 'dba-team'], name: 'Mo', admin: true } });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ email: 'mover@example.com', groups: ['dba-team', 'security'], name: 'Mo', admin: true, active: true, bootstrap: false });
    const listed = (await t.api('GET', '/api/users')).body.users.find((x: any) => x.email === 'mover@example.com');
    expect(listed).toMatchObject({ groups: ['dba-team', 'security'], admin: true, active: true, deactivatedAt: null });
    const event = (await audits('user.updated')).filter((e: any) => e.detail.userId === u.id).at(-1)!;
    expect(event.detail).toMatchObject({
      email: 'mover@example.com',
      before: { groups: ['developers'], name: null, admin: false },
      after: { groups: ['dba-team', 'security'], name: 'Mo', admin: true },
    });
    expect(event.detail).not.toHaveProperty('before.active');
    // The change holds at once: the new admin can create users with the key they already had.
    expect((await t.api('POST', '/api/users', { key: u.apiKey, body: { email: 'made-by-mover@example.com' } })).status).toBe(201);
    const back = await t.api('PATCH', `/api/users/${u.id}`, { body: { admin: false, groups: [], name: null } });
    expect(back.body.user).toMatchObject({ admin: false, groups: [], name: null });
    expect((await t.api('POST', '/api/users', { key: u.apiKey, body: { email: 'refused@example.com' } })).status).toBe(403);
  });

  it('refuses bad fields with a 400 that names them, and changes nothing', async () => {
    const u = await t.createUser('steady@example.com', ['developers']);
    const cases: [unknown, string][] = [
      [{ groups: 'dba-team' }, '"groups" must be a list'],
      [{ groups: ['has space'] }, 'not a valid group name'],
      [{ admin: 'yes' }, '"admin" must be true or false'],
      [{ active: 0 }, '"active" must be true or false'],
      [{ name: 42 }, '"name" must be a string'],
      [{ email: 'new@example.com' }, 'does not take "email". It accepts: groups, admin, active, name.'],
      [{ groups: [], isAdmin: true }, 'does not take "isAdmin"'],
      [{}, 'Nothing to change'],
      [['active', false], 'must be a JSON object'],
    ];
    for (const [body, message] of cases) {
      const res = await t.api('PATCH', `/api/users/${u.id}`, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.message).toContain(message);
    }
    const none = await t.api('PATCH', `/api/users/${u.id}`);
    expect(none.status).toBe(400);
    const stored = await t.gateway.db.user.findUniqueOrThrow({ where: { id: u.id } });
    expect(stored).toMatchObject({ groups: ['developers'], isAdmin: false, active: true, name: null });
    expect((await audits('user.updated')).filter((e: any) => e.detail.userId === u.id)).toEqual([]);
  });

  it('lets only admins update users, and answers 404 for an unknown user', async () => {
    const res = await t.api('PATCH', `/api/users/${alice.id}`, { key: alice.apiKey, body: { admin: true } });
    expect(res.status).toBe(403);
    expect((await t.gateway.db.user.findUniqueOrThrow({ where: { id: alice.id } })).isAdmin).toBe(false);
    for (const ref of ['ghost@example.com', '00000000-0000-0000-0000-000000000000']) {
      const missing = await t.api('PATCH', `/api/users/${ref}`, { body: { active: false } });
      expect(missing.status).toBe(404);
      expect(missing.body.error.message).toContain('hoop admin get users');
    }
  });
});

describe('a deactivated user', () => {
  it('cannot authenticate with any of their keys, is told why, and is back once reactivated', async () => {
    const u = await t.createUser('leaver@example.com', ['developers']);
    const second = (await t.api('POST', `/api/users/${u.id}/keys`, { body: { name: 'ci' } })).body.apiKey;
    const off = await t.api('PATCH', '/api/users/Leaver@Example.com', { body: { active: false } });
    expect(off.status).toBe(200);
    expect(off.body.user.active).toBe(false);
    expect(off.body.user.deactivatedAt).not.toBeNull();
    for (const key of [u.apiKey, second]) {
      for (const [method, path] of [['GET', '/api/me'], ['GET', '/api/connections'], ['GET', '/api/me/keys']]) {
        const res = await t.api(method, path, { key });
        expect(res.status).toBe(401);
        expect(res.body.error.message).toContain('leaver@example.com is deactivated');
      }
    }
    const submit = await t.api('POST', '/api/connections/prod-db/exec', { key: u.apiKey, body: { input: 'SELECT 1' } });
    expect(submit.status).toBe(401);
    expect((await t.api('GET', '/api/users')).body.users.find((x: any) => x.email === 'leaver@example.com')).toMatchObject({ active: false });
    expect((await t.api('PATCH', `/api/users/${u.id}`, { body: { active: true } })).body.user).toMatchObject({ active: true, deactivatedAt: null });
    expect((await me(u.apiKey)).status).toBe(200);
    expect((await me(second)).status).toBe(200);
    const events = (await audits('user.updated')).filter((e: any) => e.detail.userId === u.id);
    expect(events.map((e: any) => [e.detail.before.active, e.detail.after.active])).toEqual([[true, false], [false, true]]);
  });

  it('cannot decide in Slack and gets no new review DMs', async () => {
    const rita = await t.createUser('rita@example.com', ['dba-team']);
    await subscribe('URITA', 'rita@example.com');
    await t.api('PATCH', `/api/users/${rita.id}`, { body: { active: false } });
    const r = (await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: 'SELECT 11 AS deactivated' } })).body;
    const posted = (calls: any[]) => calls.filter((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.blocks ?? '').includes(r.id));
    await t.slack.waitFor((calls) => posted(calls).length >= 1);
    const before = t.slack.callsOf('chat.postEphemeral').length;
    await t.slackPost(blockAction('URITA', 'review.approve', JSON.stringify({ reviewId: r.id, group: 'dba-team' })));
    const eph = await t.slack.waitFor((calls) => calls.filter((c) => c.method === 'chat.postEphemeral').length > before);
    const told = eph.filter((c) => c.method === 'chat.postEphemeral').at(-1)!;
    expect(told.args.user).toBe('URITA');
    expect(told.args.text).toContain('deactivated');
    expect((await t.api('GET', `/api/reviews/${r.id}`)).body.status).toBe('PENDING');
    expect(posted(t.slack.callsOf('chat.postMessage')).map((c) => c.args.channel)).not.toContain('URITA');

    await t.api('PATCH', `/api/users/${rita.id}`, { body: { active: true } });
    const next = (await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: 'SELECT 12 AS reactivated' } })).body;
    await t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && c.args.channel === 'URITA' && JSON.stringify(c.args.blocks ?? '').includes(next.id)));
    await t.slackPost(blockAction('URITA', 'review.approve', JSON.stringify({ reviewId: next.id, group: 'dba-team' })));
    await eventually(async () => (await t.api('GET', `/api/reviews/${next.id}`)).body.status === 'EXECUTED');
  });
});

describe('the last active admin', () => {
  it('cannot be deactivated or demoted, and of two admins demoting each other at once one stays', async () => {
    // root@example.com is the bootstrap admin (ADMIN_EMAIL): demoting them is refused on its own.
    const rootDemote = await t.api('PATCH', '/api/users/root@example.com', { body: { admin: false } });
    expect(rootDemote.status).toBe(409);
    expect(rootDemote.body.error.message).toContain('ADMIN_EMAIL');
    const a = await t.createUser('admin-a@example.com', [], true);
    const b = await t.createUser('admin-b@example.com', [], true);
    // Everyone else who is admin steps down, so a and b are the last two (root is deactivated by a).
    for (const u of (await t.api('GET', '/api/users')).body.users) {
      if (u.admin && !u.bootstrap && ![a.id, b.id].includes(u.id)) await t.api('PATCH', `/api/users/${u.id}`, { body: { admin: false } });
    }
    expect((await t.api('PATCH', '/api/users/root@example.com', { key: a.apiKey, body: { active: false } })).status).toBe(200);
    const both = await Promise.all([
      t.api('PATCH', `/api/users/${b.id}`, { key: a.apiKey, body: { admin: false } }),
      t.api('PATCH', `/api/users/${a.id}`, { key: b.apiKey, body: { admin: false } }),
    ]);
    expect(both.map((r) => r.status).filter((s) => s === 200)).toHaveLength(1);
    const loser = both.find((r) => r.status !== 200)!;
    expect([403, 409]).toContain(loser.status);
    const left = await t.gateway.db.user.findMany({ where: { isAdmin: true, active: true } });
    expect(left).toHaveLength(1);
    const last = left[0].id === a.id ? a : b;
    for (const body of [{ admin: false }, { active: false }, { admin: false, active: false }]) {
      const res = await t.api('PATCH', `/api/users/${last.id}`, { key: last.apiKey, body });
      expect(res.status, JSON.stringify(body)).toBe(409);
      expect(res.body.error.message).toContain('last active admin');
      expect(res.body.error.message).toContain('--admin');
    }
    expect((await t.api('PATCH', '/api/users/root@example.com', { key: last.apiKey, body: { active: true } })).status).toBe(200);
    expect((await me(last.apiKey)).body.user.admin).toBe(true);
  });
});

describe('emails compare case-insensitively', () => {
  it('treats Boss@Corp.COM and boss@corp.com as one person everywhere', async () => {
    const created = await t.api('POST', '/api/users', { body: { email: ' Boss@Corp.COM ', groups: ['dba-team'] } });
    expect(created.status).toBe(201);
    expect(created.body.user.email).toBe('boss@corp.com');
    for (const email of ['boss@corp.com', 'BOSS@CORP.COM', 'bOsS@cOrP.cOm']) {
      const dup = await t.api('POST', '/api/users', { body: { email } });
      expect(dup.status, email).toBe(409);
      expect((await t.api('GET', `/api/users/${encodeURIComponent(email)}/keys`)).body.keys[0].user).toBe('boss@corp.com');
    }
    expect((await t.api('PATCH', '/api/users/BOSS@corp.com', { body: { name: 'The Boss' } })).body.user.email).toBe('boss@corp.com');
    expect((await t.api('POST', '/api/users/Boss@Corp.Com/keys', { key: created.body.apiKey, body: { name: 'own' } })).status).toBe(201);
    // Slack shares the profile email in whatever case the person typed it.
    const linked = await subscribe('UBOSS', ' BOSS@Corp.com');
    expect(linked.text).toContain('boss@corp.com');
    const users = (await t.api('GET', '/api/users')).body.users.filter((u: any) => u.email.toLowerCase() === 'boss@corp.com');
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({ slackUserId: 'UBOSS', name: 'The Boss' });
    // The database refuses a mixed-case email however it is written.
    await expect(t.gateway.db.user.create({ data: { email: 'Mixed@Example.com', groups: [] } })).rejects.toThrow(/User_email_lower_case|check constraint/i);
  });
});
