// `/hoop subscribe` never moves a link between people, trusts only an email Slack confirmed, and
// only the installed workspace may use the app at all (commands, clicks, modals).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockAction, rejectSubmission, slashCommand } from '../fakes/slack-requests.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import type { FakeSlackUser } from '../fakes/fake-slack.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };

async function subscribe(slackId: string, user: FakeSlackUser, teamId = 'T1'): Promise<string> {
  t.slack.users.set(slackId, user);
  const res = await t.slackPost(slashCommand(slackId, 'subscribe', teamId));
  expect(res.status).toBe(200);
  return res.body.text;
}

const linkOf = async (email: string) => (await t.gateway.db.identity.findFirst({ where: { provider: 'slack', user: { email } } }))?.externalId ?? null;
const refusals = (reason: string) => t.gateway.db.auditEvent.findMany({ where: { action: 'user.slack_link_refused' } }).then((es) => es.filter((e) => (e.detail as { reason?: string }).reason === reason));

beforeAll(async () => {
  t = await startTestGateway();
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  await t.createUser('bob@example.com', ['dba-team']);
  await t.createUser('carol@example.com', ['dba-team']);
  await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
  expect(await subscribe('UALICE', { email: 'alice@example.com' })).toContain('Subscribed as *alice@example.com*');
  expect(await subscribe('UBOB', { email: 'bob@example.com' })).toContain('Subscribed');
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('/hoop subscribe with an email that is already linked to another Slack account', () => {
  for (const [variant, email] of [['the same email', 'alice@example.com'], ['the email in other letter case', 'ALICE@Example.COM'], ['the email with spaces around it', '  alice@example.com ']]) {
    it(`refuses ${variant}, keeps the link, says what to do and tells the holder`, async () => {
      const before = (await refusals('email_linked_to_other_slack_account')).length;
      const dms = t.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === 'UALICE').length;
      const text = await subscribe('UMALLORY', { email });
      expect(text).toContain('already linked to another Slack account; nothing was changed');
      expect(text).toContain('/hoop unsubscribe');
      expect(await linkOf('alice@example.com')).toBe('UALICE');
      const dm = await t.slack.waitFor((cs) => cs.filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'UALICE').length > dms);
      expect(dm.filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'UALICE').at(-1)!.args.text).toMatch(/<@UMALLORY> tried to link .* alice@example.com .*refused; your link is unchanged/);
      const audit = await refusals('email_linked_to_other_slack_account');
      expect(audit).toHaveLength(before + 1);
      expect(audit.at(-1)!.detail).toMatchObject({ slackUserId: 'UMALLORY', previousSlackUserId: 'UALICE', email: 'alice@example.com' });
    });
  }
});

describe('/hoop subscribe from a Slack account already linked to another hoop user', () => {
  it('refuses, names the current link and says to unsubscribe first; then a fresh subscribe works', async () => {
    const text = await subscribe('UBOB', { email: 'carol@example.com' });
    expect(text).toContain('already linked to the hoop user bob@example.com');
    expect(text).toContain('Run `/hoop unsubscribe` first');
    expect(await linkOf('carol@example.com')).toBeNull();
    expect(await linkOf('bob@example.com')).toBe('UBOB');
    expect(await refusals('slack_account_linked_to_other_user')).toHaveLength(1);
    expect((await t.slackPost(slashCommand('UBOB', 'unsubscribe'))).body.text).toContain('Unsubscribed');
    expect(await subscribe('UBOB', { email: 'carol@example.com' })).toContain('Subscribed as *carol@example.com*');
    expect(await linkOf('carol@example.com')).toBe('UBOB');
  });

  it('answers a repeated subscribe of the same link as already done', async () => {
    expect(await subscribe('UALICE', { email: 'Alice@Example.com' })).toContain('already subscribed as *alice@example.com*');
  });
});

