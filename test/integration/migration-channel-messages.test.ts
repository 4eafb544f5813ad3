// Migration 20261130160100_channel_messages: Slack's SlackMessage rows and Teams' ChannelPost rows
// become rows of one ChannelMessage table (channel 'slack' / 'teams'), every field carried over
// under its generic name, the old tables gone, and the table's rules hold for both channels.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseBefore, type MigratingDatabase } from '../helpers/migrations.js';

const MIGRATION = '20261130160100_channel_messages';
let db: MigratingDatabase;
let reviewId = '';
let otherReviewId = '';
const at = (s: string) => new Date(`2026-11-30T${s}Z`);
const ids = { request: randomUUID(), copy: randomUUID(), result: randomUUID(), claimed: randomUUID(), released: randomUUID(), teamsPosted: randomUUID(), teamsHeld: randomUUID() };

async function slackRow(id: string, review: string, f: Record<string, unknown>): Promise<void> {
  const cols = Object.keys(f);
  await db.client.query(
    `INSERT INTO "SlackMessage" ("id", "reviewId", ${cols.map((c) => `"${c}"`).join(', ')}) VALUES ($1, $2, ${cols.map((_, i) => `$${i + 3}`).join(', ')})`,
    [id, review, ...Object.values(f)],
  );
}

beforeAll(async () => {
  db = await databaseBefore(MIGRATION);
  const q = (sql: string, args: unknown[] = []) => db.client.query(sql, args);
  const user = (await q(`INSERT INTO "User" ("id", "email", "groups", "updatedAt") VALUES (gen_random_uuid(), 'ann@example.com', '{}', now()) RETURNING "id"`)).rows[0].id;
  const conn = (await q(`INSERT INTO "Connection" ("id", "name", "url", "reviewers", "updatedAt") VALUES (gen_random_uuid(), 'prod', 'postgres://x', '{dba}', now()) RETURNING "id"`)).rows[0].id;
  const review = async () => (await q(`INSERT INTO "Review" ("id", "connectionId", "requesterId", "input", "expiresAt") VALUES (gen_random_uuid(), $1, $2, 'SELECT 1', now() + interval '1 hour') RETURNING "id"`, [conn, user])).rows[0].id as string;
  reviewId = await review();
  otherReviewId = await review();
  await slackRow(ids.request, reviewId, { target: 'C-REVIEWS', kind: 'request', status: 'posted', channel: 'C-REVIEWS', ts: '1700000000.000100', state: 'PENDING-P', firstSentAt: at('10:00:00.000'), createdAt: at('10:00:00.000') });
  await slackRow(ids.copy, reviewId, { target: 'C-REVIEWS', kind: 'request', copy: 1, status: 'posted', channel: 'C-REVIEWS', ts: '1700000000.000200', state: null, searchAgain: false, createdAt: at('10:00:05.000') });
  await slackRow(ids.result, reviewId, { target: 'C-REVIEWS', kind: 'result', threadTs: '1700000000.000100', status: 'posted', channel: 'C-REVIEWS', ts: '1700000000.000300', createdAt: at('10:01:00.000') });
  await slackRow(ids.claimed, reviewId, { target: 'UDANA', kind: 'request', status: 'posting', claimToken: 'tok-1', claimedAt: at('10:00:01.500'), firstSentAt: at('10:00:01.000'), searchAgain: true, createdAt: at('10:00:01.000') });
  await slackRow(ids.released, otherReviewId, { target: 'UANN', kind: 'requester-expired', status: 'posting', claimToken: null, claimedAt: at('10:05:00.000'), firstSentAt: null, createdAt: at('10:04:00.000') });
  await q(`INSERT INTO "ChannelPost" ("id", "reviewId", "channel", "target", "kind", "status", "claimedAt", "postedAt", "attempts", "createdAt") VALUES
    ($1, $3, 'teams', 'abc123', 'review.created', 'posted', NULL, $4, 1, $5),
    ($2, $3, 'teams', 'abc123', 'review.group_approved.1', 'posting', $6, NULL, 2, $5)`,
  [ids.teamsPosted, ids.teamsHeld, reviewId, at('10:00:02.000'), at('10:00:01.000'), at('10:02:00.000')]);
  await db.apply(MIGRATION);
});

afterAll(async () => {
  await db?.drop();
});

const row = async (id: string) => (await db.client.query(`SELECT * FROM "ChannelMessage" WHERE "id" = $1`, [id])).rows[0];

