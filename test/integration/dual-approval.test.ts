// Dual approval means two people: the API and the Slack buttons on a connection with two reviewer
// groups, by default (distinctApprovers) and with the connection option turned off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockAction, rejectSubmission, slashCommand } from '../fakes/slack-requests.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string }; // requester
let sam: { id: string; apiKey: string }; // security
let bo: { id: string; apiKey: string }; // dba-team and security

async function submit(connection: string, input: string) {
  const res = await t.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input, reason: 'OPS-9' } });
  expect(res.status).toBe(201);
  return res.body;
}

const approve = (id: string, key: string, group?: string) => t.api('PUT', `/api/reviews/${id}/approve`, { key, body: group ? { group } : {} });
const review = async (id: string) => (await t.api('GET', `/api/reviews/${id}`)).body;
const executed = (id: string) => eventually(async () => {
  const v = await review(id);
  return v.status === 'EXECUTED' && v;
});
const button = (reviewId: string, group: string) => JSON.stringify({ reviewId, group });

/** The newest ephemeral message to `user` after `before` calls. */
async function toldTo(user: string, before: number): Promise<string> {
  const calls = await t.slack.waitFor((cs) => cs.filter((c) => c.method === 'chat.postEphemeral' && c.args.user === user).length > before);
  return calls.filter((c) => c.method === 'chat.postEphemeral' && c.args.user === user).at(-1)!.args.text;
}
const ephemeralCount = (user: string) => t.slack.callsOf('chat.postEphemeral').filter((c) => c.args.user === user).length;

beforeAll(async () => {
  t = await startTestGateway();
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  await t.createUser('dana@example.com', ['dba-team']);
  sam = await t.createUser('sam@example.com', ['security']);
  bo = await t.createUser('bo@example.com', ['dba-team', 'security']);
  for (const [slackId, email] of [['UDANA', 'dana@example.com'], ['USAM', 'sam@example.com'], ['UBO', 'bo@example.com']]) {
    t.slack.users.set(slackId, { email });
    expect((await t.slackPost(slashCommand(slackId, 'subscribe'))).status).toBe(200);
  }
  const dual = await t.api('POST', '/api/connections', { body: { name: 'dual', url: target.url, reviewers: ['dba-team', 'security'], reviewMode: 'all' } });
  expect(dual.body.connection.distinctApprovers).toBe(true);
  const legacy = await t.api('POST', '/api/connections', { body: { name: 'dual-legacy', url: target.url, reviewers: ['dba-team', 'security'], reviewMode: 'all', distinctApprovers: false } });
  expect(legacy.body.connection.distinctApprovers).toBe(false);
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('the connection option', () => {
  it('is on by default, shown to everyone, changed with overwrite, and refused when not a boolean', async () => {
    const list = (await t.api('GET', '/api/connections', { key: alice.apiKey })).body.connections;
    expect(list.map((c: any) => [c.name, c.distinctApprovers])).toEqual([['dual', true], ['dual-legacy', false]]);
    for (const value of ['yes', 1, null]) {
      const bad = await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'dual', distinctApprovers: value } });
      expect(bad.status, String(value)).toBe(400);
      expect(bad.body.error.message).toContain('"distinctApprovers" must be true');
    }
    const off = await t.api('POST', '/api/connections', { body: { name: 'toggled', url: target.url, reviewers: ['a', 'b'], distinctApprovers: false } });
    expect(off.body.connection.distinctApprovers).toBe(false);
    // An overwrite that does not mention it keeps it; one that does changes it, audited.
    expect((await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'toggled', reviewers: ['a'] } })).body.connection.distinctApprovers).toBe(false);
    expect((await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'toggled', distinctApprovers: true } })).body.connection.distinctApprovers).toBe(true);
    const audit = await t.gateway.db.auditEvent.findMany({ where: { action: { in: ['connection.created', 'connection.updated'] } }, orderBy: { id: 'asc' } });
    // Created: the whole configuration; each overwrite: before and after of what it changed.
    expect(audit.filter((e: any) => e.detail.name === 'toggled').map((e: any) => [e.detail.before?.distinctApprovers, e.detail.after.distinctApprovers])).toEqual([
      [undefined, false],
      [undefined, undefined],
      [false, true],
    ]);
  });
});

