// Set-based access to the reviews that are due to expire: a burst of thousands due in the same
// second is locked, read and written a batch at a time, each step one statement over arrays (a
// Prisma createMany or `IN (...)` of 1,000 rows cost seconds here; these cost milliseconds).
import type { GroupStatus, ReviewState } from '../core/review-state.js';
import type { Tx } from './client.js';

/** A pending review due to expire, as much of it as the core's expire() needs. */
export interface DueReview {
  id: string;
  createdAt: Date;
  /** Its connection's plugins (which channels announce the expiry). */
  plugins: string[];
  state: ReviewState;
}

/** Timestamps are "timestamp without time zone" holding UTC, as Prisma writes every DateTime. */
const utc = (d: Date) => d.toISOString();

/**
 * Locks up to `limit` pending reviews due at `now` (oldest deadline first) for the rest of the
 * transaction. Rows another transaction holds (a vote being decided, a concurrent pass) are
 * skipped, not waited for: that transaction decides them, or a later pass does.
 */
export async function lockDueReviews(tx: Tx, now: Date, limit: number): Promise<DueReview[]> {
  // Groups as two text arrays, not JSON: the driver adapter's JSON handling cost ~100 ms per 1,000 rows.
  type Row = { id: string; requesterId: string; createdAt: Date; expiresAt: Date; distinctApprovers: boolean; plugins: string[]; groupNames: string[]; groupStatuses: GroupStatus[] };
  const rows = await tx.$queryRaw<Row[]>`
    SELECT r."id", r."requesterId", r."createdAt", r."expiresAt", c."distinctApprovers", c."plugins",
      ARRAY(SELECT g."group" FROM "ReviewGroup" g WHERE g."reviewId" = r."id" ORDER BY g."group") AS "groupNames",
      ARRAY(SELECT g."status"::text FROM "ReviewGroup" g WHERE g."reviewId" = r."id" ORDER BY g."group") AS "groupStatuses"
    FROM "Review" r JOIN "Connection" c ON c."id" = r."connectionId"
    WHERE r."status" = 'PENDING' AND r."expiresAt" <= (${utc(now)}::timestamptz AT TIME ZONE 'UTC')
    ORDER BY r."expiresAt"
    LIMIT ${limit}
    FOR UPDATE OF r SKIP LOCKED`;
  return rows.map((r) => ({
    id: r.id,
    createdAt: r.createdAt,
    plugins: r.plugins,
    state: {
      status: 'PENDING',
      requesterId: r.requesterId,
      expiresAt: r.expiresAt,
      decidedAt: null,
      rejectReason: null,
      distinctApprovers: r.distinctApprovers,
      // Pending groups only (a decided group would have decided the review): no reviewer, no reason.
      groups: r.groupNames.map((group, i) => ({ group, status: r.groupStatuses[i], reviewerId: null, decidedAt: null, reason: null })),
    },
  }));
}

/**
 * Writes EXPIRED to reviews locked by lockDueReviews, conditionally (`WHERE status = 'PENDING'`),
 * as writeTransition does for one; throws when any of them was not pending any more.
 */
export async function markExpired(tx: Tx, ids: readonly string[], decidedAt: Date): Promise<void> {
  if (ids.length === 0) return;
  const count = await tx.$executeRaw`
    UPDATE "Review" SET "status" = 'EXPIRED', "decidedAt" = (${utc(decidedAt)}::timestamptz AT TIME ZONE 'UTC')
    WHERE "id" = ANY(${[...ids]}::uuid[]) AND "status" = 'PENDING'`;
  if (count !== ids.length) throw new Error(`expected to expire ${ids.length} locked pending reviews, expired ${count}`);
}
