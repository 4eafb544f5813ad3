// What channels posted where (ChannelMessage rows), for channels that can neither edit nor look up
// what they posted (a Teams Workflows webhook): a post is claimed before it is sent and marked
// posted after, so a retried job skips a post known to have arrived, and two jobs never send one at
// once. Such a post has no thread and no copies (parentRef '', copy 0) and no message references.
import { createHash } from 'node:crypto';
import type { Db } from './client.js';

export interface PostKey {
  reviewId: string;
  channel: string;
  /** sha256 of the destination (see targetOf). */
  target: string;
  kind: string;
}

/** A destination as stored: its sha256, so a secret URL never reaches the database. */
export function targetOf(destination: string): string {
  return createHash('sha256').update(destination).digest('hex');
}

/** The table's unique key of a post: one message, outside any thread. */
function uniqueOf(key: PostKey) {
  return { reviewId: key.reviewId, channel: key.channel, target: key.target, kind: key.kind, parentRef: '', copy: 0 };
}

export type Claim =
  | { outcome: 'claimed'; attempts: number }
  | { outcome: 'posted' }
  /** Another attempt holds the claim, taken `heldForMs` ago. */
  | { outcome: 'held'; heldForMs: number };

/**
 * Claims the post of `key` for this attempt. A claim older than `leaseMs` (its process stopped, or
 * its post is still hanging past any timeout) is taken over; a released one (a failed attempt) at
 * once. One statement each way, so two attempts never both get 'claimed'.
 */
export async function claimPost(db: Db, key: PostKey, leaseMs: number): Promise<Claim> {
  const taken = await db.$queryRaw<{ attempts: number }[]>`
    INSERT INTO "ChannelMessage" ("id", "reviewId", "channel", "target", "kind", "parentRef", "copy", "status", "claimedAt", "attempts", "createdAt")
    VALUES (gen_random_uuid(), ${key.reviewId}::uuid, ${key.channel}, ${key.target}, ${key.kind}, '', 0, 'posting', timezone('UTC', now()), 1, timezone('UTC', now()))
    ON CONFLICT ("reviewId", "channel", "target", "kind", "parentRef", "copy") DO UPDATE
      SET "claimedAt" = timezone('UTC', now()), "attempts" = "ChannelMessage"."attempts" + 1
      WHERE "ChannelMessage"."status" = 'posting'
        AND ("ChannelMessage"."claimedAt" IS NULL OR "ChannelMessage"."claimedAt" < timezone('UTC', now()) - make_interval(secs => ${leaseMs / 1000}::float8))
    RETURNING "attempts"`;
  if (taken.length === 1) return { outcome: 'claimed', attempts: taken[0].attempts };
  const row = await db.channelMessage.findUnique({
    where: { reviewId_channel_target_kind_parentRef_copy: uniqueOf(key) },
    select: { status: true, claimedAt: true },
  });
  if (!row || row.status === 'posted') return { outcome: 'posted' };
  // claimedAt is UTC held in a timestamp without time zone, as Prisma writes and reads it.
  return { outcome: 'held', heldForMs: Math.max(0, Date.now() - (row.claimedAt?.getTime() ?? 0)) };
}

/** Marks a claimed post as accepted by the channel. */
export async function markPosted(db: Db, key: PostKey): Promise<void> {
  await db.channelMessage.update({ where: { reviewId_channel_target_kind_parentRef_copy: uniqueOf(key) }, data: { status: 'posted', postedAt: new Date(), claimedAt: null } });
}

/**
 * Gives a claim back after a failed attempt, so the next one need not wait for the lease. `attempt`
 * is the claim's number (Claim.attempts): an attempt whose lease lapsed and was taken over gives
 * back nothing, so the attempt now posting keeps its claim.
 */
export async function releasePost(db: Db, key: PostKey, attempt: number): Promise<void> {
  await db.channelMessage.updateMany({ where: { ...uniqueOf(key), status: 'posting', attempts: attempt }, data: { claimedAt: null } });
}

/** The kinds posted on `channel` for each of `reviewIds` (any target). */
export async function postedKinds(db: Db, channel: string, reviewIds: readonly string[]): Promise<Map<string, Set<string>>> {
  const rows = await db.channelMessage.findMany({ where: { channel, reviewId: { in: [...reviewIds] } }, select: { reviewId: true, kind: true, status: true } });
  const out = new Map<string, Set<string>>();
  for (const r of rows) {
    if (!out.has(r.reviewId)) out.set(r.reviewId, new Set());
    // A review with only claims (posting) is known to the channel, with nothing posted yet.
    if (r.status === 'posted') out.get(r.reviewId)!.add(r.kind);
  }
  return out;
}

/**
 * Of `reviewIds`, those with a `kind` post on `channel` that was claimed and never posted, and whose
 * last attempt is older than `before` (its job ran out of attempts in an outage, or its process died).
 */
export async function unfinishedPosts(db: Db, channel: string, kind: string, reviewIds: readonly string[], before: Date): Promise<Set<string>> {
  const rows = await db.channelMessage.findMany({
    where: { channel, kind, status: 'posting', reviewId: { in: [...reviewIds] }, OR: [{ claimedAt: null }, { claimedAt: { lt: before } }] },
    select: { reviewId: true },
  });
  return new Set(rows.map((r) => r.reviewId));
}
