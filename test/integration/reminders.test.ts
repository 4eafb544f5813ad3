// Reminders (issue 10): a request still pending at REVIEW_REMINDER_SEC reminds its reviewers once,
// on every channel of its connection: in Slack a reply in the thread of the request message and a
// DM to each linked reviewer who has not decided, in Teams a reminder card. None after a decision
// or the expiry, none with REVIEW_REMINDER_SEC=0. A real gateway, the fake Slack and fake Teams;
// the use cases' clock is a manual one (what "expired" and "expires in" mean), the queue's delays are real.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { startFakeTeams, type FakeTeams } from '../fakes/fake-teams.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const clock = createManualClock();
let t: TestGateway;
let off: TestGateway; // REVIEW_REMINDER_SEC=0
let teams: FakeTeams;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let keys: Record<string, string> = {}; // of t
const keysOf = new Map<TestGateway, Record<string, string>>();

const reminders = (g: TestGateway, id: string) => g.slack.messages.filter((m) => m.metadata?.event_payload.review_id === id && m.metadata.event_payload.kind === 'reminder');
const reminderCards = (id: string, flow = 'default') => teams.accepted.filter((a) => a.path.includes(flow) && JSON.stringify(a.card).includes(id) && JSON.stringify(a.card).includes('Reminder'));
const reminded = async (g: TestGateway, id: string) => ((await g.api('GET', `/api/reviews/${id}/events`)).body.events as { action: string }[]).filter((e) => e.action === 'review.reminded');

