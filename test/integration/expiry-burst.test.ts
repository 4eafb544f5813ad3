// Many requests due at once: the set-based expiry pass, run by the first expiry job of a burst,
// expires them all; a review is expired once however many paths reach it (the pass, its own job,
// the sweep), with one audit event and one Slack update; a vote racing the expiry wins or loses
// cleanly. Time is a clock the test moves (ARCHITECTURE.md idea 4): nothing here sleeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createManualClock } from '../../src/clock.js';
import { queueNames } from '../../src/jobs/queues.js';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack.js';
import { slashCommand } from '../fakes/slack-requests.js';
import { createStateDatabase, createTargetDatabase, REDIS_URL, uniqueName } from '../helpers/databases.js';
import { deleteQueues, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let slack: FakeSlack;
let state: Awaited<ReturnType<typeof createStateDatabase>>;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let prefix: string;
let t: TestGateway;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };
const clock = createManualClock();

beforeAll(async () => {
  slack = await startFakeSlack();
  state = await createStateDatabase();
  target = await createTargetDatabase();
  prefix = uniqueName('burst');
  // No workers here: the expiry paths are called by the test, at the moment it chooses.
  t = await startTestGateway({ databaseUrl: state.url, prefix, fakeSlack: slack, workers: false, clock, relayIntervalMs: 200 });
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
  // The requester is linked to Slack: an expiry tells her by DM.
  slack.users.set('UALICE', { email: 'alice@example.com' });
  await t.slackPost(slashCommand('UALICE', 'subscribe'));
});

afterAll(async () => {
  await t?.stop();
  await slack?.close();
  await target?.drop();
  await state?.drop();
  if (prefix) await deleteQueues(prefix);
});

/** `n` pending requests; the clock stands still, so all share one deadline. */
async function submitMany(n: number): Promise<{ ids: string[]; due: Date }> {
  const bodies = await Promise.all(
    Array.from({ length: n }, (_, i) => t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: `UPDATE users SET status = 'b${i}' WHERE id = 1` } })),
  );
  for (const b of bodies) expect(b.status).toBe(201);
  const due = new Set(bodies.map((b) => b.body.expiresAt));
  expect(due.size).toBe(1);
  return { ids: bodies.map((b) => b.body.id), due: new Date([...due][0]) };
}

const statuses = async (ids: string[]) => {
  const rows = await t.gateway.db.review.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } });
  return new Map(rows.map((r) => [r.id, r.status]));
};
const auditCount = async (ids: string[], action: string) => {
  const rows = await t.gateway.db.auditEvent.groupBy({ by: ['reviewId'], where: { reviewId: { in: ids }, action }, _count: true });
  return new Map(rows.map((r) => [r.reviewId!, r._count]));
};

// First in the file: a worker started after the bursts below would first work off (and repair)
// their hundreds of Slack messages behind the gateway's own Slack rate limit.
describe('an expiry told to a requester whose Slack answers 429', () => {
  it('tells the requester once when Slack answers her DM with 429, retrying after Retry-After without searching Slack first', async () => {
    const { ids: [id], due } = await submitMany(1);
    const worker = await startTestGateway({ databaseUrl: state.url, prefix, fakeSlack: slack, sweepIntervalMs: 600_000 });
    try {
      await eventually(async () => (await t.gateway.db.channelMessage.count({ where: { channel: 'slack', reviewId: id, kind: 'request', status: 'posted' } })) === 1, 20_000, 'the review message posted');
      const dm = (args: Record<string, any>) => args.channel === 'UALICE' && (args.metadata as { event_payload?: { review_id?: string } })?.event_payload?.review_id === id;
      slack.failNext('chat.postMessage', { status: 429, retryAfter: 1, match: dm });
      const before = slack.calls.length;
      clock.set(new Date(due.getTime() + 1));
      await t.gateway.reviews.expireJob(id);
      await eventually(async () => (await t.gateway.db.channelMessage.count({ where: { channel: 'slack', reviewId: id, kind: 'requester-expired', status: 'posted' } })) === 1, 50_000, 'the DM recorded');
      const calls = slack.calls.slice(before);
      const attempts = calls.filter((c) => c.method === 'chat.postMessage' && dm(c.args));
      expect(attempts).toHaveLength(2);
      expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(950); // Retry-After: 1
      expect(slack.unusedFailures()).toEqual([]);
      // Slack refused the first before acting: there is nothing to look for.
      expect(calls.filter((c) => c.method === 'conversations.history' || c.method === 'conversations.open')).toEqual([]);
      expect(slack.messages.filter((m) => m.channel === 'DALICE' && (m.metadata?.event_payload as { review_id?: string })?.review_id === id)).toHaveLength(1);
    } finally {
      await worker.stop();
    }
  }, 70_000);
});

