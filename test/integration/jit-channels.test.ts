// Just-in-Time access in the channels (issue 13), end to end through one gateway, the fake Slack,
// the fake Teams Workflows endpoint and a webhook receiver: an access request is posted titled by
// its window; approved in Slack, its message gets a Revoke button and its requester a DM; the
// button revokes it as the clicking Slack user (an agent and a stranger are refused, audited); a
// window that ends on time is announced too. Every Slack payload passes the fake's Block Kit rules
// (stop() fails otherwise) and every Teams card the fake's card rules.
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { queueNames } from '../../src/jobs/queues.js';
import { AGENT_CANNOT_REVOKE, AGENT_CANNOT_VOTE } from '../../src/core/review-state.js';
import { startFakeTeams, type FakeTeams } from '../fakes/fake-teams.js';
import { startFakeWebhookReceiver, type FakeWebhookReceiver } from '../fakes/fake-webhook-receiver.js';
import { blockAction, slashCommand } from '../fakes/slack-requests.js';
import { createTargetDatabase, REDIS_URL } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const clock = createManualClock();
let t: TestGateway;
let teams: FakeTeams;
let receiver: FakeWebhookReceiver;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string }; // asks for access
let bob: { id: string; apiKey: string }; // dba-team: reviews prod-db

const ask = async (duration = '30m') => {
  const res = await t.api('POST', '/api/connections/prod-db/access', { key: alice.apiKey, body: { duration, reason: 'on call: INC-42' } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
};
const review = async (id: string) => (await t.api('GET', `/api/reviews/${id}`)).body;
const audit = (reviewId: string, action: string) => t.gateway.db.auditEvent.findMany({ where: { reviewId, action }, orderBy: { id: 'asc' } });
const revokeValue = (reviewId: string) => JSON.stringify({ reviewId });

/** The request messages of `id` as Slack holds them now (after every update), by where they were posted. */
const requestMessages = (id: string) => t.slack.messages.filter((m: any) => !m.thread_ts && JSON.stringify(m.blocks ?? '').includes(':bell:') && JSON.stringify(m.blocks).includes(`Request \`${id}\``));
/** Direct messages to `user` that are not a request message. */
const dmsTo = (user: string, id: string) => t.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === user && JSON.stringify(c.args).includes(id) && !JSON.stringify(c.args.blocks).includes(':bell:'));
const buttonsOf = (blocks: any) => (blocks as any[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements);
const cardsOf = (id: string) => teams.accepted.filter((a) => JSON.stringify(a.card).includes(id));
const cardTitles = (id: string) => cardsOf(id).map((a) => a.card.body[0].text as string);
const hooksOf = (id: string) => receiver.received.filter((r) => r.body.includes(id)).map((r) => JSON.parse(r.body));

/**
 * Resolves once the Slack queue holds no job to run (the updates of the last transition are done),
 * and forgets the finished ones: a repair's job id is per 10 minutes, so a repair planned moments
 * ago would otherwise make the next one a no-op until the next slot.
 */
async function slackIdle(): Promise<void> {
  const queue = new Queue(queueNames(t.prefix).slack, { connection: { url: REDIS_URL } });
  try {
    await eventually(async () => Object.values(await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized')).every((n) => n === 0), 10_000, 'the Slack queue idle');
    await queue.clean(0, 10_000, 'completed');
  } finally {
    await queue.close();
  }
}

async function subscribe(slackId: string, email: string) {
  t.slack.users.set(slackId, { email });
  const res = await t.slackPost(slashCommand(slackId, 'subscribe'));
  expect(res.status).toBe(200);
}

/** Waits for the ephemeral answer to `user` after a click, and returns its text. */
async function ephemeralAfter(user: string, click: () => Promise<unknown>): Promise<string> {
  const before = t.slack.callsOf('chat.postEphemeral').length;
  await click();
  const calls = await t.slack.waitFor((c) => c.filter((x) => x.method === 'chat.postEphemeral').length > before);
  return calls.filter((c) => c.method === 'chat.postEphemeral' && c.args.user === user).at(-1)!.args.text as string;
}

beforeAll(async () => {
  teams = await startFakeTeams();
  receiver = await startFakeWebhookReceiver();
  target = await createTargetDatabase();
  t = await startTestGateway({ clock, sweepIntervalMs: 200, env: { TEAMS_WEBHOOK_URL: teams.urlOf('default'), PUBLIC_URL: 'https://hoop.example.com', WEBHOOK_ALLOW_PRIVATE: 'true' } });
  alice = await t.createUser('alice@example.com', ['developers']);
  bob = await t.createUser('bob@example.com', ['dba-team']);
  const conn = await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], accessMode: 'both', maxAccessDuration: '3d' } });
  expect(conn.status, JSON.stringify(conn.body)).toBe(201);
  // An agent in the reviewer group, linked to a Slack account: it must never revoke.
  const agent = await t.api('POST', '/api/agents', { body: { name: 'ops-bot', owner: 'alice@example.com', groups: ['dba-team'] } });
  expect(agent.status, JSON.stringify(agent.body)).toBe(201);
  await subscribe('UALICE', 'alice@example.com');
  await subscribe('UBOB', 'bob@example.com');
  await subscribe('UAGENT', 'ops-bot@agents.invalid');
  expect(await t.gateway.db.identity.count({ where: { provider: 'slack', externalId: 'UAGENT', user: { kind: 'agent' } } })).toBe(1);
  const hook = await t.api('POST', '/api/webhooks', { body: { url: `${receiver.url}/hoop`, events: ['review.access_granted', 'review.access_revoked', 'review.access_ended'], connections: ['prod-db'] } });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  receiver.setSecret(hook.body.webhook.secret);
});