async function submit(g: TestGateway, conn = 'two-groups') {
  // The gateway's clock keeps time with the queue's until a test moves it (only t has that clock:
  // a submit to another gateway leaves it alone, so it can run beside t's tests).
  const at = Date.now();
  if (g === t) clock.set(new Date(at));
  const res = await g.api('POST', `/api/connections/${conn}/exec`, { key: keysOf.get(g)!.alice, body: { input: "UPDATE users SET status = 'remind' WHERE id = 1", reason: 'OPS-12' } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  if (g === t) expect(new Date(res.body.createdAt).getTime()).toBe(at);
  return { id: res.body.id as string, at };
}

async function setUp(g: TestGateway): Promise<Record<string, string>> {
  const keys: Record<string, string> = {};
  keysOf.set(g, keys);
  for (const [name, groups, slackId] of [['alice', ['developers'], 'UALICE'], ['dana', ['dba-team'], 'UDANA'], ['erin', ['dba-team'], 'UERIN'], ['sam', ['sec-team'], 'USAM']] as const) {
    keys[name] = (await g.createUser(`${name}@example.com`, [...groups])).apiKey;
    g.slack.users.set(slackId, { email: `${name}@example.com` });
    await g.slackPost({ command: '/hoop', text: 'subscribe', user_id: slackId, channel_id: 'C1', team_id: 'T1', response_url: 'https://x.invalid', trigger_id: `t-${slackId}` });
  }
  const res = await g.api('POST', '/api/connections', { body: { name: 'two-groups', url: target.url, reviewers: ['dba-team', 'sec-team'], reviewMode: 'all' } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return keys;
}

beforeAll(async () => {
  target = await createTargetDatabase();
  teams = await startFakeTeams();
  // Both started here, before any test: a start costs CPU, and the tests on t count on their
  // requests being decided well within 2 s.
  [t, off] = await Promise.all([
    startTestGateway({
      clock,
      // The sweep runs only when a test runs it.
      sweepIntervalMs: 600_000,
      env: { REVIEW_TIMEOUT_SEC: '3600', REVIEW_REMINDER_SEC: '2', TEAMS_WEBHOOK_URL: teams.urlOf('default'), PUBLIC_URL: 'https://hoop.example.com' },
    }),
    startTestGateway({ sweepIntervalMs: 1000, env: { REVIEW_TIMEOUT_SEC: '4', REVIEW_REMINDER_SEC: '0', TEAMS_WEBHOOK_URL: teams.urlOf('off'), PUBLIC_URL: 'https://hoop.example.com' } }),
  ]);
  keys = await setUp(t);
  await setUp(off);
});

afterAll(async () => {
  await t?.stop();
  await off?.stop();
  await teams?.close();
  await target?.drop();
});

// The tests on t run one after another (they set and move t's clock); the test on off, which only
// submits and waits, runs beside them.
describe.concurrent('with reminders at 2 s', () => {
  describe.sequential('a request still pending at REVIEW_REMINDER_SEC', () => {
    it('reminds once: a thread reply, DMs to the reviewers who have not decided, and a Teams card', async () => {
      const { id, at } = await submit(t);
      // dana decides for dba-team: sec-team is still pending, so only sam is waited for.
      expect((await t.api('PUT', `/api/reviews/${id}/approve`, { key: keys.dana })).status).toBe(200);
      await eventually(async () => reminders(t, id).length >= 2 && reminderCards(id).length >= 1, 10_000, 'the reminders');
      const posts = t.slack.callsOf('chat.postMessage').filter((c) => c.args.metadata?.event_payload?.review_id === id && c.args.metadata.event_payload.kind === 'reminder');
      // Not before its time.
      expect(Math.min(...posts.map((c) => c.at)) - at).toBeGreaterThanOrEqual(1900);
      const request = t.slack.messages.find((m) => m.channel === 'C-REVIEWS' && m.metadata?.event_payload.review_id === id && m.metadata.event_payload.kind === 'request')!;
      const thread = reminders(t, id).filter((m) => m.thread_ts);
      expect(thread.map((m) => [m.channel, m.thread_ts])).toEqual([['C-REVIEWS', request.ts]]);
      expect(JSON.stringify(thread[0].blocks)).toContain('Reminder: waiting for a decision');
      const dms = reminders(t, id).filter((m) => !m.thread_ts);
      expect(dms.map((m) => m.channel)).toEqual(['DSAM']);
      expect(JSON.stringify(dms[0].blocks)).toContain('Reminder: waiting for your decision');
      // Counted on the gateway's clock, which has not moved: the whole hour is left.
      expect(JSON.stringify(dms[0].blocks)).toContain('expires in 60 min');
      expect(JSON.stringify(dms[0].blocks)).toContain('waiting for sec-team');
      // No live buttons in a reminder (it is never updated).
      expect(JSON.stringify(dms[0].blocks)).not.toContain('review.approve');
      const card = reminderCards(id)[0].card;
      expect(JSON.stringify(card)).toContain('expires in 60 min');
      expect(card.actions.map((a: any) => a.title)).toEqual(['Approve', 'Reject', 'Open']);
      expect(card.actions[0].url).toBe(`https://hoop.example.com/reviews/${id}?action=approve`);
      expect(await reminded(t, id)).toHaveLength(1);

      // A second run (a retry) and the sweep change nothing.
      expect(await t.gateway.reviews.remindJob(id)).toBe('already-reminded');
      await t.gateway.reviews.sweep({ settle: false });
      await sleep(1500);
      expect(reminders(t, id)).toHaveLength(2);
      expect(reminderCards(id)).toHaveLength(1);
      expect(await reminded(t, id)).toHaveLength(1);
    });

    it('is re-planned by the sweep when its job was lost', async () => {
      const { id } = await submit(t);
      // Relayed to the queue, then lost there (a Redis flush, say).
      await eventually(async () => (await t.gateway.db.outboxJob.count({ where: { reviewId: id, name: 'review.remind' } })) === 0, 5000, 'the reminder job relayed');
      await t.gateway.jobs.remove('review.remind', `remind-${id}`);
      await sleep(2500);
      expect(reminders(t, id)).toHaveLength(0);
      expect(await reminded(t, id)).toHaveLength(0);
      await t.gateway.reviews.sweep({ settle: false });
      await eventually(async () => reminders(t, id).length >= 4 && reminderCards(id).length === 1, 10_000, 'the re-planned reminder');
      // Nobody decided: both reviewer groups' linked members get a DM (never the requester).
      expect(reminders(t, id).filter((m) => !m.thread_ts).map((m) => m.channel).sort()).toEqual(['DDANA', 'DERIN', 'DSAM']);
      expect(reminders(t, id).filter((m) => m.thread_ts)).toHaveLength(1);
      expect(await reminded(t, id)).toHaveLength(1);
    });
  });

  describe.sequential('no reminder', () => {
    it('after a decision', async () => {
      const { id } = await submit(t);
      expect((await t.api('PUT', `/api/reviews/${id}/reject`, { key: keys.sam, body: { reason: 'no' } })).status).toBe(200);
      await sleep(3000);
      expect(reminders(t, id)).toEqual([]);
      expect(reminderCards(id)).toEqual([]);
      expect(await reminded(t, id)).toEqual([]);
      expect(await t.gateway.reviews.remindJob(id)).toBe('not-pending');
    });

    // Last in this file: it moves the gateway's clock past every deadline.
    it('once the request is past its deadline, even before the expiry flipped it', async () => {
      const { id } = await submit(t);
      clock.advance(3601_000);
      // Still PENDING (the periodic expiry, every 5 s, flips it soon): the deadline alone stops it.
      const outcome = await t.gateway.reviews.remindJob(id);
      if (outcome === 'not-pending') expect((await t.api('GET', `/api/reviews/${id}`)).body.status).toBe('EXPIRED');
      else expect(outcome).toBe('expired');
      // And the job itself, due 2 s after the request, reminds nobody.
      await sleep(3000);
      expect(reminders(t, id)).toEqual([]);
      expect(reminderCards(id)).toEqual([]);
      expect(await reminded(t, id)).toEqual([]);
    });
  });
});

describe.concurrent('REVIEW_REMINDER_SEC=0', () => {
  it('sends none, where the default (half of a 4 s timeout) would have reminded at 2 s', async () => {
    const { id } = await submit(off);
    await sleep(3000);
    expect(reminders(off, id)).toEqual([]);
    expect(reminderCards(id, 'off')).toEqual([]);
    expect(await reminded(off, id)).toEqual([]);
    // The request itself was announced on both channels: the channels work, reminders are off.
    expect(off.slack.messages.some((m) => m.metadata?.event_payload.review_id === id)).toBe(true);
    expect(teams.accepted.some((a) => a.path.includes('off') && JSON.stringify(a.card).includes(id))).toBe(true);
  });
});
