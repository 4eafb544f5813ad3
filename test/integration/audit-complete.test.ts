// Issue 12, "complete": every route that changes something writes its audit events — who, through
// what (source), and a detail with what the issue names (before/after with secrets redacted, rows
// and the output's sha256, refused votes). The routes come from the gateway itself, so a new route
// without a case here fails the first test instead of going unaudited unnoticed.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routesOf } from '../../src/gateway/route-list.js';
import { blockAction, rejectSubmission, slashCommand } from '../fakes/slack-requests.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const UA = 'audit-complete-test/1.0';
const CLI_UA = 'hoop-cli/0.1.0';
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

interface Event {
  id: bigint;
  action: string;
  actor: string;
  actorId: string | null;
  source: string;
  reviewId: string | null;
  userAgent: string | null;
  detail: any;
}

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string }; // requester, developers
let ada: { id: string; apiKey: string }; // an admin who reviews for dba
let bob: { id: string; apiKey: string }; // developers, reviews nothing
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

const api = (method: string, path: string, options: { key?: string; body?: unknown; ua?: string; headers?: Record<string, string> } = {}) =>
  t.api(method, path, { key: options.key, body: options.body, headers: { 'user-agent': options.ua ?? UA, ...options.headers } });

async function lastId(): Promise<bigint> {
  const last = await t.gateway.db.auditEvent.findFirst({ orderBy: { id: 'desc' }, select: { id: true } });
  return last?.id ?? 0n;
}

/** Events written after `since`, oldest first. */
async function eventsAfter(since: bigint): Promise<Event[]> {
  return (await t.gateway.db.auditEvent.findMany({ where: { id: { gt: since } }, orderBy: { id: 'asc' } })) as unknown as Event[];
}

/**
 * The events `call` causes, people's only (the gateway's own follow-ups, such as an approved
 * request's execution, are `system` and asserted where they matter). `settle`: wait until the
 * events satisfy it (Slack answers before its listener has written).
 */
async function during(call: () => Promise<unknown>, settle?: (events: Event[]) => boolean): Promise<Event[]> {
  const since = await lastId();
  await call();
  const people = async () => (await eventsAfter(since)).filter((e) => e.source !== 'system');
  if (settle) await eventually(async () => settle(await people()), 10_000, 'the audit events of a Slack request');
  return people();
}

const actions = (events: Event[]) => events.map((e) => e.action);
/** Everything the events hold, as text (to look for secrets that must not be there). */
const text = (events: Event[]) => JSON.stringify(events, (_k, v) => (typeof v === 'bigint' ? String(v) : v));

async function submit(input: string, key = alice.apiKey): Promise<any> {
  const res = await api('POST', '/api/connections/prod/exec', { key, body: { input, reason: 'OPS-12' } });
  expect(res.status).toBe(201);
  return res.body;
}

// Shared between the cases, which run in order.
const state: { webhookId?: string; keyId?: string; grantId?: string; correctionId?: string; web?: { cookie: string; csrf: string } } = {};

async function webSignIn(apiKey: string): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${t.baseUrl}/auth/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': UA }, body: JSON.stringify({ apiKey }) });
  const body = await res.json();
  expect(res.status).toBe(201);
  return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: body.csrfToken };
}

const webHeaders = (s: { cookie: string; csrf: string }) => ({ cookie: s.cookie, 'x-csrf-token': s.csrf, origin: t.baseUrl, 'sec-fetch-site': 'same-origin', 'user-agent': UA });

