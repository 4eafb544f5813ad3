// Long texts and many groups through the real gateway and a fake Slack as strict as Slack: nothing
// may make chat.postMessage, chat.update or views.open fail, and when Slack refuses a rendering
// anyway, a minimal one still takes the buttons away and brings the result to the thread.
import { WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SlackCall } from '../fakes/fake-slack.js';
import { blockAction, slashCommand } from '../fakes/slack-requests.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };
const MANY = Array.from({ length: 12 }, (_, i) => `g${String(i).padStart(2, '0')}-${'reviewers-with-a-rather-long-name'.repeat(2)}`.slice(0, 63));

const mentions = (c: SlackCall, id: string) => JSON.stringify(c.args.blocks ?? '').includes(id) || String(c.args.text ?? '').includes(id);
const review = async (id: string) => (await t.api('GET', `/api/reviews/${id}`)).body;

async function submit(connection: string, input: string, key = alice.apiKey, reason = 'OPS-7') {
  const res = await t.api('POST', `/api/connections/${connection}/exec`, { key, body: { input, reason } });
  expect(res.status).toBe(201);
  return res.body;
}

async function subscribe(slackId: string, email: string) {
  t.slack.users.set(slackId, { email });
  expect((await t.slackPost(slashCommand(slackId, 'subscribe'))).body.text).toContain('Subscribed');
}

beforeAll(async () => {
  t = await startTestGateway();
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  await t.createUser('multi@example.com', MANY);
  await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
  await t.api('POST', '/api/connections', { body: { name: 'many-groups', url: target.url, reviewers: MANY, reviewMode: 'all' } });
  await subscribe('UALICE', 'alice@example.com');
  await subscribe('UDANA', 'dana@example.com');
  await subscribe('UMULTI', 'multi@example.com');
});