describe('through the API, by default', () => {
  it('refuses a second approval by the person who approved the other group, named or not, and audits it', async () => {
    const r = await submit('dual', "UPDATE users SET status = 'dual' WHERE id = 1");
    expect((await approve(r.id, bo.apiKey, 'dba-team')).status).toBe(200);
    for (const group of ['security', undefined]) {
      const again = await approve(r.id, bo.apiKey, group);
      expect(again.status).toBe(403);
      expect(again.body.error.code).toBe('distinct_approver');
      expect(again.body.error.message).toContain('already approved this request for "dba-team"');
    }
    expect(await review(r.id)).toMatchObject({ status: 'PENDING', approvals: { approved: 1, total: 2 } });
    expect(await target.query('SELECT status FROM users WHERE id = 1')).toEqual([{ status: 'active' }]);
    const denied = await t.gateway.db.auditEvent.findMany({ where: { reviewId: r.id, action: 'review.vote_denied' } });
    expect(denied.map((e: any) => e.detail.code)).toEqual(['distinct_approver', 'distinct_approver']);
    expect((await approve(r.id, sam.apiKey)).status).toBe(200);
    const done = await executed(r.id);
    expect(done.groups.map((g: any) => [g.group, g.reviewer])).toEqual([['dba-team', 'bo@example.com'], ['security', 'sam@example.com']]);
  });

  it('asks a reviewer in several pending groups to name one, and changes nothing', async () => {
    const r = await submit('dual', 'SELECT 21 AS unnamed');
    const res = await approve(r.id, bo.apiKey);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('several groups that still have to approve (dba-team, security)');
    expect(res.body.error.message).toContain('{"group": "dba-team"}');
    expect((await review(r.id)).groups.map((g: any) => g.status)).toEqual(['PENDING', 'PENDING']);
    // Named, it counts for that group only.
    expect((await approve(r.id, bo.apiKey, 'security')).body.groups.map((g: any) => g.status)).toEqual(['PENDING', 'APPROVED']);
  });

  it('still lets the person who approved one group reject the request for the other', async () => {
    const r = await submit('dual', "UPDATE users SET status = 'never' WHERE id = 2");
    await approve(r.id, bo.apiKey, 'dba-team');
    const rej = await t.api('PUT', `/api/reviews/${r.id}/reject`, { key: bo.apiKey, body: { reason: 'wrong row' } });
    expect(rej.status).toBe(200);
    expect(rej.body).toMatchObject({ status: 'REJECTED', rejectReason: 'wrong row' });
    expect(rej.body.groups.map((g: any) => [g.group, g.status])).toEqual([['dba-team', 'APPROVED'], ['security', 'REJECTED']]);
    expect(await target.query('SELECT status FROM users WHERE id = 2')).toEqual([{ status: 'active' }]);
  });

  it('records a rejection without a group from someone in both groups against one group, and stops the request', async () => {
    const r = await submit('dual', 'SELECT 22 AS rejected');
    const rej = await t.api('PUT', `/api/reviews/${r.id}/reject`, { key: bo.apiKey, body: {} });
    expect(rej.body.status).toBe('REJECTED');
    expect(rej.body.groups.filter((g: any) => g.status === 'REJECTED').map((g: any) => g.reviewer)).toEqual(['bo@example.com']);
  });

  it('lets one of two simultaneous approvals of one person through, for one group only', async () => {
    const r = await submit('dual', 'SELECT 23 AS raced');
    const both = await Promise.all([approve(r.id, bo.apiKey, 'dba-team'), approve(r.id, bo.apiKey, 'security')]);
    expect(both.map((x) => x.status).sort()).toEqual([200, 403]);
    expect(await review(r.id)).toMatchObject({ status: 'PENDING', approvals: { approved: 1, total: 2 } });
  });

  it('keeps an admin\'s own request approved automatically', async () => {
    const admin = await t.createUser('ops-admin@example.com', ['dba-team', 'security'], true);
    const res = await t.api('POST', '/api/connections/dual/exec', { key: admin.apiKey, body: { input: 'SELECT 24 AS own' } });
    expect(res.body).toMatchObject({ status: 'EXECUTED', autoApproved: true });
  });
});