/** Each mutating route, and what calling it must write. */
const CASES: Record<string, () => Promise<void>> = {
  'POST /api/users': async () => {
    let res: any;
    const events = await during(async () => (res = await api('POST', '/api/users', { body: { email: 'newbie@example.com', groups: ['developers'] } })));
    expect(res.status).toBe(201);
    expect(actions(events)).toEqual(['user.created']);
    expect(events[0]).toMatchObject({ actor: 'root@example.com', source: 'api', userAgent: UA, detail: { email: 'newbie@example.com', groups: ['developers'], admin: false } });
    expect(events[0]!.actorId).toBeTruthy();
    expect(text(events)).not.toContain(res.body.apiKey);
  },

  'POST /api/agents': async () => {
    let res: any;
    const events = await during(async () => (res = await api('POST', '/api/agents', { body: { name: 'audit-bot', owner: 'newbie@example.com', groups: ['developers'] } })));
    expect(res.status).toBe(201);
    expect(actions(events)).toEqual(['agent.created']);
    expect(events[0]).toMatchObject({ actor: 'root@example.com', source: 'api', userAgent: UA, detail: { name: 'audit-bot', before: null, after: { name: 'audit-bot', owner: 'newbie@example.com', groups: ['developers'], admin: false } } });
    expect(text(events)).not.toContain(res.body.apiKey);
  },

  'PATCH /api/users/:user': async () => {
    const events = await during(async () => expect((await api('PATCH', '/api/users/newbie@example.com', { body: { groups: ['developers', 'dba'], name: 'New B' } })).status).toBe(200));
    expect(actions(events)).toEqual(['user.updated']);
    expect(events[0]!.detail).toMatchObject({ email: 'newbie@example.com', before: { groups: ['developers'], name: null }, after: { groups: ['developers', 'dba'], name: 'New B' } });
  },

  'POST /api/users/:user/keys': async () => {
    let res: any;
    const events = await during(async () => (res = await api('POST', '/api/users/newbie@example.com/keys', { body: { name: 'ci' } })));
    expect(res.status).toBe(201);
    state.keyId = res.body.key.id;
    expect(actions(events)).toEqual(['api_key.created']);
    expect(events[0]!.detail).toMatchObject({ keyId: state.keyId, user: 'newbie@example.com', name: 'ci', after: { user: 'newbie@example.com', name: 'ci', revokedAt: null } });
    expect(text(events)).not.toContain(res.body.apiKey);
  },

  'DELETE /api/keys/:id': async () => {
    // Through the CLI: the source says so; the actor is still the key's user, whatever the User-Agent claims.
    const events = await during(async () => expect((await api('DELETE', `/api/keys/${state.keyId}`, { ua: CLI_UA })).status).toBe(200));
    expect(actions(events)).toEqual(['api_key.revoked']);
    expect(events[0]).toMatchObject({ actor: 'root@example.com', source: 'cli', userAgent: CLI_UA, detail: { keyId: state.keyId, before: { revokedAt: null } } });
    expect(Date.parse(events[0]!.detail.after.revokedAt)).toBeGreaterThan(0);
  },

  'POST /api/connections': async () => {
    const url = 'postgres://app:s3cret-old@db.invalid:5432/shop?sslmode=require&sslpassword=k3y-old';
    const created = await during(async () => expect((await api('POST', '/api/connections', { body: { name: 'config-db', url, reviewers: ['dba'], plugins: ['webhooks'] } })).status).toBe(201));
    expect(actions(created)).toEqual(['connection.created']);
    expect(created[0]!.detail).toMatchObject({ name: 'config-db', after: { url: 'postgres://app:***@db.invalid:5432/shop?sslmode=require&sslpassword=***', reviewers: ['dba'], plugins: ['webhooks'], reviewMode: 'writes', teamsWebhookUrl: null } });

    const body = {
      name: 'config-db',
      url: 'postgres://app:s3cret-new@db.invalid:5432/shop?sslmode=require&sslpassword=k3y-old',
      plugins: ['slack', 'webhooks'],
      maskColumns: ['email'],
      allowedGroups: ['dba', 'developers'],
      allowFunctions: ['my_report'],
      teamsWebhookUrl: 'https://example.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=SIGSECRET',
    };
    const updated = await during(async () => expect((await api('POST', '/api/connections?overwrite=true', { body })).status).toBe(200));
    expect(actions(updated)).toEqual(['connection.updated']);
    const d = updated[0]!.detail;
    expect(Object.keys(d.before).sort()).toEqual(['allowFunctions', 'allowedGroups', 'maskColumns', 'plugins', 'teamsWebhookUrl', 'url']);
    expect(d.before).toMatchObject({ plugins: ['webhooks'], maskColumns: [], allowedGroups: [], allowFunctions: [], teamsWebhookUrl: null, url: 'postgres://app:***@db.invalid:5432/shop?sslmode=require&sslpassword=***' });
    expect(d.after).toMatchObject({
      plugins: ['slack', 'webhooks'],
      maskColumns: ['email'],
      allowedGroups: ['dba', 'developers'],
      allowFunctions: ['my_report'],
      teamsWebhookUrl: expect.stringMatching(/^https:\/\/example\.logic\.azure\.com\/\*\*\* \(sha256 [0-9a-f]{8}\)$/),
    });
    for (const secret of ['s3cret', 'k3y-old', 'SIGSECRET']) expect(text([...created, ...updated])).not.toContain(secret);
  },

  'POST /api/connections/:name/exec': async () => {
    let review: any;
    const write = await during(async () => (review = await submit("UPDATE items SET label = 'changed' WHERE id = 1")));
    expect(actions(write)).toEqual(['review.created']);
    expect(write[0]).toMatchObject({ actor: 'alice@example.com', actorId: alice.id, source: 'api', reviewId: review.id, detail: { connection: 'prod', status: 'PENDING', groups: ['dba'], inputSha256: sha256("UPDATE items SET label = 'changed' WHERE id = 1") } });

    let read: any;
    const reads = await during(async () => (read = await submit('SELECT id, label FROM items ORDER BY id')));
    expect(actions(reads)).toEqual(['read.started', 'read.executed']);
    expect(reads[0]!.detail).toMatchObject({ connection: 'prod', input: 'SELECT id, label FROM items ORDER BY id', tables: ['items'] });
    expect(reads[1]!.detail).toMatchObject({ readId: read.id, outcome: 'executed', rows: 2, outputSha256: sha256(read.output) });

    const blocked = await during(async () => expect((await api('POST', '/api/connections/prod/exec', { key: alice.apiKey, body: { input: 'DROP TABLE items' } })).status).toBe(422));
    expect(actions(blocked)).toEqual(['review.blocked']);
    expect(blocked[0]).toMatchObject({ actor: 'alice@example.com', detail: { connection: 'prod', statement: 'DROP TABLE items' } });
  },

  'PUT /api/reviews/:id/approve': async () => {
    const r = await submit("UPDATE items SET label = 'approved' WHERE id = 2");
    // Every refusal is one review.vote_denied, by whoever tried.
    const refusals: Array<[string, { key: string; body?: unknown }, string]> = [
      ['alice@example.com', { key: alice.apiKey }, 'own request'],
      ['bob@example.com', { key: bob.apiKey }, 'not a reviewer'],
      ['ada@example.com', { key: ada.apiKey, body: { reason: 'x'.repeat(20_000) } }, 'reason too long'],
    ];
    for (const [actor, call, why] of refusals) {
      const events = await during(async () => expect((await api('PUT', `/api/reviews/${r.id}/approve`, { key: call.key, body: call.body ?? {} })).status, why).toBeGreaterThanOrEqual(400));
      expect(actions(events), why).toEqual(['review.vote_denied']);
      expect(events[0], why).toMatchObject({ actor, reviewId: r.id, detail: { action: 'approve' } });
      expect(typeof events[0]!.detail.code, why).toBe('string');
    }

    const since = await lastId();
    const approved = await during(async () => expect((await api('PUT', `/api/reviews/${r.id}/approve`, { key: ada.apiKey, body: { reason: 'looks right' } })).status).toBe(200));
    expect(actions(approved)).toEqual(['review.approved']);
    expect(approved[0]).toMatchObject({ actor: 'ada@example.com', source: 'api', reviewId: r.id, detail: { groups: ['dba'], reason: 'looks right', status: 'APPROVED' } });

    // The gateway runs it: start and finish, with rows and the sha256 of the output as stored.
    const run = await eventually(async () => {
      const e = (await eventsAfter(since)).filter((x) => x.source === 'system' && x.reviewId === r.id);
      return e.some((x) => x.action === 'review.executed') ? e : undefined;
    });
    expect(actions(run)).toEqual(['review.execution_started', 'review.executed']);
    const stored = await t.gateway.db.review.findUniqueOrThrow({ where: { id: r.id } });
    expect(stored.output).toBeTruthy();
    expect(run[1]!.detail).toMatchObject({ rowsAffected: 1, outputSha256: sha256(stored.output!), outputBytes: Buffer.byteLength(stored.output!) });

    const again = await during(async () => expect((await api('PUT', `/api/reviews/${r.id}/approve`, { key: ada.apiKey, body: {} })).status).toBeGreaterThanOrEqual(400));
    expect(actions(again)).toEqual(['review.vote_denied']);
  },

  'PUT /api/reviews/:id/reject': async () => {
    const r = await submit("UPDATE items SET label = 'rejected' WHERE id = 1");
    // From the web app: its session makes the source web.
    const s = await webSignIn(ada.apiKey);
    const events = await during(async () => {
      const res = await fetch(`${t.baseUrl}/api/reviews/${r.id}/reject`, { method: 'PUT', headers: { ...webHeaders(s), 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'not today' }) });
      expect(res.status).toBe(200);
    });
    expect(actions(events)).toEqual(['review.rejected']);
    expect(events[0]).toMatchObject({ actor: 'ada@example.com', source: 'web', reviewId: r.id, detail: { reason: 'not today', status: 'REJECTED' } });
  },

  'POST /api/reviews/:id/suggest': async () => {
    const r = await submit("UPDATE items SET label = 'suggested' WHERE id = 1");
    const refused = await during(async () => expect((await api('POST', `/api/reviews/${r.id}/suggest`, { key: bob.apiKey, body: { input: 'SELECT 1', comment: 'x' } })).status).toBe(404));
    expect(actions(refused)).toEqual(['review.vote_denied']);
    expect(refused[0]).toMatchObject({ actor: 'bob@example.com', reviewId: r.id, detail: { action: 'suggest' } });
    let res: any;
    const events = await during(async () => (res = await api('POST', `/api/reviews/${r.id}/suggest`, { key: ada.apiKey, body: { input: "UPDATE items SET label = 'suggested' WHERE id = 2", comment: 'row 2' } })));
    expect(res.status).toBe(201);
    const id = res.body.correction.id;
    expect(events.map((e) => [e.action, e.reviewId])).toEqual([
      ['review.rejected', r.id],
      ['review.correction_suggested', r.id],
      ['review.created', id],
      ['review.correction_suggested', id],
      ['review.group_approved', id],
    ]);
    expect(events[1]).toMatchObject({ actor: 'ada@example.com', source: 'api', detail: { correction: id, comment: 'row 2', inputSha256: sha256("UPDATE items SET label = 'suggested' WHERE id = 2") } });
    state.correctionId = id;
  },

  'PUT /api/reviews/:id/accept': async () => {
    const refused = await during(async () => expect((await api('PUT', `/api/reviews/${state.correctionId}/accept`, { key: ada.apiKey, body: {} })).status).toBe(403));
    expect(actions(refused)).toEqual(['review.vote_denied']);
    expect(refused[0]).toMatchObject({ actor: 'ada@example.com', detail: { action: 'accept' } });
    const events = await during(async () => expect((await api('PUT', `/api/reviews/${state.correctionId}/accept`, { key: alice.apiKey, body: {} })).status).toBe(200));
    expect(actions(events)).toEqual(['review.correction_accepted', 'review.approved']);
    expect(events[0]).toMatchObject({ actor: 'alice@example.com', reviewId: state.correctionId, detail: { status: 'APPROVED' } });
  },

  'POST /api/connections/:name/access': async () => {
    expect((await api('POST', '/api/connections?overwrite=true', { body: { name: 'prod', accessMode: 'both' } })).status).toBe(200);
    let res: any;
    const events = await during(async () => (res = await api('POST', '/api/connections/prod/access', { key: alice.apiKey, body: { duration: '30m', reason: 'INC-9' } })));
    expect(res.status).toBe(201);
    expect(actions(events)).toEqual(['review.created']);
    expect(events[0]).toMatchObject({ actor: 'alice@example.com', reviewId: res.body.id, detail: { connection: 'prod', kind: 'access', accessSec: 1800, status: 'PENDING', groups: ['dba'] } });
    const granted = await during(async () => expect((await api('PUT', `/api/reviews/${res.body.id}/approve`, { key: ada.apiKey, body: {} })).status).toBe(200));
    expect(actions(granted)).toEqual(['review.access_granted']);
    expect(granted[0]).toMatchObject({ actor: 'ada@example.com', detail: { status: 'GRANTED', groups: ['dba'] } });
    // A write under the window: created, and run without review, audited under it.
    let ran: any;
    const under = await during(async () => (ran = await submit("UPDATE items SET label = 'jit' WHERE id = 1")));
    expect(actions(under).slice(0, 2)).toEqual(['review.created', 'review.no_review_required']);
    expect(under[1]!.detail).toEqual({ reason: 'access-grant', grantId: res.body.id });
    expect(ran.grantId).toBe(res.body.id);
    state.grantId = res.body.id;
  },

  'PUT /api/reviews/:id/revoke': async () => {
    const denied = await during(async () => expect((await api('PUT', `/api/reviews/${state.grantId}/revoke`, { key: bob.apiKey, body: {} })).status).toBe(404));
    expect(actions(denied)).toEqual(['review.revoke_denied']);
    const events = await during(async () => expect((await api('PUT', `/api/reviews/${state.grantId}/revoke`, { key: ada.apiKey, body: {} })).status).toBe(200));
    expect(actions(events)).toEqual(['review.access_revoked']);
    expect(events[0]).toMatchObject({ actor: 'ada@example.com', reviewId: state.grantId, detail: { revokedAt: expect.any(String) } });
  },

  'POST /api/webhooks': async () => {
    let res: any;
    const events = await during(async () => (res = await api('POST', '/api/webhooks', { body: { url: 'http://127.0.0.1:9/hook?token=T0KEN-A', events: ['review.created'] } })));
    expect(res.status).toBe(201);
    state.webhookId = res.body.webhook.id;
    expect(actions(events)).toEqual(['webhook.created']);
    expect(events[0]!.detail).toMatchObject({ webhookId: state.webhookId, events: ['review.created'] });
    expect(text(events)).not.toMatch(/T0KEN-A|whsec_/);
  },

  'PATCH /api/webhooks/:id': async () => {
    const events = await during(async () =>
      expect((await api('PATCH', `/api/webhooks/${state.webhookId}`, { body: { url: 'http://127.0.0.1:9/hook2?token=T0KEN-B', description: 'ops', rotateSecret: true } })).status).toBe(200),
    );
    expect(actions(events)).toEqual(['webhook.updated', 'webhook.secret_rotated']);
    expect(events[0]!.detail).toEqual({
      webhookId: state.webhookId,
      before: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:9\/\*\*\* \(sha256 [0-9a-f]{8}\)$/), description: null },
      after: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:9\/\*\*\* \(sha256 [0-9a-f]{8}\)$/), description: 'ops' },
    });
    expect(text(events)).not.toMatch(/T0KEN|whsec_/);
  },

  'POST /api/webhooks/:id/deliveries/:deliveryId/replay': async () => {
    const r = await submit("UPDATE items SET label = 'hooked' WHERE id = 2");
    const delivery = await eventually(() => t.gateway.db.webhookDelivery.findFirst({ where: { endpointId: state.webhookId, reviewId: r.id } }), 15_000, 'a webhook delivery');
    const events = await during(async () => expect((await api('POST', `/api/webhooks/${state.webhookId}/deliveries/${delivery.id}/replay`)).status).toBe(202));
    expect(actions(events)).toEqual(['webhook.delivery_replayed']);
    expect(events[0]).toMatchObject({ reviewId: r.id, detail: { webhookId: state.webhookId, deliveryId: delivery.id, event: 'review.created' } });
  },

  'DELETE /api/webhooks/:id': async () => {
    const events = await during(async () => expect((await api('DELETE', `/api/webhooks/${state.webhookId}`)).status).toBe(200));
    expect(actions(events)).toEqual(['webhook.deleted']);
    expect(events[0]!.detail).toMatchObject({ webhookId: state.webhookId, before: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:9\/\*\*\* \(sha256 [0-9a-f]{8}\)$/), description: 'ops', events: ['review.created'] } });
  },

  'POST /auth/session': async () => {
    const events = await during(async () => (state.web = await webSignIn(ADMIN_KEY)));
    expect(actions(events)).toEqual(['web.sign_in']);
    expect(events[0]).toMatchObject({ actor: 'root@example.com', source: 'web', userAgent: UA, detail: { method: 'api-key' } });
  },

  'DELETE /auth/session': async () => {
    const events = await during(async () => expect((await fetch(`${t.baseUrl}/auth/session`, { method: 'DELETE', headers: webHeaders(state.web!) })).status).toBe(204));
    expect(actions(events)).toEqual(['web.sign_out']);
    expect(events[0]).toMatchObject({ actor: 'root@example.com', source: 'web' });
  },

  'POST /slack/events': async () => {
    // A linked reviewer's click decides, from Slack.
    const r = await submit("UPDATE items SET label = 'slack' WHERE id = 1");
    const value = JSON.stringify({ reviewId: r.id, group: 'dba' });
    // A click by someone who is no hoop user is refused, and that refusal is audited too.
    const refused = await during(() => t.slackPost(blockAction('UNOBODY', 'review.approve', value)), (e) => e.length > 0);
    expect(actions(refused)).toEqual(['review.vote_denied']);
    expect(refused[0]).toMatchObject({ actor: 'slack:UNOBODY', actorId: null, source: 'slack', reviewId: r.id, detail: { action: 'approve', code: 'not_linked' } });
    // Every event of a Slack action names the Slack user, workspace and channel it came from.
    expect(refused[0]!.detail.slack).toEqual({ userId: 'UNOBODY', teamId: 'T1', channelId: 'C-REVIEWS' });

    // So is one by a linked user who has been deactivated.
    t.slack.users.set('UBOB', { email: 'bob@example.com' });
    expect((await t.slackPost(slashCommand('UBOB', 'subscribe'))).status).toBe(200);
    expect((await api('PATCH', '/api/users/bob@example.com', { body: { active: false } })).status).toBe(200);
    const deactivated = await during(() => t.slackPost(blockAction('UBOB', 'review.approve', value)), (e) => e.length > 0);
    expect(actions(deactivated)).toEqual(['review.vote_denied']);
    expect(deactivated[0]).toMatchObject({ actor: 'slack:UBOB', source: 'slack', reviewId: r.id, detail: { action: 'approve', code: 'forbidden', slack: { userId: 'UBOB', teamId: 'T1', channelId: 'C-REVIEWS' } } });

    // A linked reviewer's vote is theirs (their email), and names their Slack ids all the same.
    const approved = await during(() => t.slackPost(blockAction('UDANA', 'review.approve', value, 'C-DBA')), (e) => e.length > 0);
    expect(actions(approved)).toEqual(['review.approved']);
    expect(approved[0]).toMatchObject({ actor: 'dana@example.com', source: 'slack', reviewId: r.id });
    expect(approved[0]!.detail.slack).toEqual({ userId: 'UDANA', teamId: 'T1', channelId: 'C-DBA' });

    // A rejection through the modal: the channel is the one its Reject button was in.
    const r2 = await submit("UPDATE items SET label = 'modal' WHERE id = 2");
    const meta = JSON.stringify({ reviewId: r2.id, group: 'dba', channel: 'C-MODAL' });
    const rejected = await during(() => t.slackPost(rejectSubmission('UDANA', meta, 'not in Slack either')), (e) => e.length > 0);
    expect(actions(rejected)).toEqual(['review.rejected']);
    expect(rejected[0]).toMatchObject({ actor: 'dana@example.com', source: 'slack', reviewId: r2.id, detail: { reason: 'not in Slack either', slack: { userId: 'UDANA', teamId: 'T1', channelId: 'C-MODAL' } } });

    // Revoke from Slack, refused and done.
    expect((await api('POST', '/api/connections?overwrite=true', { body: { name: 'prod', accessMode: 'both' } })).status).toBe(200);
    const grant = await api('POST', '/api/connections/prod/access', { key: alice.apiKey, body: { duration: '30m', reason: 'INC-10' } });
    expect(grant.status).toBe(201);
    expect((await api('PUT', `/api/reviews/${grant.body.id}/approve`, { key: ada.apiKey, body: {} })).status).toBe(200);
    const revokeValue = JSON.stringify({ reviewId: grant.body.id });
    const revokeRefused = await during(() => t.slackPost(blockAction('UNOBODY', 'review.revoke', revokeValue)), (e) => e.length > 0);
    expect(actions(revokeRefused)).toEqual(['review.revoke_denied']);
    expect(revokeRefused[0]).toMatchObject({ actor: 'slack:UNOBODY', reviewId: grant.body.id, detail: { slack: { userId: 'UNOBODY', teamId: 'T1', channelId: 'C-REVIEWS' } } });
    const revoked = await during(() => t.slackPost(blockAction('UDANA', 'review.revoke', revokeValue)), (e) => e.length > 0);
    expect(actions(revoked)).toEqual(['review.access_revoked']);
    expect(revoked[0]).toMatchObject({ actor: 'dana@example.com', source: 'slack', reviewId: grant.body.id, detail: { slack: { userId: 'UDANA', teamId: 'T1', channelId: 'C-REVIEWS' } } });

    t.slack.users.set('UNEWBIE', { email: 'newbie@example.com' });
    const linked = await during(() => t.slackPost(slashCommand('UNEWBIE', 'subscribe')), (e) => e.length > 0);
    expect(actions(linked)).toEqual(['user.slack_linked']);
    expect(linked[0]).toMatchObject({ actor: 'newbie@example.com', source: 'slack', detail: { slackUserId: 'UNEWBIE', slack: { userId: 'UNEWBIE', teamId: 'T1', channelId: 'C-REVIEWS' } } });
  },
};