afterAll(async () => {
  await t?.stop();
  await teams?.close();
  await receiver?.stop();
  await target?.drop();
});

describe('an access request in Slack, Teams and webhooks', () => {
  let id: string;

  it('is posted titled by its window, with the reason and the vote buttons, and no command block', async () => {
    id = await ask();
    await eventually(async () => requestMessages(id).some((m: any) => m.channel === 'C-REVIEWS') && cardsOf(id).length === 1, 10_000, 'the request posted to Slack and Teams');
    const channel = requestMessages(id).find((m: any) => m.channel === 'C-REVIEWS')!;
    const text = JSON.stringify(channel.blocks);
    // To the channel and to bob; never to the agent in the group (it cannot decide).
    await eventually(async () => requestMessages(id).length === 2, 10_000, "bob's DM");
    expect(t.slack.callsOf('chat.postMessage').filter((c) => JSON.stringify(c.args).includes(id)).map((c) => c.args.channel).sort()).toEqual(['C-REVIEWS', 'UBOB']);
    expect(text).toContain('Access request from <@UALICE>');
    expect(text).toContain('*Access for 30 minutes to prod-db*');
    expect(text).toContain('on call: INC-42');
    expect(text).not.toContain('```');
    expect(buttonsOf(channel.blocks).map((b: any) => b.action_id)).toEqual(['review.approve', 'review.reject']);
    expect(cardTitles(id)).toEqual(['🔑 Access for 30 minutes to prod-db: waiting for approval']);
    // The agent in the reviewer group clicks Approve (or Reject) anyway: refused, told why, audited from Slack.
    for (const action of ['review.approve', 'review.reject']) {
      const said = await ephemeralAfter('UAGENT', () => t.slackPost(blockAction('UAGENT', action, JSON.stringify({ reviewId: id, group: 'dba-team' }))));
      expect(said).toContain(AGENT_CANNOT_VOTE);
    }
    expect((await audit(id, 'review.vote_denied')).map((e) => [e.source, e.actor, (e.detail as { action: string }).action])).toEqual([
      ['slack', 'ops-bot@agents.invalid', 'approve'],
      ['slack', 'ops-bot@agents.invalid', 'reject'],
    ]);
    expect((await review(id)).status).toBe('PENDING');
  });

  it('approved with the Slack button: the message says until when and carries Revoke; the requester, Teams and the webhook are told', async () => {
    await t.slackPost(blockAction('UBOB', 'review.approve', JSON.stringify({ reviewId: id, group: 'dba-team' })));
    const granted = await eventually(async () => {
      const r = await review(id);
      return r.status === 'GRANTED' && r;
    });
    await eventually(async () => requestMessages(id).every((m: any) => JSON.stringify(m.blocks).includes('review.revoke')), 10_000, 'every request message updated with the Revoke button');
    const channel = requestMessages(id).find((m: any) => m.channel === 'C-REVIEWS')!;
    expect(JSON.stringify(channel.blocks)).toContain(`Open until <!date^${Math.floor(Date.parse(granted.access.endsAt) / 1000)}^`);
    const [revoke, ...others] = buttonsOf(channel.blocks);
    expect(others).toEqual([]);
    expect(revoke).toMatchObject({ action_id: 'review.revoke', style: 'danger', confirm: { confirm: { text: 'Revoke' } } });

    const dm = await eventually(async () => dmsTo('UALICE', id)[0], 10_000, "the requester's DM");
    expect(JSON.stringify(dm.args.blocks)).toContain('Your access request was approved: *Access for 30 minutes to prod-db*, until');
    expect(JSON.stringify(dm.args.blocks)).toContain('run without a per-command review');

    await eventually(async () => cardsOf(id).length === 2, 10_000, 'the granted card');
    expect(cardTitles(id)[1]).toMatch(/^🔓 Access granted: Access for 30 minutes to prod-db, until \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(cardsOf(id)[1].card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open', url: `https://hoop.example.com/reviews/${id}` }]);

    await eventually(async () => hooksOf(id).length === 1, 15_000, 'the webhook of review.access_granted');
    const [hook] = hooksOf(id);
    expect(hook).toMatchObject({ type: 'review.access_granted', data: { id, kind: 'access', status: 'GRANTED', access: { durationSec: 1800, endsAt: granted.access.endsAt } } });
    expect(receiver.received.filter((r) => r.body.includes(id)).every((r) => r.verified && r.answered === 200)).toBe(true);
  });

  it('refuses Revoke from an agent and from a Slack user not linked, tells them why, audits it, and leaves the window open', async () => {
    const agentText = await ephemeralAfter('UAGENT', () => t.slackPost(blockAction('UAGENT', 'review.revoke', revokeValue(id))));
    expect(agentText).toContain(AGENT_CANNOT_REVOKE);
    const strangerText = await ephemeralAfter('USTRANGER', () => t.slackPost(blockAction('USTRANGER', 'review.revoke', revokeValue(id))));
    expect(strangerText).toContain('/hoop subscribe');
    const denied = await audit(id, 'review.revoke_denied');
    expect(denied.map((e) => [e.source, e.actor])).toEqual([
      ['slack', 'ops-bot@agents.invalid'],
      ['slack', 'slack:USTRANGER'],
    ]);
    expect((await review(id)).status).toBe('GRANTED');
  });

  it('revoked with the Slack button by a reviewer: ENDED at once, audited from Slack, every channel told, no thread reply', async () => {
    await t.slackPost(blockAction('UBOB', 'review.revoke', revokeValue(id)));
    const ended = await eventually(async () => {
      const r = await review(id);
      return r.status === 'ENDED' && r;
    });
    expect(ended.access).toMatchObject({ revokedBy: 'bob@example.com', open: false });
    const [revoked] = await audit(id, 'review.access_revoked');
    expect(revoked).toMatchObject({ source: 'slack', actorId: bob.id, actor: 'bob@example.com' });

    await eventually(async () => requestMessages(id).every((m: any) => JSON.stringify(m.blocks).includes('Revoked by <@UBOB>')), 10_000, 'every request message updated');
    expect(requestMessages(id).flatMap((m: any) => buttonsOf(m.blocks))).toEqual([]);
    const dm = await eventually(async () => dmsTo('UALICE', id).find((c) => JSON.stringify(c.args.blocks).includes('was revoked')), 10_000, "the requester's DM");
    expect(JSON.stringify(dm.args.blocks)).toContain('Your access to *prod-db* was revoked by <@UBOB>');
    await eventually(async () => cardsOf(id).length === 3 && hooksOf(id).length === 2, 15_000, 'the revoked card and webhook');
    expect(cardTitles(id)[2]).toMatch(/^🔒 Access revoked by bob@example.com at /);
    expect(hooksOf(id)[1]).toMatchObject({ type: 'review.access_revoked', data: { id, status: 'ENDED', access: { revokedBy: 'bob@example.com' } } });
    // An access request has no result: nothing is posted in a thread.
    expect(t.slack.callsOf('chat.postMessage').filter((c) => c.args.thread_ts && JSON.stringify(c.args).includes(id))).toEqual([]);
    // A second click finds nothing open, and says so.
    expect(await ephemeralAfter('UBOB', () => t.slackPost(blockAction('UBOB', 'review.revoke', revokeValue(id))))).toMatch(/not open.*nothing to revoke/);
  });

  it("an admin's own window, granted at once, is shown to the reviewers with its Revoke button and sent to the webhook", async () => {
    const res = await t.api('POST', '/api/connections/prod-db/access', { body: { duration: '15m', reason: 'migration check' } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ status: 'GRANTED', autoApproved: true });
    const own = res.body.id as string;
    await eventually(async () => requestMessages(own).length === 1 && cardsOf(own).length === 1 && hooksOf(own).length === 1, 15_000, 'the grant announced');
    const [message] = requestMessages(own);
    expect(message.channel).toBe('C-REVIEWS');
    expect(JSON.stringify(message.blocks)).toContain("admin's own request, approved automatically");
    expect(buttonsOf(message.blocks).map((b: any) => b.action_id)).toEqual(['review.revoke']);
    expect(cardTitles(own)[0]).toMatch(/^🔓 Access granted: Access for 15 minutes to prod-db, until /);
    expect(hooksOf(own)[0]).toMatchObject({ type: 'review.access_granted', data: { id: own, autoApproved: true, status: 'GRANTED' } });
    expect((await t.api('PUT', `/api/reviews/${own}/revoke`, { body: {} })).body.status).toBe('ENDED');
  });

  it('a window that ends on time is announced as ended everywhere, and the sweep repairs its messages days after the grant', async () => {
    const second = await ask('2d');
    expect((await t.api('PUT', `/api/reviews/${second}/approve`, { key: bob.apiKey, body: {} })).body.status).toBe('GRANTED');
    await eventually(async () => dmsTo('UALICE', second).length === 1 && cardsOf(second).length === 2, 10_000, 'the grant announced');
    clock.advance(2 * 86_400_000 + 60_000);
    await eventually(async () => (await review(second)).status === 'ENDED', 10_000, 'the window recorded as ended');
    await eventually(async () => requestMessages(second).every((m: any) => JSON.stringify(m.blocks).includes('Ended at')), 10_000, 'the request messages updated');
    expect(requestMessages(second).flatMap((m: any) => buttonsOf(m.blocks))).toEqual([]);
    const dm = await eventually(async () => dmsTo('UALICE', second).find((c) => JSON.stringify(c.args.blocks).includes('ended at')), 10_000, "the requester's DM");
    expect(dm.args.text).toBe('Your access to prod-db has ended.');
    await eventually(async () => cardsOf(second).length === 3 && hooksOf(second).length === 2, 15_000, 'the ended card and webhook');
    expect(cardTitles(second)[2]).toMatch(/^🔒 Access ended at /);
    expect(hooksOf(second).map((h) => h.type)).toEqual(['review.access_granted', 'review.access_ended']);
    // Every card Teams was sent, it accepted (the fake refuses cards that break its rules).
    expect(teams.requests.every((r) => r.status === 202)).toBe(true);

    // An update lost (its messages still recorded as showing the grant), two days after the grant:
    // the sweep finds the window by its end, not its decision, and updates the messages again. The
    // sweep repairs by the wall clock, so the dates are set back rather than the clock moved on.
    await slackIdle();
    const updates = () => t.slack.callsOf('chat.update').filter((c) => JSON.stringify(c.args).includes(second)).length;
    const before = updates();
    const grantedAt = new Date(Date.now() - 2 * 86_400_000 - 60_000);
    await t.gateway.db.review.update({ where: { id: second }, data: { createdAt: grantedAt, decidedAt: grantedAt, accessEndsAt: new Date(Date.now() - 60_000) } });
    await t.gateway.db.channelMessage.updateMany({ where: { reviewId: second, channel: 'slack', kind: 'request' }, data: { state: 'GRANTED-A' } });
    await eventually(async () => updates() > before && (await t.gateway.db.channelMessage.findMany({ where: { reviewId: second, channel: 'slack', kind: 'request' } })).every((m) => m.state === 'ENDED-A'), 10_000, 'the sweep\'s repair');
  });
});