describe('through the API, with distinctApprovers off', () => {
  it('lets one person approve every group of theirs in one call, as before', async () => {
    const r = await submit('dual-legacy', "UPDATE users SET status = 'legacy' WHERE id = 3");
    const res = await approve(r.id, bo.apiKey);
    expect(res.status).toBe(200);
    expect(res.body.groups.map((g: any) => [g.status, g.reviewer])).toEqual([['APPROVED', 'bo@example.com'], ['APPROVED', 'bo@example.com']]);
    await executed(r.id);
    expect(await target.query('SELECT status FROM users WHERE id = 3')).toEqual([{ status: 'legacy' }]);
  });

  it('or one group after the other', async () => {
    const r = await submit('dual-legacy', 'SELECT 25 AS stepwise');
    expect((await approve(r.id, bo.apiKey, 'security')).status).toBe(200);
    expect((await approve(r.id, bo.apiKey, 'dba-team')).status).toBe(200);
    await executed(r.id);
  });
});

describe('through the Slack buttons', () => {
  it('tells a reviewer in both groups who approved one that a second person must approve the other', async () => {
    const r = await submit('dual', 'SELECT 31 AS slack_dual');
    await t.slackPost(blockAction('UBO', 'review.approve', button(r.id, 'dba-team')));
    await eventually(async () => (await review(r.id)).approvals.approved === 1);
    const before = ephemeralCount('UBO');
    await t.slackPost(blockAction('UBO', 'review.approve', button(r.id, 'security')));
    expect(await toldTo('UBO', before)).toContain('already approved this request for "dba-team"');
    expect(await review(r.id)).toMatchObject({ status: 'PENDING', approvals: { approved: 1, total: 2 } });
    await t.slackPost(blockAction('USAM', 'review.approve', button(r.id, 'security')));
    const done = await executed(r.id);
    expect(done.groups.map((g: any) => g.reviewer)).toEqual(['bo@example.com', 'sam@example.com']);
  });

  it('still opens the reject modal for them, and the rejection stops the request', async () => {
    const r = await submit('dual', 'SELECT 32 AS slack_reject');
    await t.slackPost(blockAction('UBO', 'review.approve', button(r.id, 'security')));
    await eventually(async () => (await review(r.id)).approvals.approved === 1);
    await t.slackPost(blockAction('UBO', 'review.reject', button(r.id, 'dba-team')));
    const open = await t.slack.waitFor((calls) => calls.some((c) => c.method === 'views.open' && c.args.view.private_metadata.includes(r.id)));
    const view = open.filter((c) => c.method === 'views.open' && c.args.view.private_metadata.includes(r.id)).at(-1)!.args.view;
    expect((await t.slackPost(rejectSubmission('UBO', view.private_metadata, 'changed my mind'))).status).toBe(200);
    expect(await review(r.id)).toMatchObject({ status: 'REJECTED', rejectReason: 'changed my mind' });
  });

  it('lets one person press both buttons on a connection with distinctApprovers off', async () => {
    const r = await submit('dual-legacy', 'SELECT 33 AS slack_legacy');
    await t.slackPost(blockAction('UBO', 'review.approve', button(r.id, 'dba-team')));
    await eventually(async () => (await review(r.id)).approvals.approved === 1);
    await t.slackPost(blockAction('UBO', 'review.approve', button(r.id, 'security')));
    await executed(r.id);
  });
});