/** Mutating routes that write no audit event, each with the reason. None today. */
const NO_AUDIT: Record<string, string> = {
  // The MCP transport: each tool call is audited by the use case it calls (exec writes review.created
  // with source mcp and the client's name: test/integration/mcp.test.ts); initialize and tools/list change nothing.
  'POST /mcp': 'transport; the tools are audited by the use cases they call',
  'DELETE /mcp': "ends the caller's own MCP session (a transport detail kept in Redis)",
  // A dry run: creates nothing, runs nothing (README, "MCP": an event per dry run would let a client flood the trail).
  'POST /api/connections/:name/classify': 'a dry run; changes nothing',
};

/** Reads that write an event all the same: the exports audit themselves (issue 12: "exports themselves"). */
const AUDITED_READS: Record<string, () => Promise<void>> = {
  'GET /api/audit/export': async () => {
    const events = await during(async () => expect((await api('GET', '/api/audit/export?format=jsonl&action=review.approved', { ua: CLI_UA })).status).toBe(200), (e) => e.length > 0);
    expect(actions(events)).toEqual(['audit.exported']);
    expect(events[0]).toMatchObject({ actor: 'root@example.com', source: 'cli', detail: { format: 'jsonl', actions: ['review.approved'], complete: true } });
    expect(events[0]!.detail.rows).toBeGreaterThanOrEqual(2);
  },
  'GET /api/reviews/export': async () => {
    const events = await during(async () => expect((await api('GET', '/api/reviews/export?format=csv&connection=prod')).status).toBe(200), (e) => e.length > 0);
    expect(actions(events)).toEqual(['reviews.exported']);
    expect(events[0]).toMatchObject({ actor: 'root@example.com', source: 'api', detail: { format: 'csv', connection: 'prod', complete: true } });
  },
};

