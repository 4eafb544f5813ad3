// Channels are plug-ins (issue 10): a connection's `plugins` pick which channels announce its
// requests; with none listed, every channel configured on the gateway does. Slack and Teams end to
// end through a real gateway, the fake Slack and the fake Teams Workflows endpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTeams, type FakeTeams } from '../fakes/fake-teams.js';
import { startFakeWebhookReceiver, type FakeWebhookReceiver } from '../fakes/fake-webhook-receiver.js';
import { Queue } from 'bullmq';
import { queueNames } from '../../src/jobs/queues.js';
import { createTargetDatabase, REDIS_URL } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let teams: FakeTeams;
let receiver: FakeWebhookReceiver;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

const cardsOf = (reviewId: string, flow?: string) =>
  teams.accepted.filter((a) => JSON.stringify(a.card).includes(reviewId) && (flow === undefined || a.path.includes(flow)));
/** A card's headline (its first TextBlock). */
const titleOf = (card: any): string => card.body[0].text;
/** Jobs planned for `channel` about this review, in any state: what a channel was told to do, not only what has arrived yet. */
async function channelJobsOf(channel: 'slack' | 'teams', reviewId: string) {
  const queue = new Queue(queueNames(t.prefix)[channel], { connection: { url: REDIS_URL } });
  try {
    const jobs = await queue.getJobs(['completed', 'failed', 'delayed', 'waiting', 'active', 'prioritized']);
    return jobs.filter((j) => j?.data?.reviewId === reviewId);
  } finally {
    await queue.close();
  }
}
const slackPostsOf = (reviewId: string) => t.slack.calls.filter((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args).includes(reviewId));