describe('the channel messages migration', () => {
  it('keeps every row, and only those, with its id', async () => {
    const all = (await db.client.query(`SELECT "id", "channel" FROM "ChannelMessage"`)).rows;
    expect(all.map((r) => r.id).sort()).toEqual(Object.values(ids).sort());
    expect(all.filter((r) => r.channel === 'slack')).toHaveLength(5);
    expect(all.filter((r) => r.channel === 'teams')).toHaveLength(2);
  });

  it("moves a posted Slack message's channel id, ts, state and times to their generic columns", async () => {
    expect(await row(ids.request)).toMatchObject({
      reviewId, channel: 'slack', target: 'C-REVIEWS', kind: 'request', parentRef: '', copy: 0, status: 'posted',
      conversationRef: 'C-REVIEWS', messageRef: '1700000000.000100', state: 'PENDING-P', claimToken: null, searchAgain: false,
      firstSentAt: at('10:00:00.000'), createdAt: at('10:00:00.000'), attempts: 0, postedAt: null,
    });
    expect(await row(ids.copy)).toMatchObject({ copy: 1, messageRef: '1700000000.000200', state: null });
  });

  it("moves a thread reply's parent ts to parentRef", async () => {
    expect(await row(ids.result)).toMatchObject({ kind: 'result', parentRef: '1700000000.000100', conversationRef: 'C-REVIEWS', messageRef: '1700000000.000300' });
  });

  it('keeps claims as they were: token, claim time, first attempt, searchAgain', async () => {
    expect(await row(ids.claimed)).toMatchObject({ status: 'posting', claimToken: 'tok-1', claimedAt: at('10:00:01.500'), firstSentAt: at('10:00:01.000'), searchAgain: true, conversationRef: null, messageRef: null });
    expect(await row(ids.released)).toMatchObject({ reviewId: otherReviewId, kind: 'requester-expired', status: 'posting', claimToken: null, claimedAt: at('10:05:00.000'), firstSentAt: null });
  });

  it("moves Teams' posts with their status, claim, post time and attempts, outside any thread", async () => {
    expect(await row(ids.teamsPosted)).toMatchObject({ reviewId, channel: 'teams', target: 'abc123', kind: 'review.created', status: 'posted', postedAt: at('10:00:02.000'), claimedAt: null, attempts: 1, parentRef: '', copy: 0, conversationRef: null, messageRef: null, createdAt: at('10:00:01.000') });
    expect(await row(ids.teamsHeld)).toMatchObject({ kind: 'review.group_approved.1', status: 'posting', claimedAt: at('10:02:00.000'), postedAt: null, attempts: 2 });
  });

  it('drops the old tables', async () => {
    const tables = (await db.client.query(`SELECT table_name FROM information_schema.tables WHERE table_name IN ('SlackMessage', 'ChannelPost', 'ChannelMessage')`)).rows.map((r) => r.table_name);
    expect(tables).toEqual(['ChannelMessage']);
  });

  describe('afterwards', () => {
    const insert = (f: Record<string, unknown>) => {
      const cols = Object.keys(f);
      return db.client.query(`INSERT INTO "ChannelMessage" ("id", ${cols.map((c) => `"${c}"`).join(', ')}) VALUES (gen_random_uuid(), ${cols.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(f));
    };

    it('wants every row to name its channel', async () => {
      await expect(insert({ reviewId, target: 'C1', kind: 'request', status: 'posting' })).rejects.toThrow(/"channel".*not-null|null value in column "channel"/);
    });

    it('refuses a posted Slack message without its channel id or ts, and a posted Teams card without its time', async () => {
      for (const f of [{ conversationRef: 'C1' }, { messageRef: '1.2' }, {}]) {
        await expect(insert({ reviewId, channel: 'slack', target: 'C1', kind: 'request', status: 'posted', ...f })).rejects.toThrow(/ChannelMessage_status_check/);
      }
      await expect(insert({ reviewId, channel: 'teams', target: 't', kind: 'review.executed', status: 'posted' })).rejects.toThrow(/ChannelMessage_status_check/);
      await expect(insert({ reviewId, channel: 'slack', target: 'C1', kind: 'request', status: 'sent', conversationRef: 'C1', messageRef: '1.2' })).rejects.toThrow(/ChannelMessage_status_check/);
    });

    it('keeps one row per channel, target, kind, thread and copy, and lets two channels share the rest', async () => {
      await expect(insert({ reviewId, channel: 'slack', target: 'C-REVIEWS', kind: 'request', status: 'posting' })).rejects.toThrow(/ChannelMessage_reviewId_channel_target_kind_parentRef_copy_key/);
      await expect(insert({ reviewId, channel: 'teams', target: 'abc123', kind: 'review.created', status: 'posting' })).rejects.toThrow(/ChannelMessage_reviewId_channel_target_kind_parentRef_copy_key/);
      await insert({ reviewId, channel: 'teams', target: 'C-REVIEWS', kind: 'request', status: 'posting' });
      await insert({ reviewId, channel: 'slack', target: 'abc123', kind: 'review.created', status: 'posting' });
    });

    it("deletes a review's messages with it", async () => {
      await db.client.query(`DELETE FROM "Review" WHERE "id" = $1`, [otherReviewId]);
      expect(await row(ids.released)).toBeUndefined();
    });
  });
});