beforeAll(async () => {
  t = await startTestGateway({ env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
  target = await createTargetDatabase();
  await target.query("CREATE TABLE items (id int PRIMARY KEY, label text); INSERT INTO items VALUES (1, 'one'), (2, 'two')");
  alice = await t.createUser('alice@example.com', ['developers']);
  bob = await t.createUser('bob@example.com', ['developers']);
  ada = await t.createUser('ada@example.com', ['dba'], true);
  const dana = await t.createUser('dana@example.com', ['dba']);
  expect(dana.id).toBeTruthy();
  t.slack.users.set('UDANA', { email: 'dana@example.com' });
  expect((await t.slackPost(slashCommand('UDANA', 'subscribe'))).status).toBe(200);
  expect((await api('POST', '/api/connections', { body: { name: 'prod', url: target.url, reviewers: ['dba'] } })).status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('the audit trail of every route that changes something', () => {
  it('has a case, or a reason for none, for each POST, PUT, PATCH and DELETE route the gateway serves', () => {
    const served = [...new Set(routesOf(t.gateway.server!).filter((r) => MUTATING.has(r.method)).map((r) => `${r.method} ${r.url}`))];
    expect(served.length).toBeGreaterThan(10);
    expect(served.filter((r) => !(r in CASES) && !(r in NO_AUDIT))).toEqual([]);
    // And no case for a route that is gone.
    expect([...Object.keys(CASES), ...Object.keys(NO_AUDIT)].filter((r) => !served.includes(r))).toEqual([]);
  });

  for (const [route, run] of Object.entries(CASES)) it(`${route} writes what it did, by whom, through what`, run);

  for (const [route, run] of Object.entries(AUDITED_READS)) it(`${route}, a read, writes that it was made`, run);
});