async function connection(name: string, extra: Record<string, unknown> = {}) {
  const res = await t.api('POST', '/api/connections', { body: { name, url: target.url, reviewers: ['dba-team'], reviewMode: 'all', ...extra } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.connection;
}

async function submit(conn: string) {
  const res = await t.api('POST', `/api/connections/${conn}/exec`, { key: alice.apiKey, body: { input: `UPDATE users SET status = 'x' WHERE id = 1 -- ${conn}`, reason: 'OPS-7' } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/** Approves as dana, then waits for the run's end as a requester's CLI does. */
async function approve(id: string) {
  const res = await t.api('PUT', `/api/reviews/${id}/approve`, { key: dana.apiKey });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return t.api('GET', `/api/reviews/${id}?wait=10`, { key: alice.apiKey });
}

beforeAll(async () => {
  teams = await startFakeTeams();
  receiver = await startFakeWebhookReceiver();
  t = await startTestGateway({ env: { TEAMS_WEBHOOK_URL: teams.urlOf('default'), PUBLIC_URL: 'https://hoop.example.com', WEBHOOK_ALLOW_PRIVATE: 'true' } });
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
});

afterAll(async () => {
  await t?.stop();
  await teams?.close();
  await receiver?.stop();
  await target?.drop();
});

describe('a connection without plugins', () => {
  it('is announced on every configured channel, and each follows the request to its result', async () => {
    await connection('all-channels');
    const id = await submit('all-channels');
    await eventually(async () => slackPostsOf(id).length > 0 && cardsOf(id, 'default').length > 0, 10_000, 'a Slack post and a Teams card');
    const created = cardsOf(id, 'default')[0].card;
    const text = JSON.stringify(created);
    expect(text).toContain('all-channels');
    expect(text).toContain(`https://hoop.example.com/reviews/${id}`);
    expect((await approve(id)).body.status).toBe('EXECUTED');
    // Approved, then executed: one follow-up card each, and the result in Slack's thread.
    await eventually(async () => cardsOf(id).length >= 3, 10_000, 'the approval and result cards');
    await eventually(async () => t.slack.calls.some((c) => c.method === 'chat.postMessage' && c.args.thread_ts && JSON.stringify(c.args).includes(id)), 10_000, 'the thread reply');
    expect(cardsOf(id).length).toBe(3);
  });
});

describe('an impact preview', () => {
  it('reaches Teams as a card of its own and Slack as an update of the request message, in the same words', async () => {
    await connection('previewed', { previewMode: 'auto' });
    const id = await submit('previewed');
    const card = await eventually(async () => cardsOf(id, 'default').find((a) => titleOf(a.card).startsWith('🔍 Impact preview')), 10_000, 'the preview card');
    const text = JSON.stringify(card.card);
    expect(text).toContain('would update 1 row in users');
    expect(text).toContain('**Impact preview**');
    // The sample (the row as the UPDATE would leave it) in monospace, and the card's buttons to decide.
    expect(card.card.body.some((b: any) => b.fontType === 'Monospace' && String(b.text).includes('status'))).toBe(true);
    expect(card.card.actions.map((a: any) => a.title)).toEqual(['Approve', 'Reject', 'Open']);
    await eventually(async () => t.slack.calls.some((c) => c.method === 'chat.update' && JSON.stringify(c.args.blocks).includes(id) && JSON.stringify(c.args.blocks).includes('would update 1 row in users')), 10_000, 'the Slack message updated');
    await t.api('PUT', `/api/reviews/${id}/reject`, { key: dana.apiKey, body: { reason: 'not now' } });
  });
});

describe('plugins per connection', () => {
  it('with plugins: teams, posts nothing to Slack', async () => {
    const c = await connection('teams-only', { plugins: ['teams'] });
    expect(c.plugins).toEqual(['teams']);
    const id = await submit('teams-only');
    await eventually(async () => cardsOf(id).length > 0, 10_000, 'a Teams card');
    expect((await approve(id)).body.status).toBe('EXECUTED');
    await eventually(async () => cardsOf(id).length >= 3, 10_000, 'the follow-up cards');
    // The other channel's jobs are never planned, so nothing can arrive later either.
    expect(slackPostsOf(id)).toEqual([]);
    expect(t.slack.calls.filter((c) => JSON.stringify(c.args ?? {}).includes(id))).toEqual([]);
    expect(await channelJobsOf('slack', id)).toEqual([]);
  });

  it('with plugins: slack, posts no Teams card', async () => {
    await connection('slack-only', { plugins: ['slack'] });
    const id = await submit('slack-only');
    await eventually(async () => slackPostsOf(id).length > 0, 10_000, 'a Slack post');
    expect((await approve(id)).body.status).toBe('EXECUTED');
    await eventually(async () => t.slack.calls.some((c) => c.args?.thread_ts && JSON.stringify(c.args).includes(id)), 10_000, 'the thread reply');
    expect(cardsOf(id)).toEqual([]);
    // Not only not arrived yet: no Teams job was ever planned for it.
    expect(await channelJobsOf('teams', id)).toEqual([]);
  });

  it('posts to the connection\'s own Workflows URL, which is never shown again', async () => {
    const c = await connection('own-flow', { teamsWebhookUrl: teams.urlOf('own'), plugins: ['teams'] });
    expect(c.teamsWebhookUrlSet).toBe(true);
    expect(JSON.stringify(c)).not.toContain('sig=');
    const listed = (await t.api('GET', '/api/connections')).body.connections.find((x: any) => x.name === 'own-flow');
    expect(JSON.stringify(listed)).not.toContain(teams.urlOf('own').split('?')[0].split('/').pop());
    expect(listed.teamsWebhookUrlSet).toBe(true);
    const id = await submit('own-flow');
    await eventually(async () => cardsOf(id, 'own').length > 0, 10_000, 'a card on the connection\'s flow');
    expect(cardsOf(id, 'default')).toEqual([]);
  });

  it('refuses unknown plugins and insecure Teams URLs with what to use instead, and stores nothing', async () => {
    for (const plugins of [['slak'], ['teams', 'email'], 'slack', [1]]) {
      const res = await t.api('POST', '/api/connections', { body: { name: 'bad-plugins', url: target.url, reviewers: ['dba-team'], plugins } });
      expect(res.status, JSON.stringify(plugins)).toBe(400);
      expect(res.body.error.message).toMatch(/plugins/);
    }
    for (const url of ['http://teams.example.com/flow', 'ftp://x/y', 'not a url', 'https://user:pw@teams.example.com/x', 42]) {
      const res = await t.api('POST', '/api/connections', { body: { name: 'bad-plugins', url: target.url, reviewers: ['dba-team'], teamsWebhookUrl: url } });
      expect(res.status, String(url)).toBe(400);
      expect(res.body.error.message).toMatch(/https:\/\/.*Workflows/);
    }
    const listed = (await t.api('GET', '/api/connections')).body.connections.map((c: any) => c.name);
    expect(listed).not.toContain('bad-plugins');
  });

  it('changes a connection\'s plugins with overwrite, and back to every channel with an empty list', async () => {
    await connection('switching', { plugins: ['slack'] });
    const res = await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'switching', plugins: ['teams', 'slack', 'TEAMS'] } });
    expect(res.status).toBe(200);
    expect([...res.body.connection.plugins].sort()).toEqual(['slack', 'teams']);
    const back = await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'switching', plugins: [] } });
    expect(back.body.connection.plugins).toEqual([]);
  });
});

