import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Transition } from '../../src/core/review-state.js';
import { claimPost, targetOf } from '../../src/db/channel-posts.js';
import { createDb, type Db } from '../../src/db/client.js';
import type { OutboxEntry } from '../../src/db/outbox.js';
import { PermanentFailure, RetryLater, type Notifier } from '../../src/notify/channel.js';
import { createTeamsNotifier, TEAMS_POST_EVENT } from '../../src/notify/teams/teams-notifier.js';
import { TEAMS_LIMITS } from '../../src/notify/teams/teams-card.js';
import { startFakeTeams, TEAMS_MAX_BYTES, type FakeTeams } from '../fakes/fake-teams.js';
import { createStateDatabase } from '../helpers/databases.js';
import { rejectionOf } from '../helpers/rejection.js';
import type { AuditAction } from '../../src/core/audit-actions.js';

const PUBLIC = 'https://hoop.example.com';
let state: Awaited<ReturnType<typeof createStateDatabase>>;
let db: Db;
let fake: FakeTeams;
let sig: string;
const logLines: string[] = [];
const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
let requesterId: string;
let plainConn: string;
let ownConn: string;
let badConn: string;

function notifier(options: { defaultWebhookUrl?: string | null; timeoutMs?: number } = {}): Notifier {
  return createTeamsNotifier({ db, defaultWebhookUrl: options.defaultWebhookUrl === null ? undefined : (options.defaultWebhookUrl ?? fake.urlOf('default')), publicUrl: PUBLIC, log, timeoutMs: options.timeoutMs ?? 2000 });
}

