// A review as one caller asked for it (GET /api/reviews/:id, votes, MCP's get_review and
// wait_review): the review and what that caller may decide or revoke on it now.
import { previewForRequester, type ReviewView, type ReviewViewForViewer } from '../contracts/review-view.js';
import { toReviewView } from '../db/review-views.js';
import type { AuthUser, ReviewService } from '../service/review-service.js';

/** `row` for `user`: with what they may decide on it now (ReviewViewForViewer). */
export function reviewForViewer(reviews: ReviewService, user: AuthUser, row: Parameters<typeof toReviewView>[0]): ReviewViewForViewer {
  return { ...forRequester(user, row, toReviewView(row)), viewer: { ...reviews.voteOptionsOf(user, row), canRevoke: reviews.canRevoke(user, row), ...reviews.correctionOptionsOf(user, row) } };
}

/**
 * `view` of `row` as `user` may see it: its requester — and the reviewer who wrote a correction,
 * its real author — sees less of the preview where reads are reviewed (admins see all).
 */
export function forRequester<V extends Pick<ReviewView, 'preview'>>(user: AuthUser, row: { requesterId: string; suggestedById?: string | null; connection: { reviewMode: string } }, view: V): V {
  return (user.id === row.requesterId || user.id === row.suggestedById) && !user.isAdmin ? previewForRequester(view, row.connection) : view;
}