describe('a burst of requests due at once', () => {
  it('is expired whole by the first expiry job that fires, with an audit event and Slack jobs for each', async () => {
    const { ids, due } = await submitMany(25);
    await t.gateway.reviews.expireJob(ids[0]); // not due yet: nothing happens
    expect([...(await statuses(ids)).values()]).toEqual(ids.map(() => 'PENDING'));
    clock.set(new Date(due.getTime() + 1));
    await t.gateway.reviews.expireJob(ids[0]);
    expect([...(await statuses(ids)).values()]).toEqual(ids.map(() => 'EXPIRED'));
    const audits = await auditCount(ids, 'review.expired');
    expect(ids.map((id) => audits.get(id))).toEqual(ids.map(() => 1));
    // Their jobs were written with them and relayed: the message update and the requester's DM.
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(queueNames(prefix).slack, { connection: redis });
    try {
      await eventually(async () => (await t.gateway.db.outboxJob.count({ where: { reviewId: { in: ids } } })) === 0, 10_000, 'the outbox relayed');
      for (const id of ids) {
        expect(await queue.getJob(`update-${id}-EXPIRED-P`), id).toBeTruthy();
        expect(await queue.getJob(`notify-${id}-expired`), id).toBeTruthy();
      }
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  it('is expired once per request when the pass, each request\'s job and the sweep all run at once: one audit event, one Slack update, one DM', async () => {
    const { ids, due } = await submitMany(40);
    // A process with workers posts the review messages (its own clock is the system's: it expires nothing early).
    const worker = await startTestGateway({ databaseUrl: state.url, prefix, fakeSlack: slack, sweepIntervalMs: 600_000 });
    try {
      await eventually(async () => (await t.gateway.db.channelMessage.count({ where: { channel: 'slack', reviewId: { in: ids }, kind: 'request', status: 'posted' } })) === ids.length, 20_000, 'the review messages posted');
      clock.set(new Date(due.getTime() + 1000));
      const r = t.gateway.reviews;
      await Promise.all([r.expireDue(), r.expireDue(), r.sweepDatabase(undefined, { settle: false }), ...ids.map((id) => r.expireJob(id)), ...ids.map((id) => r.expireReview(id))]);
      expect([...(await statuses(ids)).values()]).toEqual(ids.map(() => 'EXPIRED'));
      const audits = await auditCount(ids, 'review.expired');
      expect(ids.map((id) => audits.get(id))).toEqual(ids.map(() => 1));

      const mentions = (args: Record<string, any>, id: string) => JSON.stringify(args.blocks ?? '').includes(id);
      const expiredUpdates = (id: string) => slack.callsOf('chat.update').filter((c) => mentions(c.args, id) && JSON.stringify(c.args.blocks).includes('Expired'));
      const dms = (id: string) => slack.messages.filter((m) => m.channel === 'DALICE' && (m.metadata?.event_payload as { review_id?: string })?.review_id === id);
      await eventually(async () => ids.every((id) => expiredUpdates(id).length > 0 && dms(id).length > 0), 30_000, 'every message updated and every requester told');
      // Settled: nothing more arrives late.
      await eventually(async () => (await t.gateway.db.channelMessage.count({ where: { channel: 'slack', reviewId: { in: ids }, kind: 'request', state: 'EXPIRED-P' } })) === ids.length, 10_000);
      expect(ids.map((id) => expiredUpdates(id).length)).toEqual(ids.map(() => 1));
      expect(ids.map((id) => dms(id).length)).toEqual(ids.map(() => 1));
    } finally {
      await worker.stop();
    }
  });

  it('lets a vote racing the expiry either win or lose cleanly', async () => {
    const { ids, due } = await submitMany(30);
    // The votes are decided just before the deadline; the passes run just after it.
    clock.set(new Date(due.getTime() - 1));
    const after = new Date(due.getTime() + 1);
    const votes = ids.map((id) => t.api('PUT', `/api/reviews/${id}/approve`, { key: dana.apiKey }));
    const passes = Array.from({ length: 4 }, () => t.gateway.reviews.expireDue(after));
    const answers = await Promise.all(votes);
    await Promise.all(passes);
    await t.gateway.reviews.expireDue(after);
    const final = await statuses(ids);
    const approved = await auditCount(ids, 'review.approved');
    const expired = await auditCount(ids, 'review.expired');
    ids.forEach((id, i) => {
      const a = answers[i];
      if (a.status === 200) {
        // The vote won: approved, and never expired afterwards.
        expect(final.get(id), id).toBe('APPROVED');
        expect([approved.get(id), expired.get(id)], id).toEqual([1, undefined]);
      } else {
        // The expiry won: the vote is refused as too late, and nothing of it was written.
        expect([a.status, a.body.error.code], id).toEqual([409, 'expired']);
        expect(final.get(id), id).toBe('EXPIRED');
        expect([approved.get(id), expired.get(id)], id).toEqual([undefined, 1]);
      }
    });
  });

  it('has the expiry job of every pending request re-enqueued by the sweep, a page at a time, when Redis lost them', async () => {
    // 1,100 pending requests (more than two of the sweep's pages), copied from one in SQL.
    const { ids: [model] } = await submitMany(1);
    const rows = await t.gateway.db.$queryRawUnsafe<{ id: string }[]>(
      `INSERT INTO "Review" ("id", "connectionId", "requesterId", "input", "status", "classification", "createdAt", "expiresAt", "commandTags")
       SELECT gen_random_uuid(), s."connectionId", s."requesterId", s."input" || ' -- ' || g, 'PENDING', s."classification", s."createdAt", s."expiresAt", s."commandTags"
       FROM "Review" s, generate_series(1, 1100) g WHERE s."id" = $1::uuid RETURNING "id"`,
      model,
    );
    await deleteQueues(prefix); // every queued job is gone
    await t.gateway.reviews.sweep({ settle: false });
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(queueNames(prefix).reviews, { connection: redis });
    try {
      const missing: string[] = [];
      for (const { id } of [...rows, { id: model }]) if (!(await queue.getJob(`expire-${id}`))) missing.push(id);
      expect(missing).toEqual([]);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });
});