afterEach(() => {
  // Whatever a test did, Slack never had a reason to refuse a call of ours.
  expect(t.slack.refused.map((r) => `${r.call.method}: ${JSON.stringify(r.answer)}`)).toEqual([]);
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('a request whose texts are longer than Slack allows', () => {
  it('is rejected through the API with the longest reason it accepts, which escaping makes 3,500 characters: every message updated, buttons gone, the reason cut visibly', async () => {
    const r = await submit('prod-db', 'DELETE FROM users WHERE id = 3');
    await t.slack.waitFor((cs) => cs.filter((c) => c.method === 'chat.postMessage' && mentions(c, r.id)).length === 2);
    const tooLong = await t.api('PUT', `/api/reviews/${r.id}/reject`, { key: dana.apiKey, body: { reason: 'x'.repeat(1001) } });
    expect(tooLong.status).toBe(400);
    const reason = 'a&<>'.repeat(250); // 1,000 characters; Slack's escaping (&amp; &lt; &gt;) makes them 3,500
    expect((await t.api('PUT', `/api/reviews/${r.id}/reject`, { key: dana.apiKey, body: { reason } })).status).toBe(200);
    const messages = await t.gateway.db.channelMessage.findMany({ where: { channel: 'slack', reviewId: r.id, kind: 'request' } });
    expect(messages).toHaveLength(2);
    for (const m of messages) {
      const update = (await t.slack.waitFor((cs) => cs.some((c) => c.method === 'chat.update' && c.args.ts === m.messageRef && JSON.stringify(c.args.blocks).includes('Rejected')))).filter((c) => c.method === 'chat.update' && c.args.ts === m.messageRef).at(-1)!;
      const json = JSON.stringify(update.args.blocks);
      expect(json).not.toContain('review.approve');
      expect(json).toMatch(/reason cut: \d+ of \d+ characters shown/);
    }
    await t.slack.waitFor((cs) => cs.some((c) => c.method === 'chat.postMessage' && c.args.channel === 'UALICE' && mentions(c, r.id) && JSON.stringify(c.args.blocks).includes('rejected')));
    expect((await review(r.id)).rejectReason).toBe(reason);
  });

  it('fails with a 10 kB database error that reaches every thread, cut visibly', async () => {
    const r = await submit('prod-db', "DO $$ BEGIN RAISE EXCEPTION '%', repeat('e', 10240); END $$");
    expect((await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: dana.apiKey })).status).toBe(200);
    await eventually(async () => (await review(r.id)).status === 'FAILED');
    const replies = await t.slack.waitFor((cs) => cs.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts && mentions(c, r.id)).length === 2);
    for (const c of replies.filter((x) => x.method === 'chat.postMessage' && x.args.thread_ts && mentions(x, r.id))) {
      expect(JSON.stringify(c.args.blocks)).toMatch(/Failed\* on prod-db: e+… _\(error cut: \d+ of 10240 characters shown/);
    }
    await t.slack.waitFor((cs) => cs.some((c) => c.method === 'chat.postMessage' && c.args.channel === 'UALICE' && mentions(c, r.id) && JSON.stringify(c.args.blocks).includes('error cut')));
  });

  it('runs with 300 kB of output that reaches the thread cut at Slack\'s limit', async () => {
    const r = await submit('prod-db', "SELECT repeat('r', 300) AS wide FROM generate_series(1, 1000)");
    expect((await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: dana.apiKey })).status).toBe(200);
    const replies = await t.slack.waitFor((cs) => cs.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts && mentions(c, r.id)).length === 2);
    const reply = replies.find((c) => c.method === 'chat.postMessage' && c.args.thread_ts && mentions(c, r.id))!;
    expect(JSON.stringify(reply.args.blocks)).toContain('Output cut here');
  });

  it('is posted, decided and updated with 12 reviewer groups of long names', async () => {
    const r = await submit('many-groups', 'UPDATE users SET status = status WHERE id = 1');
    const posts = await t.slack.waitFor((cs) => cs.filter((c) => c.method === 'chat.postMessage' && mentions(c, r.id)).length === 2);
    const first = posts.find((c) => c.method === 'chat.postMessage' && mentions(c, r.id))!;
    expect(first.args.blocks.filter((b: any) => b.type === 'actions')).toHaveLength(12);
    for (const b of first.args.blocks.filter((x: any) => x.type === 'actions')) expect(b.elements[0].text.text.length).toBeLessThanOrEqual(75);
    await t.slackPost(blockAction('UMULTI', 'review.approve', JSON.stringify({ reviewId: r.id, group: MANY[3] })));
    await eventually(async () => (await review(r.id)).approvals.approved === 1);
    await t.slack.waitFor((cs) => cs.some((c) => c.method === 'chat.update' && mentions(c, r.id) && JSON.stringify(c.args.blocks).includes('Approved by 1 of 12 groups')));
  });

  it('is posted for a requester whose email is 250 characters long', async () => {
    const email = `${'a'.repeat(240)}@example.com`;
    const long = await t.createUser(email, ['developers']);
    const r = await submit('prod-db', 'SELECT 1', long.apiKey, 'r&'.repeat(1000));
    const posted = await t.slack.waitFor((cs) => cs.some((c) => c.method === 'chat.postMessage' && mentions(c, r.id)));
    expect(JSON.stringify(posted.find((c) => c.method === 'chat.postMessage' && mentions(c, r.id))!.args.blocks)).toContain('aaaa');
  });

  it('opens the reject modal for a 63-character group name', async () => {
    const r = await submit('many-groups', 'DELETE FROM users WHERE id = 2');
    await t.slackPost(blockAction('UMULTI', 'review.reject', JSON.stringify({ reviewId: r.id, group: MANY[11] })));
    await t.slack.waitFor((cs) => cs.some((c) => c.method === 'views.open' && c.args.view.private_metadata.includes(r.id)));
  });
});

