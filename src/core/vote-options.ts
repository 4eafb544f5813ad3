// What a viewer of a request may decide now, for pages that show Approve and Reject buttons only to
// those who may press them. Not a second copy of the voting rule: it asks `decide` itself, once per
// group and action, so a page offers exactly what a vote would accept and says why in its words.
import { isAppError } from '../errors.js';
import { decide, type Actor, type ReviewState } from './review-state.js';

export interface VoteOptions {
  /** The viewer may approve or reject for at least one group now. */
  canDecide: boolean;
  /** The groups the viewer may decide for now (reject, at least); a vote names one when there are several. */
  groups: string[];
  /** Those of `groups` the viewer may also approve for (none: they may only reject). */
  approveGroups: string[];
  /** Why the viewer may not decide, or not approve, in the words a vote would be refused with; null when both are allowed. */
  why: string | null;
}

/** The vote `decide` accepts, or the words of its refusal. */
function tryVote(review: ReviewState, actor: Actor, action: 'approve' | 'reject', group: string | undefined, now: Date): string | null {
  try {
    decide(review, action === 'approve' ? { action, actor, group } : { action, actor, group }, now);
    return null;
  } catch (error) {
    if (isAppError(error)) return error.message;
    throw error;
  }
}

/**
 * The votes `actor` may cast on `review` at `now`. A group is offered for approval when approving
 * for it is accepted, and for rejection when rejecting for it is; when nothing is accepted, `why`
 * holds the refusal of a vote that names no group (what the API would answer such a vote).
 */
export function voteOptions(review: ReviewState, actor: Actor, now: Date): VoteOptions {
  const pending = review.groups.filter((g) => g.status === 'PENDING').map((g) => g.group);
  const approveGroups = pending.filter((g) => tryVote(review, actor, 'approve', g, now) === null);
  const groups = pending.filter((g) => approveGroups.includes(g) || tryVote(review, actor, 'reject', g, now) === null);
  let why: string | null = null;
  if (groups.length === 0) why = tryVote(review, actor, 'approve', undefined, now) ?? tryVote(review, actor, 'reject', undefined, now);
  else if (approveGroups.length === 0) why = tryVote(review, actor, 'approve', groups[0], now);
  return { canDecide: groups.length > 0, groups, approveGroups, why };
}