describe('a Teams outage', () => {
  it('neither blocks nor decides anything: the request is decided and run, Slack is told, and the cards follow once Teams is back', async () => {
    await connection('teams-down');
    teams.failNext({ status: 500 }, 4);
    const id = await submit('teams-down');
    await eventually(async () => slackPostsOf(id).length > 0, 10_000, 'the Slack post despite Teams');
    const r = (await t.api('GET', `/api/reviews/${id}`)).body;
    expect(r.status).toBe('PENDING');
    expect((await approve(id)).body.status).toBe('EXECUTED');
    // BullMQ retries the failed posts (2 s, 4 s, ...): each card arrives once.
    await eventually(async () => cardsOf(id).length >= 3, 25_000, 'the cards after the outage');
    // Each of the three cards once: the announcement, the approval and the result.
    const titles = cardsOf(id).map((a) => titleOf(a.card));
    expect(titles, JSON.stringify(titles)).toHaveLength(3);
    // The announcement posted after the outage shows the request as it is by then.
    for (const kind of [/^🔔 Access request/, /^✅ Approved by every group/, /^✅ Executed/]) expect(titles.filter((x) => kind.test(x)), `${kind} in ${JSON.stringify(titles)}`).toHaveLength(1);
  }, 40_000);
});

describe('signed webhooks through the gateway\'s own workers', () => {
  it('delivers each subscribed event of a request once, signed so a Standard Webhooks receiver verifies it', async () => {
    await connection('hooked', { plugins: ['webhooks'] });
    const created = await t.api('POST', '/api/webhooks', { body: { url: `${receiver.url}/hoop`, events: ['review.created', 'review.approved', 'review.executed'], connections: ['hooked'] } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.webhook.secret).toMatch(/^whsec_/);
    receiver.setSecret(created.body.webhook.secret);
    const id = await submit('hooked');
    expect((await approve(id)).body.status).toBe('EXECUTED');
    const got = await receiver.waitFor(3, 15_000);
    const mine = got.filter((r) => r.body.includes(id));
    expect(mine.map((r) => JSON.parse(r.body).type).sort()).toEqual(['review.approved', 'review.created', 'review.executed']);
    // Verified by the standardwebhooks package in the receiver (a bad signature is answered 400).
    expect(mine.every((r) => r.answered === 200 && r.verified)).toBe(true);
    const executed = JSON.parse(mine.find((r) => JSON.parse(r.body).type === 'review.executed')!.body);
    expect(executed.data).toMatchObject({ id, status: 'EXECUTED', connection: 'hooked' });
    expect(JSON.stringify(executed)).not.toContain(target.url);
    // Plugins: webhooks only, so neither Slack nor Teams heard of it.
    expect(slackPostsOf(id)).toEqual([]);
    expect(cardsOf(id)).toEqual([]);
    // Not only not arrived yet: no Teams job was ever planned for it.
    expect(await channelJobsOf('teams', id)).toEqual([]);
    const deliveries = await t.api('GET', `/api/webhooks/${created.body.webhook.id}/deliveries`);
    expect(deliveries.status).toBe(200);
    expect(JSON.stringify(deliveries.body)).toContain('succeeded');
  });
  it('delivers a group approval, a rejection, an expiry and a failure from real transitions, each with the status the request reached', async () => {
    const hooks = await startFakeWebhookReceiver();
    try {
      const sam = await t.createUser('sam@example.com', ['security']);
      await connection('two-groups', { plugins: ['webhooks'], reviewers: ['dba-team', 'security'] });
      const made = await t.api('POST', '/api/webhooks', { body: { url: `${hooks.url}/two`, events: ['review.group_approved', 'review.rejected', 'review.expired', 'review.failed'], connections: ['two-groups'] } });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      hooks.setSecret(made.body.webhook.secret);
      const bodies = () => hooks.received.map((r) => r.verified as { type: string; data: { id: string; status: string; error: string | null } });
      const arrived = async (id: string, type: string) => {
        await eventually(async () => bodies().some((b) => b.data.id === id && b.type === type), 15_000, `${type} of ${id}`);
        return bodies().filter((b) => b.data.id === id && b.type === type);
      };
      const submitTwo = async (input: string) => {
        const res = await t.api('POST', '/api/connections/two-groups/exec', { key: alice.apiKey, body: { input, reason: 'OPS-8' } });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        return res.body.id as string;
      };

      // Two groups: the first approval is a group approval (the request still pending), the second
      // approves it, and the command fails on the target.
      const failing = await submitTwo('UPDATE users SET status = (1/0)::text WHERE id = 1');
      expect((await t.api('PUT', `/api/reviews/${failing}/approve`, { key: dana.apiKey })).status).toBe(200);
      expect((await arrived(failing, 'review.group_approved')).map((b) => b.data.status)).toEqual(['PENDING']);
      expect((await t.api('PUT', `/api/reviews/${failing}/approve`, { key: sam.apiKey })).status).toBe(200);
      const [failed] = await arrived(failing, 'review.failed');
      expect(failed.data.status).toBe('FAILED');
      expect(failed.data.error).toMatch(/division by zero/);

      const rejecting = await submitTwo("UPDATE users SET status = 'r' WHERE id = 1");
      expect((await t.api('PUT', `/api/reviews/${rejecting}/reject`, { key: dana.apiKey, body: { reason: 'not today' } })).status).toBe(200);
      expect((await arrived(rejecting, 'review.rejected')).map((b) => b.data.status)).toEqual(['REJECTED']);

      // Its time runs out: the gateway's own sweep expires it.
      const expiring = await submitTwo("UPDATE users SET status = 'e' WHERE id = 1");
      await t.gateway.db.review.update({ where: { id: expiring }, data: { expiresAt: new Date(Date.now() - 1000) } });
      expect((await arrived(expiring, 'review.expired')).map((b) => b.data.status)).toEqual(['EXPIRED']);

      // Each once, verified, and nothing it did not subscribe to.
      expect(hooks.received.every((r) => r.answered === 200 && r.verified)).toBe(true);
      expect(bodies().map((b) => `${b.type} ${b.data.id}`).sort()).toEqual(
        [`review.group_approved ${failing}`, `review.failed ${failing}`, `review.rejected ${rejecting}`, `review.expired ${expiring}`].sort(),
      );
    } finally {
      await hooks.stop();
    }
  }, 40_000);
});