async function makeReview(over: { connectionId?: string; status?: 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXECUTED'; groups?: string[]; createdAt?: Date; decidedAt?: Date; input?: string } = {}) {
  const r = await db.review.create({
    data: {
      connectionId: over.connectionId ?? plainConn,
      requesterId,
      input: over.input ?? "UPDATE users SET status = 'off' WHERE id = 2",
      reason: 'ticket OPS-12',
      status: over.status ?? 'PENDING',
      expiresAt: new Date(Date.now() + 3600_000),
      createdAt: over.createdAt ?? new Date(),
      decidedAt: over.decidedAt ?? null,
      groups: { create: (over.groups ?? ['dba']).map((group) => ({ group })) },
    },
  });
  return r.id;
}

const run = (n: Notifier, reviewId: string, event = 'review.created') => n.run(TEAMS_POST_EVENT, { reviewId, event });
const failure = rejectionOf;
const rows = (reviewId: string) => db.channelMessage.findMany({ where: { channel: 'teams', reviewId } });

beforeAll(async () => {
  state = await createStateDatabase();
  db = createDb(state.url, { max: 4 });
  fake = await startFakeTeams();
  sig = new URL(fake.urlOf()).searchParams.get('sig')!;
  requesterId = (await db.user.create({ data: { email: 'ann@example.com', groups: ['dev'] } })).id;
  plainConn = (await db.connection.create({ data: { name: 'prod-db', url: 'postgresql://x@127.0.0.1/x', reviewers: ['dba'] } })).id;
  ownConn = (await db.connection.create({ data: { name: 'billing', url: 'postgresql://x@127.0.0.1/y', reviewers: ['dba'], teamsWebhookUrl: fake.urlOf('own') } })).id;
  badConn = (await db.connection.create({ data: { name: 'revoked', url: 'postgresql://x@127.0.0.1/z', reviewers: ['dba'], teamsWebhookUrl: fake.badSignatureUrl('gone') } })).id;
});

afterAll(async () => {
  await fake?.close();
  await db?.$disconnect();
  await state?.drop();
});

beforeEach(() => {
  fake.accepted.length = 0;
  fake.requests.length = 0;
});

describe('jobs', () => {
  const n = () => notifier();
  it('announces a pending request with one post-event job, and an auto-approved one not at all', () => {
    expect(n().jobsOfNewRequest!({ reviewId: 'r1', status: 'PENDING', autoApproved: false })).toEqual([
      { name: 'teams.post-event', payload: { reviewId: 'r1', event: 'review.created' }, jobId: 'teams-review.created-r1', reviewId: 'r1' },
    ]);
    expect(n().jobsOfNewRequest!({ reviewId: 'r2', status: 'APPROVED', autoApproved: true })).toEqual([]);
  });

  it('gives each group approval its own job, a result of a reviewed request a job, and a run starting none', () => {
    const groups = [
      { group: 'dba', status: 'APPROVED' as const, reviewerId: 'u', decidedAt: new Date(), reason: null },
      { group: 'sec', status: 'PENDING' as const, reviewerId: null, decidedAt: null, reason: null },
    ];
    const t = (action: string, g = groups): Transition => ({ action: action as AuditAction, decidedGroups: [], effects: [], next: { status: 'PENDING', requesterId: 'x', groups: g, expiresAt: new Date(), decidedAt: null, rejectReason: null, distinctApprovers: true } });
    expect(n().jobsOf!('r1', t('review.group_approved'))).toEqual([{ name: 'teams.post-event', payload: { reviewId: 'r1', event: 'review.group_approved', step: 1 }, jobId: 'teams-review.group_approved.1-r1', reviewId: 'r1' }]);
    expect(n().jobsOf!('r1', t('review.executed'))[0]).toMatchObject({ jobId: 'teams-review.executed-r1', payload: { event: 'review.executed' } });
    expect(n().jobsOf!('r1', t('review.execution_started'))).toEqual([]);
    expect(n().jobsOf!('r1', t('review.executed', []))).toEqual([]);
  });
});

describe('run', () => {
  it('posts the card once; a second run of the same job posts nothing more', async () => {
    const id = await makeReview({ input: 'DELETE FROM sessions WHERE **x** = 1' });
    await run(notifier(), id);
    await run(notifier(), id);
    expect(fake.requests).toHaveLength(1);
    expect(fake.accepted).toHaveLength(1);
    expect(fake.accepted[0].path).toBe('/workflows/default/triggers/manual/paths/invoke');
    const json = JSON.stringify(fake.accepted[0].card);
    expect(json).toContain('DELETE FROM sessions WHERE');
    expect(fake.accepted[0].card.actions.map((a: any) => a.url)).toContain(`${PUBLIC}/reviews/${id}`);
    const [row] = await rows(id);
    expect(row).toMatchObject({ channel: 'teams', kind: 'review.created', status: 'posted', attempts: 1, target: createHash('sha256').update(fake.urlOf('default')).digest('hex') });
    expect(row.postedAt).toBeInstanceOf(Date);
  });

  it('429 with Retry-After in seconds: RetryLater with that delay, nothing recorded as posted; the next run posts', async () => {
    const id = await makeReview();
    fake.failNext({ status: 429, retryAfter: '12' });
    const e = await failure(run(notifier(), id));
    expect(e).toBeInstanceOf(RetryLater);
    expect((e as RetryLater).retryAfterSec).toBe(12);
    expect((await rows(id)).filter((r) => r.status === 'posted')).toEqual([]);
    await run(notifier(), id);
    expect(fake.accepted).toHaveLength(1);
  });

  it('429 with Retry-After as an HTTP date: RetryLater until then', async () => {
    const id = await makeReview();
    fake.failNext({ status: 429, retryAfter: new Date(Date.now() + 40_000).toUTCString() });
    const e = (await failure(run(notifier(), id))) as RetryLater;
    expect(e).toBeInstanceOf(RetryLater);
    expect(e.retryAfterSec).toBeGreaterThanOrEqual(38);
    expect(e.retryAfterSec).toBeLessThanOrEqual(41);
  });

  it('500: a plain error (retried with backoff), and a later run posts exactly one card', async () => {
    const id = await makeReview();
    fake.failNext({ status: 500 }, 2);
    for (let i = 0; i < 2; i++) {
      const e = await failure(run(notifier(), id));
      expect(e).not.toBeInstanceOf(RetryLater);
      expect(e).not.toBeInstanceOf(PermanentFailure);
      expect(e.message).toContain('HTTP 500');
    }
    await run(notifier(), id);
    await run(notifier(), id);
    expect(fake.accepted).toHaveLength(1);
    expect((await rows(id))[0]).toMatchObject({ status: 'posted', attempts: 3 });
  });

  it('a Teams that never answers: the post times out with an error saying the outcome is unknown, and is retried', async () => {
    const id = await makeReview();
    fake.failNext({ status: 'hang' });
    const e = await failure(run(notifier({ timeoutMs: 300 }), id));
    expect(e.message).toMatch(/did not answer within 300 ms.*may or may not have been posted/);
    await run(notifier(), id);
    expect(fake.accepted).toHaveLength(1);
  });

  it('a 4xx (a revoked signature): PermanentFailure naming the status and what Teams said, without the secret', async () => {
    const id = await makeReview({ connectionId: badConn });
    const e = await failure(run(notifier(), id));
    expect(e).toBeInstanceOf(PermanentFailure);
    expect(e.message).toContain('HTTP 401');
    expect(e.message).toContain('DirectApiAuthorizationRequired');
    expect(e.message).toContain('/workflows/gone/triggers/manual/paths/invoke?[redacted]');
    expect(e.message).not.toContain(sig);
    expect(fake.accepted).toHaveLength(0);
  });

  it('an attempt finds the card claimed by another one in progress: RetryLater, nothing posted', async () => {
    const id = await makeReview();
    await claimPost(db, { reviewId: id, channel: 'teams', target: targetOf(fake.urlOf('default')), kind: 'review.created' }, 60_000);
    const e = await failure(run(notifier(), id));
    expect(e).toBeInstanceOf(RetryLater);
    expect((e as RetryLater).retryAfterSec).toBeGreaterThan(30);
    expect(fake.requests).toHaveLength(0);
  });

  it("the connection's own URL wins over the default", async () => {
    const id = await makeReview({ connectionId: ownConn });
    await run(notifier(), id);
    expect(fake.accepted.map((c) => c.path)).toEqual(['/workflows/own/triggers/manual/paths/invoke']);
  });

  it('no URL anywhere: nothing posted, no error, a warning that says what to set', async () => {
    const id = await makeReview();
    await run(notifier({ defaultWebhookUrl: null }), id);
    expect(fake.requests).toHaveLength(0);
    expect(logLines.some((l) => l.includes(id) && l.includes('TEAMS_WEBHOOK_URL'))).toBe(true);
  });

  it('every event of a request gives a card the strict endpoint accepts, a 1 MB command and output included', async () => {
    const huge = `SELECT '${'[x](http://evil) **b** 😀 "q"\n'.repeat(40_000)}'`;
    const id = await makeReview({ groups: ['dba', 'sec'], input: huge, status: 'EXECUTED', decidedAt: new Date() });
    await db.reviewGroup.updateMany({ where: { reviewId: id }, data: { status: 'APPROVED', decidedAt: new Date() } });
    await db.review.update({ where: { id }, data: { output: huge, finishedAt: new Date(), commandTags: ['SELECT 1'], rowsAffected: 1 } });
    const events = ['review.created', 'review.group_approved', 'review.approved', 'review.rejected', 'review.expired', 'review.executed', 'review.failed'];
    for (const event of events) await notifier().run(TEAMS_POST_EVENT, { reviewId: id, event, ...(event === 'review.group_approved' ? { step: 1 } : {}) });
    expect(fake.requests.map((r) => r.status)).toEqual(events.map(() => 202));
    expect(fake.accepted).toHaveLength(events.length);
    // Within the card budget (20 KB), not merely what the fake accepts (28 KB).
    for (const c of fake.accepted) expect(c.bytes).toBeLessThanOrEqual(TEAMS_LIMITS.cardBytes);
    expect((await rows(id)).map((r) => r.kind).sort()).toEqual(['review.approved', 'review.created', 'review.executed', 'review.expired', 'review.failed', 'review.group_approved.1', 'review.rejected']);
  });

  it('a bad job is a PermanentFailure', async () => {
    await expect(notifier().run('teams.nope', {})).rejects.toBeInstanceOf(PermanentFailure);
    await expect(notifier().run(TEAMS_POST_EVENT, { reviewId: 'x', event: 'review.created' })).rejects.toBeInstanceOf(PermanentFailure);
    await expect(notifier().run(TEAMS_POST_EVENT, { reviewId: '0b7c6a3e-1f2d-4c5b-9a8e-7d6c5b4a3f2e', event: 'review.sneezed' })).rejects.toBeInstanceOf(PermanentFailure);
  });

  it('the signature never reaches a log line or the database', async () => {
    expect(logLines.length).toBeGreaterThan(3);
    expect(logLines.filter((l) => l.includes(sig))).toEqual([]);
    const stored = await db.channelMessage.findMany({ where: { channel: 'teams' } });
    expect(stored.length).toBeGreaterThan(3);
    expect(JSON.stringify(stored)).not.toContain(sig);
  });
});

describe('reconcile', () => {
  it('re-enqueues the events no post is recorded for, and not the posted ones', async () => {
    const old = new Date(Date.now() - 5 * 60_000);
    const posted = await makeReview({ createdAt: old });
    const lost = await makeReview({ createdAt: old });
    const rejected = await makeReview({ createdAt: old, status: 'REJECTED', decidedAt: new Date(Date.now() - 2 * 60_000) });
    const fresh = await makeReview();
    await run(notifier(), posted);
    await run(notifier(), rejected);
    const entries: OutboxEntry[] = [];
    const now = new Date();
    await notifier().reconcile!({ now, enqueue: async (e) => void entries.push(e) });
    const mine = entries.filter((e) => [posted, lost, rejected, fresh].includes(e.reviewId!));
    const slot = Math.floor(now.getTime() / 600_000);
    expect(mine).toEqual(
      expect.arrayContaining([
        { name: 'teams.post-event', payload: { reviewId: lost, event: 'review.created' }, jobId: `repair-teams-review.created-${lost}-${slot}`, reviewId: lost },
        { name: 'teams.post-event', payload: { reviewId: rejected, event: 'review.rejected' }, jobId: `repair-teams-review.rejected-${rejected}-${slot}`, reviewId: rejected },
      ]),
    );
    expect(mine).toHaveLength(2);
  });
});

describe('reconcile: reminders', () => {
  it('re-posts a reminder whose attempts all failed while the request still waits, and no other', async () => {
    const old = new Date(Date.now() - 5 * 60_000);
    const failed = await makeReview({ connectionId: badConn, createdAt: old });
    const decided = await makeReview({ connectionId: badConn, createdAt: old, status: 'REJECTED', decidedAt: old });
    const done = await makeReview({ createdAt: old });
    await failure(run(notifier(), failed, 'review.reminder'));
    await run(notifier(), decided, 'review.reminder');
    // The rejected one's reminder job refused before claiming; claim one by hand as if it had run earlier.
    await claimPost(db, { reviewId: decided, channel: 'teams', target: targetOf(fake.badSignatureUrl('gone')), kind: 'review.reminder' }, 1);
    await run(notifier(), done, 'review.reminder');
    expect((await rows(failed)).map((r) => [r.kind, r.status])).toEqual([['review.reminder', 'posting']]);
    const entries: OutboxEntry[] = [];
    const now = new Date(Date.now() + 2 * 60_000);
    await notifier().reconcile!({ now, enqueue: async (e) => void entries.push(e) });
    const reminders = entries.filter((e) => (e.payload as { event: string }).event === 'review.reminder');
    const slot = Math.floor(now.getTime() / 600_000);
    expect(reminders).toEqual([{ name: 'teams.post-event', payload: { reviewId: failed, event: 'review.reminder' }, jobId: `repair-teams-review.reminder-${failed}-${slot}`, reviewId: failed }]);
  });
});

describe('the fake Workflows endpoint', () => {
  const post = (body: unknown, init: RequestInit = {}) => fetch(fake.urlOf(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), ...init });
  const card = (content: object) => ({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'hi' }], ...content } }] });

  it('accepts a good card with 202, and refuses what Teams refuses', async () => {
    expect((await post(card({}))).status).toBe(202);
    expect((await fetch(fake.urlOf())).status).toBe(405);
    expect((await post('not json')).status).toBe(400);
    expect((await post(card({}), { headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await post({ ...card({}), type: 'note' })).status).toBe(400);
    expect((await post(card({ actions: [{ type: 'Action.Submit', title: 'Approve' }] }))).status).toBe(400);
    expect((await post(card({ actions: [{ type: 'Action.OpenUrl', title: 'Open', url: '/reviews/1' }] }))).status).toBe(400);
    expect((await post(card({ body: [{ type: 'Marquee', text: 'x' }] }))).status).toBe(400);
    expect((await post(card({ body: [{ type: 'TextBlock', text: 'x'.repeat(TEAMS_MAX_BYTES) }] }))).status).toBe(413);
    expect(fake.accepted).toHaveLength(1);
  });
});
