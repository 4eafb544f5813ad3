// What a person's Slack Home tab lists, under the API's visibility rules (access-filters.ts): the
// requests waiting for their decision, and their own latest requests. Light rows: the command is
// read as a preview (review-list.ts) and no output at all.
import { decidableGroups } from '../core/review-state.js';
import { visibleReviewsWhere } from './access-filters.js';
import type { Db, Prisma } from './client.js';
import { listReviews, type ReviewListRow } from './review-list.js';

export interface HomeViewer {
  id: string;
  isAdmin: boolean;
  groups: string[];
}

export interface HomeReviews {
  /** Newest first, with the groups the viewer may decide for each. */
  waiting: { review: ReviewListRow; groups: string[] }[];
  /** How many requests wait for the viewer in all. */
  waitingTotal: number;
  /** The viewer's own requests, newest first. */
  mine: ReviewListRow[];
  mineTotal: number;
}

const LIGHT = { output: false, input: false, classification: false };

/** decidableGroups as a query, within what the viewer may see (the rule is applied again to each row). */
function waitingWhere(viewer: HomeViewer, now: Date): Prisma.ReviewWhereInput {
  return {
    AND: [
      visibleReviewsWhere(viewer),
      { status: 'PENDING', expiresAt: { gt: now }, requesterId: { not: viewer.id } },
      { groups: { some: { status: 'PENDING', group: { in: viewer.groups } } } },
      { OR: [{ connection: { distinctApprovers: false } }, { groups: { none: { status: 'APPROVED', reviewerId: viewer.id } } }] },
    ],
  };
}

/** Up to `limit` of each list, and how many there are in all. */
export async function loadHomeReviews(db: Db, viewer: HomeViewer, now: Date, limit = 10): Promise<HomeReviews> {
  const waitingQuery = waitingWhere(viewer, now);
  const mineQuery: Prisma.ReviewWhereInput = { AND: [visibleReviewsWhere(viewer), { requesterId: viewer.id }] };
  const [waitingRows, waitingTotal, mine, mineTotal] = await Promise.all([
    viewer.groups.length ? listReviews(db, waitingQuery, { take: limit, include: LIGHT }) : Promise.resolve([]),
    viewer.groups.length ? db.review.count({ where: waitingQuery }) : Promise.resolve(0),
    listReviews(db, mineQuery, { take: limit, include: LIGHT }),
    db.review.count({ where: mineQuery }),
  ]);
  const actor = { userId: viewer.id, isAdmin: viewer.isAdmin, groups: viewer.groups };
  const waiting = waitingRows
    .map((review) => ({ review, groups: decidableGroups({ ...review, distinctApprovers: review.connection.distinctApprovers }, actor, now) }))
    .filter((w) => w.groups.length > 0);
  return { waiting, waitingTotal, mine, mineTotal };
}
