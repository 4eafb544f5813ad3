// A review as one caller asked for it (GET /api/reviews/:id, votes, MCP's get_review and
// wait_review): the review and what that caller may decide or revoke on it now.
import type { ReviewViewForViewer } from '../contracts/review-view.js';
import { toReviewView } from '../db/review-views.js';
import type { AuthUser, ReviewService } from '../service/review-service.js';

/** `row` for `user`: with what they may decide on it now (ReviewViewForViewer). */
export function reviewForViewer(reviews: ReviewService, user: AuthUser, row: Parameters<typeof toReviewView>[0]): ReviewViewForViewer {
  return { ...toReviewView(row), viewer: { ...reviews.voteOptionsOf(user, row), canRevoke: reviews.canRevoke(user, row), ...reviews.correctionOptionsOf(user, row) } };
}