describe('/hoop subscribe from an account whose email Slack cannot vouch for', () => {
  const cases: [string, FakeSlackUser, string, RegExp][] = [
    ['an unconfirmed email', { email: 'dave@example.com', emailConfirmed: false }, 'email_not_confirmed', /Slack has not confirmed the email address on your profile \(dave@example.com\).*Confirm it in Slack/],
    ['a deactivated Slack account', { email: 'dave@example.com', deleted: true }, 'slack_account_deactivated', /deactivated/],
    ['a bot', { email: 'dave@example.com', isBot: true }, 'bot_account', /Bot accounts cannot subscribe/],
    ['an account of another workspace', { email: 'dave@example.com', teamId: 'T2' }, 'other_workspace', /another workspace/],
    ['no email at all', {}, 'no_email', /did not share an email address/],
  ];
  for (const [name, user, reason, message] of cases) {
    it(`refuses ${name}, links nothing and audits why`, async () => {
      await t.createUser(`dave-${reason}@example.com`, ['dba-team']);
      const text = await subscribe(`UDAVE_${reason.toUpperCase()}`, { ...user, email: user.email && `dave-${reason}@example.com` });
      expect(text).toMatch(new RegExp(message.source.replace('dave@example.com', `dave-${reason}@example.com`)));
      expect(await linkOf(`dave-${reason}@example.com`)).toBeNull();
      expect(await refusals(reason)).toHaveLength(1);
    });
  }

  it('still links the same person once Slack has confirmed the email', async () => {
    expect(await subscribe('UDAVE_EMAIL_NOT_CONFIRMED', { email: 'dave-email_not_confirmed@example.com' })).toContain('Subscribed');
  });
});

describe('a request from another Slack workspace', () => {
  const otherWorkspace = (action: string) => t.gateway.db.auditEvent.findMany({ where: { action: 'slack.other_workspace_refused' } }).then((es) => es.filter((e) => (e.detail as { kind?: string }).kind === action));

  it('is refused for a slash command, which links nothing', async () => {
    const text = await subscribe('UEVE', { email: 'carol@example.com' }, 'T2');
    expect(text).toContain('installed in another Slack workspace');
    expect(await linkOf('carol@example.com')).toBe('UBOB');
    expect((await t.slackPost(slashCommand('UALICE', 'unsubscribe', 'T2'))).body.text).toContain('another Slack workspace');
    expect(await linkOf('alice@example.com')).toBe('UALICE');
    expect(await otherWorkspace('command')).toHaveLength(2);
  });

  it('is refused for a button click and a modal submission, which decide nothing', async () => {
    const r = (await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: 'DELETE FROM users WHERE id = 1' } })).body;
    const value = JSON.stringify({ reviewId: r.id, group: 'dba-team' });
    expect((await t.slackPost(blockAction('UBOB', 'review.approve', value, 'C-REVIEWS', '1.1', 'T2'))).status).toBe(200);
    // A click is acknowledged before it is handled: give a wrongly accepted one time to decide.
    await new Promise((r) => setTimeout(r, 500));
    expect((await t.api('GET', `/api/reviews/${r.id}`)).body.status).toBe('PENDING');
    const modal = await t.slackPost(rejectSubmission('UBOB', JSON.stringify({ reviewId: r.id, group: 'dba-team' }), 'no', 'T2'));
    expect(modal.body).toMatchObject({ response_action: 'errors' });
    expect(modal.body.errors.reason).toContain('another Slack workspace');
    expect((await t.api('GET', `/api/reviews/${r.id}`)).body.status).toBe('PENDING');
    expect(await otherWorkspace('block_actions')).toHaveLength(1);
    expect(await otherWorkspace('view_submission')).toHaveLength(1);
    // The same click from the installed workspace decides.
    await t.slackPost(blockAction('UBOB', 'review.approve', value));
    await eventually(async () => (await t.gateway.db.auditEvent.count({ where: { reviewId: r.id, action: 'review.approved' } })) === 1, 10_000, 'the approval');
  });

  it('is told apart with the team id from auth.test, asked once', () => {
    expect(t.slack.callsOf('auth.test')).toHaveLength(1);
  });
});

describe('SLACK_TEAM_ID', () => {
  it('names the installed workspace instead of auth.test', async () => {
    const other = await startTestGateway({ env: { SLACK_TEAM_ID: 'T9' } });
    try {
      expect((await other.slackPost(slashCommand('UALICE', 'help', 'T1'))).body.text).toContain('another Slack workspace');
      expect((await other.slackPost(slashCommand('UALICE', 'help', 'T9'))).body.text).toContain('/hoop subscribe');
      expect(other.slack.callsOf('auth.test')).toHaveLength(0);
    } finally {
      await other.stop();
    }
  });

  it('without it, a Slack that cannot answer auth.test gets every request refused until it can', async () => {
    const other = await startTestGateway();
    try {
      other.slack.failNext('auth.test', { status: 500, error: 'internal_error' }, 3);
      expect((await other.slackPost(slashCommand('UALICE', 'help'))).body.text).toContain('could not check your Slack workspace');
      expect((await other.slackPost(slashCommand('UALICE', 'help'))).body.text).toContain('/hoop subscribe');
    } finally {
      await other.stop();
    }
  });
});
