// Set-based access to the reviews that are due to expire: a burst of thousands due in the same
// second is locked, read and written a batch at a time instead of one transaction per review.
import type { ReviewState } from '../core/review-state.js';
import type { Tx } from './client.js';

/** A pending review due to expire, as much of it as the core's expire() needs. */
export interface DueReview {
  id: string;
  state: ReviewState;
}

/**
 * Locks up to `limit` pending reviews due at `now` (oldest deadline first) for the rest of the
 * transaction. Rows another transaction holds (a vote being decided, a concurrent pass) are
 * skipped, not waited for: that transaction decides them, or a later pass does.
 */
export async function lockDueReviews(tx: Tx, now: Date, limit: number): Promise<DueReview[]> {
  // "expiresAt" is a timestamp without time zone holding UTC (as Prisma writes every DateTime).
  const rows = await tx.$queryRaw<{ id: string; requesterId: string; expiresAt: Date; distinctApprovers: boolean }[]>`
    SELECT r."id", r."requesterId", r."expiresAt", c."distinctApprovers"
    FROM "Review" r JOIN "Connection" c ON c."id" = r."connectionId"
    WHERE r."status" = 'PENDING' AND r."expiresAt" <= (${now.toISOString()}::timestamptz AT TIME ZONE 'UTC')
    ORDER BY r."expiresAt"
    LIMIT ${limit}
    FOR UPDATE OF r SKIP LOCKED`;
  if (rows.length === 0) return [];
  const groups = await tx.reviewGroup.findMany({
    where: { reviewId: { in: rows.map((r) => r.id) } },
    select: { reviewId: true, group: true, status: true, reviewerId: true, decidedAt: true, reason: true },
    orderBy: [{ reviewId: 'asc' }, { group: 'asc' }],
  });
  const byReview = new Map<string, typeof groups>();
  for (const g of groups) byReview.set(g.reviewId, [...(byReview.get(g.reviewId) ?? []), g]);
  return rows.map((r) => ({
    id: r.id,
    state: {
      status: 'PENDING',
      requesterId: r.requesterId,
      expiresAt: r.expiresAt,
      decidedAt: null,
      rejectReason: null,
      distinctApprovers: r.distinctApprovers,
      groups: (byReview.get(r.id) ?? []).map(({ group, status, reviewerId, decidedAt, reason }) => ({ group, status, reviewerId, decidedAt, reason })),
    },
  }));
}

/**
 * Writes EXPIRED to reviews locked by lockDueReviews, conditionally (`WHERE status = 'PENDING'`),
 * as writeTransition does for one; throws when any of them was not pending any more.
 */
export async function markExpired(tx: Tx, ids: readonly string[], decidedAt: Date): Promise<void> {
  if (ids.length === 0) return;
  const { count } = await tx.review.updateMany({ where: { id: { in: [...ids] }, status: 'PENDING' }, data: { status: 'EXPIRED', decidedAt } });
  if (count !== ids.length) throw new Error(`expected to expire ${ids.length} locked pending reviews, expired ${count}`);
}
