// Slack App Home (issue 10): the Home tab published on app_home_opened and after every change of a
// request that concerns the person, built from the API's visibility rules; its buttons decide
// through the same handlers as the request messages. A real gateway, the strict fake Slack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appHomeOpened, homeBlockAction } from '../fakes/slack-requests.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };
let sam: { id: string; apiKey: string };

const publishes = (user: string) => t.slack.callsOf('views.publish').filter((c) => c.args.user_id === user);
const homeText = (user: string) => JSON.stringify(t.slack.homes.get(user) ?? null);

async function subscribe(slackId: string, email: string) {
  t.slack.users.set(slackId, { email });
  const res = await t.slackPost({ command: '/hoop', text: 'subscribe', user_id: slackId, channel_id: 'C1', team_id: 'T1', response_url: 'https://x.invalid', trigger_id: `t-${slackId}` });
  expect(res.status).toBe(200);
}

async function submit(conn: string, input: string, key = alice.apiKey) {
  const res = await t.api('POST', `/api/connections/${conn}/exec`, { key, body: { input, reason: 'OPS-9' } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/** Opens the Home tab as `user` and returns the view Slack was given for it. */
async function openHome(user: string) {
  const before = publishes(user).length;
  const res = await t.slackEvent(appHomeOpened(user));
  expect(res.status).toBe(200);
  await eventually(async () => publishes(user).length > before, 10_000, `a views.publish for ${user}`);
  return publishes(user).at(-1)!.args;
}

beforeAll(async () => {
  t = await startTestGateway();
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  await t.createUser('dana@example.com', ['dba-team']);
  await t.createUser('zoe@example.com', ['finance']);
  sam = await t.createUser('sam@example.com', ['sec-team']);
  await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
  // Restricted to sec-team, reviewed by sec-team: nobody else may see its requests.
  await t.api('POST', '/api/connections', { body: { name: 'vault-db', url: target.url, reviewers: ['sec-team'], allowedGroups: ['sec-team'], reviewMode: 'all' } });
  for (const [id, email] of [['UALICE', 'alice@example.com'], ['UDANA', 'dana@example.com'], ['UZOE', 'zoe@example.com'], ['USAM', 'sam@example.com']]) await subscribe(id, email);
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('opening the Home tab', () => {
  let id: string;
  let secret: string;
  beforeAll(async () => {
    id = await submit('prod-db', "UPDATE users SET status = 'home' WHERE id = 1\n-- and a second line");
    secret = await submit('vault-db', "UPDATE users SET status = 'vault-only' WHERE id = 2", sam.apiKey);
  });

  it('shows a reviewer what waits for them, with the buttons of the request message', async () => {
    const args = await openHome('UDANA');
    expect(args.view.type).toBe('home');
    const s = JSON.stringify(args.view);
    expect(s).toContain('Waiting for you');
    expect(s).toContain(id);
    expect(s).toContain('prod-db');
    expect(s).toContain("UPDATE users SET status = 'home' WHERE id = 1…");
    expect(s).not.toContain('a second line');
    expect(s).toMatch(/expires in (59|60) min/);
    expect(s).toContain('0 of 1 group approved');
    const buttons = args.view.blocks.filter((b: any) => b.type === 'actions').flatMap((b: any) => b.elements);
    expect(buttons.map((b: any) => b.action_id)).toEqual(['review.approve', 'review.reject']);
    expect(JSON.parse(buttons[0].value)).toEqual({ reviewId: id, group: 'dba-team' });
    // Never a request of a connection the reviewer may not use.
    expect(s).not.toContain(secret);
    expect(s).not.toContain('vault-db');
  });

  it('shows a requester their request with its status, and nothing to decide', async () => {
    const s = JSON.stringify((await openHome('UALICE')).view);
    expect(s).toContain('Your requests');
    expect(s).toContain(id);
    expect(s).toContain('Waiting for approval');
    expect(s).toContain('Nothing is waiting for your decision');
    expect(s).not.toContain('review.approve');
  });

  it('shows someone outside every group nothing of anyone', async () => {
    const s = JSON.stringify((await openHome('UZOE')).view);
    expect(s).toContain('Nothing is waiting for your decision');
    expect(s).toContain('You have not made any request yet');
    expect(s).not.toContain(id);
    expect(s).not.toContain(secret);
  });

  it('tells a Slack account that is not linked how to link it', async () => {
    const s = JSON.stringify((await openHome('UNOBODY')).view);
    expect(s).toContain('/hoop subscribe');
    expect(s).not.toContain(id);
  });

  // Zoe is concerned by no request, so no refresh job publishes her Home meanwhile.
  it('publishes nothing when the Messages tab is opened', async () => {
    const before = publishes('UZOE').length;
    expect((await t.slackEvent(appHomeOpened('UZOE', 'messages'))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(publishes('UZOE').length).toBe(before);
  });

  it('refuses an event signed with another secret', async () => {
    const before = publishes('UZOE').length;
    expect((await t.slackEvent(appHomeOpened('UZOE'), { secret: 'not-the-secret-0123456789' })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(publishes('UZOE').length).toBe(before);
  });
});

describe('deciding from the Home tab', () => {
  it('approves through the same path as the request message (audited as from Slack) and republishes both Homes', async () => {
    const id = await submit('prod-db', "UPDATE users SET status = 'from-home' WHERE id = 3");
    // The new request reaches the reviewer's Home without them opening it again.
    await eventually(async () => homeText('UDANA').includes(id), 10_000, 'the new request on the reviewer Home');
    const value = JSON.stringify({ reviewId: id, group: 'dba-team' });
    expect((await t.slackPost(homeBlockAction('UDANA', 'review.approve', value))).status).toBe(200);
    const done = await t.api('GET', `/api/reviews/${id}?wait=10`, { key: alice.apiKey });
    expect(done.body.status).toBe('EXECUTED');
    const events = (await t.api('GET', `/api/reviews/${id}/events`)).body.events as { action: string; source: string; actor: string }[];
    expect(events.find((e) => e.action === 'review.approved')).toMatchObject({ source: 'slack', actor: 'dana@example.com' });
    // Republished: gone from the reviewer's list, executed on the requester's.
    await eventually(async () => !homeText('UDANA').includes(id), 10_000, 'the request leaving the reviewer Home');
    await eventually(async () => /Approved and executed[^"]*prod-db/.test(homeText('UALICE')) && homeText('UALICE').includes(id), 10_000, 'the executed status on the requester Home');
    // Never the output on a Home.
    expect(homeText('UALICE')).not.toContain('UPDATE 1');
  });

  it('rejects through the reject modal, as from a message', async () => {
    const id = await submit('prod-db', "UPDATE users SET status = 'reject-home' WHERE id = 4");
    const before = t.slack.callsOf('views.open').length;
    await t.slackPost(homeBlockAction('UDANA', 'review.reject', JSON.stringify({ reviewId: id, group: 'dba-team' })));
    await eventually(async () => t.slack.callsOf('views.open').length > before, 10_000, 'the reject modal');
    expect(JSON.parse(t.slack.callsOf('views.open').at(-1)!.args.view.private_metadata)).toMatchObject({ reviewId: id, group: 'dba-team' });
  });
});

describe('limits', () => {
  it('shows 10 of 12 waiting requests, and a note with the command that lists them all', async () => {
    const ids: string[] = [];
    const before = publishes('UDANA').length;
    for (let i = 0; i < 12; i++) ids.push(await submit('prod-db', `UPDATE users SET status = 'bulk-${i}' WHERE id = ${10 + i}`));
    await eventually(async () => homeText('UDANA').includes(ids[11]), 10_000, 'the burst on the reviewer Home');
    // A burst is published per time slot, not once per request.
    expect(publishes('UDANA').length - before).toBeLessThan(6);
    const view = (await openHome('UDANA')).view;
    const s = JSON.stringify(view);
    const shown = ids.filter((id) => s.includes(id));
    // Newest first: the last ten submitted.
    expect(shown).toEqual(ids.slice(2));
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(s).toMatch(/\d+ more requests wait for you/);
    expect(s).toContain('hoop admin get reviews');
  });

  it('waits out a 429 from views.publish and publishes after Retry-After', async () => {
    t.slack.failNext('views.publish', { status: 429, retryAfter: 1, match: (a) => a.user_id === 'UALICE' });
    const id = await submit('prod-db', "UPDATE users SET status = 'after-429' WHERE id = 30");
    await eventually(async () => homeText('UALICE').includes(id), 15_000, 'the Home after the 429');
    expect(t.slack.unusedFailures()).toEqual([]);
  });
});
