// A replayed Slack request is refused by every replica; the Reject button answers whom it may not
// tell anything exactly as Approve and the API do; results of a restricted connection stay out of
// channels that people outside its groups can read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlackCall } from '../fakes/fake-slack.js';
import { blockAction, signedForm, slashCommand } from '../fakes/slack-requests.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, SIGNING_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
const keys: Record<string, string> = {};

const mentions = (c: SlackCall, id: string) => JSON.stringify(c.args.blocks ?? '').includes(id) || String(c.args.text ?? '').includes(id);
const review = async (id: string) => (await t.api('GET', `/api/reviews/${id}`)).body;
const button = (reviewId: string, group: string) => JSON.stringify({ reviewId, group });

async function submit(connection: string, input: string, who = 'alice') {
  const res = await t.api('POST', `/api/connections/${connection}/exec`, { key: keys[who], body: { input } });
  expect(res.status).toBe(201);
  return res.body;
}

/** Sends the very same signed request (same body, timestamp and signature) to `baseUrl`. */
async function send(req: ReturnType<typeof signedForm>, baseUrl = t.baseUrl) {
  const res = await fetch(`${baseUrl}/slack/events`, { method: 'POST', headers: req.headers, body: req.body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : '' };
}

/** The ephemeral answer `user` got after `act`. */
async function answerTo(user: string, act: () => Promise<unknown>): Promise<string> {
  const before = t.slack.callsOf('chat.postEphemeral').filter((c) => c.args.user === user).length;
  await act();
  const calls = await t.slack.waitFor((cs) => cs.filter((c) => c.method === 'chat.postEphemeral' && c.args.user === user).length > before);
  return calls.filter((c) => c.method === 'chat.postEphemeral' && c.args.user === user).at(-1)!.args.text;
}

beforeAll(async () => {
  t = await startTestGateway();
  target = await createTargetDatabase();
  const people: [string, string, string[]][] = [['alice', 'UALICE', ['developers']], ['dana', 'UDANA', ['dba-team']], ['sam', 'USAM', ['security']], ['fin', 'UFIN', ['finance']], ['eve', 'UEVE', ['developers']]];
  for (const [name, slackId, groups] of people) {
    keys[name] = (await t.createUser(`${name}@example.com`, groups)).apiKey;
    t.slack.users.set(slackId, { email: `${name}@example.com` });
    expect((await t.slackPost(slashCommand(slackId, 'subscribe'))).body.text).toContain('Subscribed');
  }
  const conn = (name: string, extra: Record<string, unknown>) => t.api('POST', '/api/connections', { body: { name, url: target.url, reviewMode: 'all', ...extra } });
  await conn('prod-db', { reviewers: ['dba-team'] });
  await conn('payroll', { reviewers: ['security'], allowedGroups: ['finance'] });
  await conn('payroll-own', { reviewers: ['security'], allowedGroups: ['finance'], slackChannel: 'C-FINANCE' });
  await conn('payroll-shared', { reviewers: ['security'], allowedGroups: ['finance'], slackChannel: 'C-REVIEWS' });
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('a replayed Slack request', () => {
  it('decides a button click once; its replay is answered with an empty 200 and changes nothing', async () => {
    const r = await submit('prod-db', 'UPDATE users SET status = status WHERE id = 1');
    const click = signedForm(SIGNING_SECRET, blockAction('UDANA', 'review.approve', button(r.id, 'dba-team')));
    expect((await send(click)).status).toBe(200);
    await eventually(async () => (await review(r.id)).status === 'EXECUTED');
    const events = await t.gateway.db.auditEvent.count({ where: { reviewId: r.id } });
    expect(await send(click)).toEqual({ status: 200, body: '' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Processed again, it would have been refused as "already approved": audited and told.
    expect(await t.gateway.db.auditEvent.count({ where: { reviewId: r.id } })).toBe(events);
    expect(t.slack.callsOf('chat.postEphemeral').filter((c) => c.args.user === 'UDANA')).toHaveLength(0);
  });

  it('runs a slash command once; the replay gets an empty answer', async () => {
    const command = signedForm(SIGNING_SECRET, slashCommand('UEVE', 'unsubscribe'));
    expect((await send(command)).body.text).toContain('Unsubscribed');
    expect(await send(command)).toEqual({ status: 200, body: '' });
    expect(await t.gateway.db.auditEvent.count({ where: { action: 'user.slack_unlinked', detail: { path: ['slackUserId'], equals: 'UEVE' } } })).toBe(1);
    expect((await t.slackPost(slashCommand('UEVE', 'subscribe'))).body.text).toContain('Subscribed');
  });

  it('is refused by every replica, whichever one saw it first', async () => {
    const replica = await startTestGateway({ databaseUrl: t.databaseUrl, prefix: t.prefix, fakeSlack: t.slack, workers: false });
    try {
      const help = signedForm(SIGNING_SECRET, slashCommand('UDANA', 'help'));
      expect((await send(help)).body.text).toContain('/hoop subscribe');
      expect(await send(help, replica.baseUrl)).toEqual({ status: 200, body: '' });
      const other = signedForm(SIGNING_SECRET, slashCommand('USAM', 'help'));
      expect((await send(other, replica.baseUrl)).body.text).toContain('/hoop subscribe');
      expect(await send(other)).toEqual({ status: 200, body: '' });
    } finally {
      await replica.stop();
    }
  });

  it('is refused by its timestamp once the five minutes are over', async () => {
    const old = signedForm(SIGNING_SECRET, slashCommand('UDANA', 'unsubscribe'), Math.floor(Date.now() / 1000) - 301);
    expect((await send(old)).status).toBe(401);
    expect(await t.gateway.db.identity.count({ where: { provider: 'slack', externalId: 'UDANA' } })).toBe(1);
  });
});

describe('the Reject button', () => {
  it('answers a user outside the connection\'s allowed groups "not found", like Approve and the API, naming no group', async () => {
    const r = await submit('payroll', 'UPDATE pay SET amount = 0', 'fin');
    const approve = await answerTo('UEVE', () => t.slackPost(blockAction('UEVE', 'review.approve', button(r.id, 'security'))));
    const reject = await answerTo('UEVE', () => t.slackPost(blockAction('UEVE', 'review.reject', button(r.id, 'security'))));
    const forged = await answerTo('UEVE', () => t.slackPost(blockAction('UEVE', 'review.reject', button(r.id, 'no-such-group'))));
    const api = await t.api('PUT', `/api/reviews/${r.id}/reject`, { key: keys.eve, body: { reason: 'x' } });
    expect(api.status).toBe(404);
    expect(approve).toBe(`:warning: ${api.body.error.message}`);
    expect(reject).toBe(approve);
    expect(forged).toBe(approve);
    expect(reject).toMatch(/No request has the id/);
    expect(reject).not.toMatch(/security|finance/);
    expect(t.slack.callsOf('views.open').filter((c) => c.args.view.private_metadata.includes(r.id))).toHaveLength(0);
  });

  it('answers a user who may not see the request exactly as Approve and the API do', async () => {
    const r = await submit('prod-db', 'DELETE FROM users WHERE id = 2');
    const approve = await answerTo('USAM', () => t.slackPost(blockAction('USAM', 'review.approve', button(r.id, 'dba-team'))));
    const reject = await answerTo('USAM', () => t.slackPost(blockAction('USAM', 'review.reject', button(r.id, 'dba-team'))));
    const api = await t.api('PUT', `/api/reviews/${r.id}/reject`, { key: keys.sam, body: { group: 'dba-team' } });
    expect(reject).toBe(approve);
    expect(reject).toBe(`:warning: ${api.body.error.message}`);
    expect((await t.api('GET', `/api/reviews/${r.id}`, { key: keys.sam })).status).toBe(404);
    expect((await review(r.id)).status).toBe('PENDING');
    expect(await t.gateway.db.auditEvent.count({ where: { reviewId: r.id, action: 'review.vote_denied' } })).toBe(3);
  });

  it('answers an unknown review id as Approve does', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const approve = await answerTo('UDANA', () => t.slackPost(blockAction('UDANA', 'review.approve', button(id, 'dba-team'))));
    expect(await answerTo('UDANA', () => t.slackPost(blockAction('UDANA', 'review.reject', button(id, 'dba-team'))))).toBe(approve);
  });

  it('still opens the modal for a reviewer of the request', async () => {
    const r = await submit('payroll', 'UPDATE pay SET amount = 1', 'fin');
    await t.slackPost(blockAction('USAM', 'review.reject', button(r.id, 'security')));
    await t.slack.waitFor((cs) => cs.some((c) => c.method === 'views.open' && c.args.view.private_metadata.includes(r.id)));
  });
});

describe('the result of a connection with allowed groups', () => {
  async function run(connection: string, marker: number) {
    const r = await submit(connection, `SELECT ${marker} AS secret`, 'fin');
    await t.slack.waitFor((cs) => cs.filter((c) => c.method === 'chat.postMessage' && !c.args.thread_ts && mentions(c, r.id)).length === 2);
    expect((await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: keys.sam })).status).toBe(200);
    const replies = await t.slack.waitFor((cs) => cs.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts && mentions(c, r.id)).length === 2);
    const requester = await t.slack.waitFor((cs) => cs.some((c) => c.method === 'chat.postMessage' && c.args.channel === 'UFIN' && mentions(c, r.id)));
    const threadIn = (channel: string) => JSON.stringify(replies.find((c) => c.method === 'chat.postMessage' && c.args.thread_ts && mentions(c, r.id) && c.args.channel === channel)!.args.blocks);
    return { r, threadIn, requesterDm: JSON.stringify(requester.find((c) => c.method === 'chat.postMessage' && c.args.channel === 'UFIN' && mentions(c, r.id))!.args.blocks) };
  }

  it('is withheld under the message in the gateway-wide default channel, with how to get it', async () => {
    const { r, threadIn, requesterDm } = await run('payroll', 770001);
    expect(threadIn('C-REVIEWS')).not.toContain('770001');
    expect(threadIn('C-REVIEWS')).toContain(`The result is not shown in this channel`);
    expect(threadIn('C-REVIEWS')).toContain(`hoop get review ${r.id}`);
    expect(threadIn('USAM')).toContain('770001');
    expect(requesterDm).toContain('770001');
    expect(await t.gateway.db.channelMessage.count({ where: { channel: 'slack', reviewId: r.id, kind: 'result' } })).toBe(2);
  });

  it('is shown in the connection\'s own channel and in direct messages', async () => {
    const { threadIn, requesterDm } = await run('payroll-own', 770002);
    expect(threadIn('C-FINANCE')).toContain('770002');
    expect(threadIn('USAM')).toContain('770002');
    expect(requesterDm).toContain('770002');
  });

  it('is shown in a channel an admin set on the connection explicitly, even the default one', async () => {
    const { threadIn } = await run('payroll-shared', 770003);
    expect(threadIn('C-REVIEWS')).toContain('770003');
  });

  it('of a connection without allowed groups is shown in the default channel as before', async () => {
    const r = await submit('prod-db', 'SELECT 770004 AS open');
    expect((await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: keys.dana })).status).toBe(200);
    await t.slack.waitFor((cs) => cs.some((c) => c.method === 'chat.postMessage' && c.args.thread_ts && c.args.channel === 'C-REVIEWS' && JSON.stringify(c.args.blocks).includes('770004')));
  });
});