describe('when Slack refuses a rendering anyway', () => {
  it('updates a decided request with the minimal rendering: status, no buttons, no code', async () => {
    const r = await submit('prod-db', 'UPDATE users SET status = status WHERE id = 2');
    await t.slack.waitFor((cs) => cs.filter((c) => c.method === 'chat.postMessage' && mentions(c, r.id)).length === 2);
    t.slack.failNext('chat.update', { error: 'invalid_blocks', match: (args) => JSON.stringify(args.blocks).includes(r.id) && JSON.stringify(args.blocks).includes('```') }, 2);
    expect((await t.api('PUT', `/api/reviews/${r.id}/reject`, { key: dana.apiKey, body: { reason: 'no' } })).status).toBe(200);
    const calls = await t.slack.waitFor((cs) => cs.filter((c) => c.method === 'chat.update' && mentions(c, r.id) && !JSON.stringify(c.args.blocks).includes('```')).length === 2);
    for (const c of calls.filter((x) => x.method === 'chat.update' && mentions(x, r.id) && !JSON.stringify(x.args.blocks).includes('```'))) {
      expect(JSON.stringify(c.args.blocks)).toContain('Rejected');
      expect(c.args.blocks.some((b: any) => b.type === 'actions')).toBe(false);
    }
    await eventually(async () => (await t.gateway.db.channelMessage.findMany({ where: { channel: 'slack', reviewId: r.id, kind: 'request' } })).every((m) => m.state?.startsWith('REJECTED')));
  });

  it('still brings the result to the thread', async () => {
    const r = await submit('prod-db', 'SELECT 424242 AS answer');
    await t.slack.waitFor((cs) => cs.filter((c) => c.method === 'chat.postMessage' && mentions(c, r.id)).length === 2);
    t.slack.failNext('chat.postMessage', { error: 'invalid_blocks', match: (args) => Boolean(args.thread_ts) && JSON.stringify(args.blocks).includes('424242') }, 2);
    expect((await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: dana.apiKey })).status).toBe(200);
    const calls = await t.slack.waitFor((cs) => cs.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts && mentions(c, r.id) && !JSON.stringify(c.args.blocks).includes('424242')).length === 2);
    const safe = calls.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts && mentions(c, r.id) && !JSON.stringify(c.args.blocks).includes('424242'));
    for (const c of safe) expect(JSON.stringify(c.args.blocks)).toContain(`hoop get review ${r.id}`);
    // The fake Slack records a post when it arrives; the gateway stores the message after Slack answers.
    await eventually(async () => (await t.gateway.db.channelMessage.count({ where: { channel: 'slack', reviewId: r.id, kind: 'result' } })) === 2, 10_000, 'both result messages stored');
  });
});

describe('the fake Slack', () => {
  const quiet = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => 'error' as never, setName() {} };
  const client = (token = 'xoxb-test') => new WebClient(token, { slackApiUrl: t.slack.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logger: quiet });
  const refusal = (p: Promise<unknown>) => p.then(() => null, (e: { data?: Record<string, unknown> }) => e.data ?? null);

  afterEach(() => {
    t.slack.refused.length = 0;
  });

  it('refuses a wrong token, an over-long block, an over-long text and an invalid modal as Slack does', async () => {
    expect(await refusal(client('xoxb-wrong').chat.postMessage({ channel: 'C1', text: 'hi' }))).toMatchObject({ error: 'invalid_auth' });
    expect(await refusal(client().chat.postMessage({ channel: 'C1', text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 's'.repeat(3001) } }] }))).toMatchObject({
      error: 'invalid_blocks',
      errors: ['must be less than 3001 characters [json-pointer:/blocks/0/text/text]'],
    });
    expect(await refusal(client().chat.update({ channel: 'C1', ts: '1.2', text: 'x', blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) }))).toMatchObject({ error: 'invalid_blocks' });
    const button = (value: string, text = 'ok') => ({ type: 'actions', elements: [{ type: 'button', action_id: 'a', text: { type: 'plain_text', text }, value }] });
    expect(await refusal(client().chat.postMessage({ channel: 'C1', text: 'x', blocks: [button('v'.repeat(2001))] }))).toMatchObject({ error: 'invalid_blocks' });
    expect(await refusal(client().chat.postMessage({ channel: 'C1', text: 'x', blocks: [button('v', 'b'.repeat(76))] }))).toMatchObject({ error: 'invalid_blocks' });
    expect(await refusal(client().chat.postMessage({ channel: 'C1', text: 't'.repeat(40_001) }))).toMatchObject({ error: 'msg_too_long' });
    expect(await refusal(client().chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'x', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] }))).toMatchObject({ error: 'invalid_blocks' });
    const view = { type: 'modal' as const, title: { type: 'plain_text' as const, text: 'A title of twenty-five ch' }, blocks: [] };
    expect(await refusal(client().views.open({ trigger_id: 't', view }))).toMatchObject({ error: 'invalid_arguments' });
    expect(t.slack.refused).toHaveLength(8);
  });

  it('still answers 429 with Retry-After when told to', async () => {
    t.slack.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
    const e = await client().chat.postMessage({ channel: 'C1', text: 'hi' }).catch((error) => error);
    expect(e.code).toBe('slack_webapi_rate_limited_error');
    expect(e.retryAfter).toBe(7);
  });
});
