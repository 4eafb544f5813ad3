import type { ReviewState, Transition } from '../core/review-state.js';
import { AppError, ErrorCode } from '../errors.js';
import type { Db, Prisma, Tx } from './client.js';
import { slackIdentity } from './identities.js';

export const reviewInclude = {
  connection: { select: { id: true, name: true, slackChannel: true, reviewers: true, allowedGroups: true, distinctApprovers: true, plugins: true, accessMode: true, jitAgents: true, maxAccessSec: true, reviewMode: true } },
  requester: { select: { id: true, email: true, name: true, active: true, kind: true, ownerId: true, owner: { select: { email: true } }, ...slackIdentity } },
  accessRevokedBy: { select: { email: true, ...slackIdentity } },
  // A command run under an access window: that window's reviewer groups may see it too.
  grant: { select: { id: true, groups: { select: { group: true } } } },
  // A correction: the request it corrects (its command, for the diff) and who suggested it; an
  // original: the correction made of it.
  correctionOf: { select: { id: true, input: true } },
  suggestedBy: { select: { email: true, ...slackIdentity } },
  corrections: { select: { id: true }, orderBy: { createdAt: 'asc' }, take: 1 },
  groups: { orderBy: { group: 'asc' }, include: { reviewer: { select: { id: true, email: true, name: true, ...slackIdentity } } } },
} satisfies Prisma.ReviewInclude;

export type ReviewRow = Prisma.ReviewGetPayload<{ include: typeof reviewInclude }>;

/** The core's view of a stored review. */
export function toReviewState(row: ReviewRow): ReviewState {
  return {
    status: row.status,
    requesterId: row.requesterId,
    requesterOwnerId: row.requester.ownerId ?? null,
    expiresAt: row.expiresAt,
    decidedAt: row.decidedAt,
    rejectReason: row.rejectReason,
    distinctApprovers: row.connection.distinctApprovers,
    kind: row.kind === 'access' ? 'access' : 'command',
    accessSec: row.accessSec,
    accessEndsAt: row.accessEndsAt,
    accessRevokedAt: row.accessRevokedAt,
    // A correction is known by its comment (always given), not by its link to the original, which
    // a deleted original would clear: it must never lose its need of the requester's acceptance.
    correction: row.suggestComment !== null ? { accepted: row.acceptedAt !== null } : null,
    groups: row.groups.map((g) => ({ group: g.group, status: g.status, reviewerId: g.reviewerId, decidedAt: g.decidedAt, reason: g.reason })),
  };
}

/** Loads a review with what every view of it needs; NotFound when there is none. */
export async function getReview(db: Db | Tx, id: string): Promise<ReviewRow> {
  const row = isUuid(id) ? await db.review.findUnique({ where: { id }, include: reviewInclude }) : null;
  if (!row) throw reviewNotFound(id);
  return row;
}

/** The one answer for a review that does not exist *or* that the caller may not see. */
export function reviewNotFound(id: string): AppError {
  return new AppError(ErrorCode.NotFound, `No request has the id ${id}. Check the id (hoop admin get reviews lists them).`);
}

/** What deciding who may see a review, and whether it is still open, needs: no input or output. */
export async function getReviewAccess(db: Db | Tx, id: string) {
  const row = isUuid(id)
    ? await db.review.findUnique({
        where: { id },
        select: { status: true, requesterId: true, groups: { select: { group: true } }, grant: { select: { groups: { select: { group: true } } } }, connection: { select: { allowedGroups: true, reviewers: true } } },
      })
    : null;
  if (!row) throw reviewNotFound(id);
  return row;
}

/** What the access rule needs of several reviews at once (the web app's live stream); unknown ids are left out. */
export async function getReviewsAccess(db: Db | Tx, ids: readonly string[]) {
  const valid = ids.filter(isUuid);
  if (valid.length === 0) return [];
  return db.review.findMany({
    where: { id: { in: valid } },
    select: { id: true, status: true, requesterId: true, groups: { select: { group: true } }, grant: { select: { groups: { select: { group: true } } } }, connection: { select: { allowedGroups: true, reviewers: true } } },
  });
}

/** Only the status of a review (a long-poll re-reads this while it waits); NotFound when none. */
export async function getReviewStatus(db: Db | Tx, id: string): Promise<ReviewState['status']> {
  const row = isUuid(id) ? await db.review.findUnique({ where: { id }, select: { status: true } }) : null;
  if (!row) throw reviewNotFound(id);
  return row.status;
}

/**
 * Locks the review row for the rest of the transaction, then loads it: two deciders of the same
 * review are serialised, so the second always sees the first one's groups.
 */
export async function lockReview(tx: Tx, id: string): Promise<ReviewRow> {
  if (isUuid(id)) await tx.$queryRaw`SELECT id FROM "Review" WHERE id = ${id}::uuid FOR UPDATE`;
  return getReview(tx, id);
}

/**
 * Writes a transition: one conditional update of the review (`WHERE status = <from>`), the groups
 * it decided, and nothing else. Throws Conflict when another writer got there first.
 */
export async function writeTransition(
  tx: Tx,
  id: string,
  from: ReviewState['status'],
  t: Transition,
  extra: Prisma.ReviewUncheckedUpdateManyInput = {},
  /** Written with each group the transition decides (an approval's input digest and row limit). */
  groupExtra: Prisma.ReviewGroupUncheckedUpdateManyInput = {},
): Promise<void> {
  const { count } = await tx.review.updateMany({
    where: { id, status: from },
    data: {
      status: t.next.status,
      decidedAt: t.next.decidedAt,
      rejectReason: t.next.rejectReason,
      // An access window: opened by the last approval, closed early by a revocation.
      ...(t.next.kind === 'access' ? { accessEndsAt: t.next.accessEndsAt ?? null, accessRevokedAt: t.next.accessRevokedAt ?? null } : {}),
      ...extra,
    },
  });
  if (count !== 1) {
    throw new AppError(ErrorCode.Conflict, 'This request changed while you were deciding; look at it again.');
  }
  for (const group of t.next.groups.filter((g) => t.decidedGroups.includes(g.group))) {
    const updated = await tx.reviewGroup.updateMany({
      where: { reviewId: id, group: group.group, status: 'PENDING' },
      data: { status: group.status, reviewerId: group.reviewerId, decidedAt: group.decidedAt, reason: group.reason, ...groupExtra },
    });
    if (updated.count !== 1) {
      throw new AppError(ErrorCode.Conflict, `Group "${group.group}" was decided by someone else meanwhile; look at the request again.`);
    }
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a syntactically valid UUID (ids we never issued are NotFound, not a database error). */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
