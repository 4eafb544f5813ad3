// Slack message slots in PostgreSQL: a ChannelMessage row (channel 'slack') is claimed before
// chat.postMessage and completed with the message's channel and ts after Slack answers, so that two
// jobs never both post one message and a post whose outcome is unknown is looked for in Slack
// before it is sent again. Slack's names map to the table's generic ones here: a thread's ts is
// parentRef, a message's channel id conversationRef and its ts messageRef.
import { randomUUID } from 'node:crypto';
import type { Db } from './client.js';

/** One message of a review: where it goes, what it is, and the thread it answers ('' for none). */
export interface SlotKey {
  reviewId: string;
  target: string;
  kind: string;
  threadTs: string;
}

/** A message Slack holds. */
export interface PostedMessage {
  channel: string;
  ts: string;
}

export type SlotClaim =
  | { outcome: 'posted' }
  /** Another attempt holds the claim and is alive: it will record the message. */
  | { outcome: 'busy' }
  /**
   * Ours until `renew` fails. `resumed`: an earlier attempt may have reached Slack (it timed out,
   * got a 5xx, or its process died before recording the answer); `since`: when that began.
   */
  | { outcome: 'claimed'; id: string; token: string; resumed: boolean; since: Date };

export type SlackSlots = ReturnType<typeof createSlackSlots>;

/** The table's columns of a Slack slot's key (every copy of it). */
function slotWhere(key: SlotKey) {
  return { reviewId: key.reviewId, channel: 'slack', target: key.target, kind: key.kind, parentRef: key.threadTs };
}

/** Slack's rows of the table, to filter any query of it by. */
export const SLACK_ROWS = { channel: 'slack' } as const;

// Times are compared on the database's clock, so replicas with skewed clocks agree on staleness.
const NOW = `timezone('UTC', now())`;

/**
 * Slots over the ChannelMessage table, Slack's rows. `claimTtlMs`: how long a claim holds without being renewed
 * before another attempt may take it over (longer than one Slack call can take).
 */
