// A reminder whose job ran out of attempts (a Slack outage longer than its retries) leaves its
// message slots unfinished; the sweep's Slack repair finishes them while the request still waits,
// and leaves decided requests alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/client.js';
import type { OutboxEntry } from '../../src/db/outbox.js';
import { createSlackNotifier } from '../../src/notify/slack/slack-notifier.js';
import { createStateDatabase } from '../helpers/databases.js';

let state: Awaited<ReturnType<typeof createStateDatabase>>;
let db: Db;
let requesterId: string;
let connectionId: string;

beforeAll(async () => {
  state = await createStateDatabase();
  db = createDb(state.url, { max: 4 });
  requesterId = (await db.user.create({ data: { email: 'ann@example.com', groups: ['dev'] } })).id;
  connectionId = (await db.connection.create({ data: { name: 'prod-db', url: 'postgresql://x@127.0.0.1/x', reviewers: ['dba'] } })).id;
});

afterAll(async () => {
  await db?.$disconnect();
  await state?.drop();
});

/** A request with its channel message posted and a reminder slot in `reminder` state. */
async function requestWithReminder(status: 'PENDING' | 'REJECTED', reminder: { status: string; claimToken: string | null; claimedAt: Date | null; conversationRef?: string; messageRef?: string }) {
  const now = Date.now();
  const review = await db.review.create({
    data: {
      connectionId,
      requesterId,
      input: 'DELETE FROM t WHERE id = 1',
      status,
      createdAt: new Date(now - 40 * 60_000),
      expiresAt: new Date(now + 20 * 60_000),
      decidedAt: status === 'PENDING' ? null : new Date(now - 60_000),
      groups: { create: [{ group: 'dba', status: status === 'PENDING' ? 'PENDING' : 'REJECTED' }] },
    },
  });
  const state = status === 'PENDING' ? 'PENDING-P' : 'REJECTED-R';
  await db.channelMessage.create({ data: { reviewId: review.id, channel: 'slack', target: 'C-REVIEWS', kind: 'request', status: 'posted', conversationRef: 'C-REVIEWS', messageRef: '1.1', state } });
  await db.channelMessage.create({ data: { reviewId: review.id, channel: 'slack', target: 'UDANA', kind: 'reminder', ...reminder } });
  return review.id;
}

async function repairs(): Promise<OutboxEntry[]> {
  const out: OutboxEntry[] = [];
  await createSlackNotifier({ db }).reconcile!({ now: new Date(), enqueue: async (e) => void out.push(e) });
  return out;
}

describe('the Slack repair of a reminder', () => {
  it('re-plans the reminder of a pending request whose slot was released or left by a stopped process', async () => {
    const released = await requestWithReminder('PENDING', { status: 'posting', claimToken: null, claimedAt: new Date(Date.now() - 1000) });
    const stale = await requestWithReminder('PENDING', { status: 'posting', claimToken: 'tok', claimedAt: new Date(Date.now() - 60_000) });
    const jobs = (await repairs()).filter((e) => e.name === 'slack.remind');
    expect(jobs.map((e) => e.payload.reviewId).sort()).toEqual([released, stale].sort());
    expect(jobs.every((e) => e.jobId.startsWith('repair-remind-'))).toBe(true);
  });

  it('leaves alone a reminder being posted now, one posted, and one of a decided request', async () => {
    const live = await requestWithReminder('PENDING', { status: 'posting', claimToken: 'tok', claimedAt: new Date() });
    const done = await requestWithReminder('PENDING', { status: 'posted', claimToken: null, claimedAt: null, conversationRef: 'DUDANA', messageRef: '2.2' });
    const decided = await requestWithReminder('REJECTED', { status: 'posting', claimToken: null, claimedAt: new Date(Date.now() - 1000) });
    const ids = (await repairs()).filter((e) => e.name === 'slack.remind').map((e) => e.payload.reviewId);
    for (const id of [live, done, decided]) expect(ids).not.toContain(id);
  });
});
