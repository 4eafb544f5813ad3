// The long-poll on one review, shared by GET /api/reviews/:id?wait= and MCP's wait_review: a slot
// per open wait (shared by every replica), a wait that ends early when the client hangs up or the
// gateway stops, and the review read afterwards with the caller's credentials checked again.
import type { ReviewViewForViewer } from '../contracts/review-view.js';
import { ErrorCode } from '../errors.js';
import type { AuthUser, ReviewService } from '../service/review-service.js';
import type { RequestLimits } from './request-limits.js';

export interface ReviewWaitOptions {
  reviews: ReviewService;
  limits?: RequestLimits;
  /** Aborted when the gateway begins to stop: a wait then answers at once with the review as it stands. */
  stopping?: AbortSignal;
}

/**
 * Waits up to `waitMs` for review `id` to be decided (or run), then loads it as `reauthenticate`
 * says the caller is now (a key revoked meanwhile fails). `hangUp` ends the wait early.
 */
export async function waitForReview(opts: ReviewWaitOptions, user: AuthUser, id: string, waitMs: number, hangUp: AbortSignal, reauthenticate: () => Promise<AuthUser>) {
  const controller = new AbortController();
  const abort = () => controller.abort();
  hangUp.addEventListener('abort', abort, { once: true, signal: controller.signal });
  opts.stopping?.addEventListener('abort', abort, { once: true, signal: controller.signal });
  if (hangUp.aborted || opts.stopping?.aborted) controller.abort();
  // A lease outlives a dead replica by 30 s at most.
  const release = opts.limits ? await opts.limits.acquireLongPoll(user.id, waitMs + 30_000) : async () => {};
  try {
    await opts.reviews.waitForDecision(user, id, waitMs, controller.signal);
  } finally {
    // Removes the listeners too (they were added with this signal).
    controller.abort();
    await release();
  }
  // The key may have been revoked, or the user deactivated or moved out of the groups, while it waited.
  return opts.reviews.get(await reauthenticate(), id);
}

/** The 408 of a waited-for request that expired: its words, for the API and MCP alike. */
export function expiredAnswer(view: ReviewViewForViewer) {
  return {
    error: { code: ErrorCode.Timeout, message: `Request ${view.id} expired at ${view.decidedAt ?? view.expiresAt} without every approval; it was not executed. Resubmit the command.` },
    review: view,
  };
}