export function createSlackSlots(db: Db, claimTtlMs: number) {
  const ttlSec = claimTtlMs / 1000;

  /** Claims the slot of `key`, unless its message is recorded or another live attempt holds it. */
  async function claim(key: SlotKey): Promise<SlotClaim> {
    const token = randomUUID();
    const inserted = await db.$queryRawUnsafe<{ id: string; firstSentAt: Date }[]>(
      `INSERT INTO "ChannelMessage" ("id", "reviewId", "channel", "target", "kind", "parentRef", "copy", "status", "claimToken", "claimedAt", "firstSentAt", "createdAt")
       VALUES (gen_random_uuid(), $1::uuid, 'slack', $2, $3, $4, 0, 'posting', $5, ${NOW}, ${NOW}, ${NOW})
       ON CONFLICT ("reviewId", "channel", "target", "kind", "parentRef", "copy") DO NOTHING
       RETURNING "id", "firstSentAt"`,
      key.reviewId, key.target, key.kind, key.threadTs, token,
    );
    if (inserted.length === 1) return { outcome: 'claimed', id: inserted[0].id, token, resumed: false, since: inserted[0].firstSentAt };
    // Released (an attempt failed; once Slack's Retry-After has passed) or stale (its holder died
    // or hangs): take it over.
    // Resumed unless no attempt may have reached Slack yet (firstSentAt is cleared when Slack
    // refused the only attempts with a 429, which it answers before acting).
    const taken = await db.$queryRawUnsafe<{ id: string; firstSentAt: Date; resumed: boolean }[]>(
      `UPDATE "ChannelMessage" s SET "claimToken" = $5, "claimedAt" = ${NOW}, "firstSentAt" = COALESCE(s."firstSentAt", ${NOW})
       FROM (SELECT "id", "firstSentAt" AS "prev" FROM "ChannelMessage"
             WHERE "reviewId" = $1::uuid AND "channel" = 'slack' AND "target" = $2 AND "kind" = $3 AND "parentRef" = $4 AND "copy" = 0 AND "status" = 'posting'
               AND ("claimedAt" IS NULL OR ("claimToken" IS NULL AND "claimedAt" <= ${NOW}) OR "claimedAt" < ${NOW} - make_interval(secs => $6))
             FOR UPDATE) old
       WHERE s."id" = old."id"
       RETURNING s."id", s."firstSentAt", old."prev" IS NOT NULL AS "resumed"`,
      key.reviewId, key.target, key.kind, key.threadTs, token, ttlSec,
    );
    if (taken.length === 1) return { outcome: 'claimed', id: taken[0].id, token, resumed: taken[0].resumed, since: taken[0].firstSentAt };
    const row = await db.channelMessage.findUnique({ where: { reviewId_channel_target_kind_parentRef_copy: { ...slotWhere(key), copy: 0 } }, select: { status: true } });
    return row?.status === 'posted' ? { outcome: 'posted' } : { outcome: 'busy' };
  }

  /** Keeps the claim alive before the next Slack call; false when another attempt took it over. */
  async function renew(id: string, token: string): Promise<boolean> {
    const n = await db.$executeRawUnsafe(`UPDATE "ChannelMessage" SET "claimedAt" = ${NOW} WHERE "id" = $1::uuid AND "claimToken" = $2 AND "status" = 'posting'`, id, token);
    return n === 1;
  }

  /**
   * Gives the claim back: the next attempt may take it (and searches Slack first, unless
   * `neverSent`) at once, or after `notBeforeSec` (Slack's Retry-After, which a repair by the
   * sweep must honour too).
   */
  async function release(id: string, token: string, notBeforeSec = 0, neverSent = false): Promise<void> {
    // neverSent: every attempt so far was refused before Slack acted (a 429): the next one need
    // not search Slack first (in a burst, that search is pages of conversations.history per retry).
    await db.$executeRawUnsafe(
      `UPDATE "ChannelMessage" SET "claimToken" = NULL, "claimedAt" = ${NOW} + make_interval(secs => $3), "firstSentAt" = CASE WHEN $4 THEN NULL ELSE "firstSentAt" END
       WHERE "id" = $1::uuid AND "claimToken" = $2 AND "status" = 'posting'`,
      id, token, notBeforeSec, neverSent,
    );
  }

  /**
   * Records `messages` (oldest first) as the slot's: the first completes the claimed row, any
   * further one becomes a copy. When the claim was lost meanwhile, all of them become copies, so
   * every message Slack holds is known and updated.
   */
  async function record(key: SlotKey, claimed: { id: string; token: string }, messages: PostedMessage[], state: string | null, searchAgain = false): Promise<void> {
    const [first, ...rest] = messages;
    const { count: n } = await db.channelMessage.updateMany({
      where: { id: claimed.id, claimToken: claimed.token, status: 'posting' },
      data: { status: 'posted', conversationRef: first.channel, messageRef: first.ts, state, claimToken: null, searchAgain },
    });
    for (const m of n === 1 ? rest : messages) await addCopy(key, m, state);
  }

  /** Records one more message of `key` (idempotent: a message already recorded is skipped). */
  async function addCopy(key: SlotKey, m: PostedMessage, state: string | null): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const rows = await db.channelMessage.findMany({ where: slotWhere(key), select: { copy: true, conversationRef: true, messageRef: true } });
      if (rows.some((r) => r.conversationRef === m.channel && r.messageRef === m.ts)) return;
      const copy = Math.max(0, ...rows.map((r) => r.copy)) + 1;
      const created = await db.$executeRawUnsafe(
        `INSERT INTO "ChannelMessage" ("id", "reviewId", "channel", "target", "kind", "parentRef", "copy", "status", "conversationRef", "messageRef", "state", "createdAt")
         VALUES (gen_random_uuid(), $1::uuid, 'slack', $2, $3, $4, $5, 'posted', $6, $7, $8, ${NOW})
         ON CONFLICT ("reviewId", "channel", "target", "kind", "parentRef", "copy") DO NOTHING`,
        key.reviewId, key.target, key.kind, key.threadTs, copy, m.channel, m.ts, state,
      );
      if (created === 1) return;
    }
    throw new Error(`could not record a copy of the ${key.kind} message of ${key.reviewId} at ${key.target}`);
  }

  /** Drops a claimed slot whose message is not to be sent after all (it was not found in Slack). */
  async function forget(id: string, token: string): Promise<void> {
    await db.channelMessage.deleteMany({ where: { id, claimToken: token, status: 'posting' } });
  }

  return { claim, renew, release, record, addCopy, forget };
}
