// The review state machine: pure functions of (state, event, now). No I/O, no clock.
import type { AuditAction } from './audit-actions.js';
import { AppError, ErrorCode } from '../errors.js';

export type ReviewStatus = 'PENDING' | 'APPROVED' | 'RUNNING' | 'EXECUTED' | 'FAILED' | 'REJECTED' | 'EXPIRED' | 'GRANTED' | 'ENDED';

/**
 * What a request asks for: a `command` to run once approved, or `access`, a time window on the
 * connection (Just-in-Time access): once approved it is GRANTED, and its requester's commands there
 * run without a per-command review until the window ends or is revoked (then ENDED).
 */
export type ReviewKind = 'command' | 'access';
export type GroupStatus = 'PENDING' | 'APPROVED' | 'REJECTED';

export interface GroupApproval {
  group: string;
  status: GroupStatus;
  reviewerId: string | null;
  decidedAt: Date | null;
  reason: string | null;
}

export interface ReviewState {
  status: ReviewStatus;
  requesterId: string;
  /** The person who owns the requesting agent (null or absent: a person's request). */
  requesterOwnerId?: string | null;
  groups: GroupApproval[];
  expiresAt: Date;
  decidedAt: Date | null;
  rejectReason: string | null;
  /**
   * The connection's rule: one person decides for one group of a request, so several reviewer
   * groups mean as many different people ("both groups must approve" is the compliance case).
   */
  distinctApprovers: boolean;
  /** 'command' when absent. */
  kind?: ReviewKind;
  /** An access request: the window asked for, in seconds. */
  accessSec?: number | null;
  /** A granted access request: when its window closes. */
  accessEndsAt?: Date | null;
  /** A window closed before its end. */
  accessRevokedAt?: Date | null;
  /**
   * A correction (a reviewer's "Suggest a change"): whether its requester accepted it. It never
   * becomes APPROVED before: a reviewer must not run a command of their own under another's name.
   * Absent or null: not a correction.
   */
  correction?: { accepted: boolean } | null;
}

/** Who acts: their user id, admin flag and group memberships. */
export interface Actor {
  userId: string;
  isAdmin: boolean;
  groups: readonly string[];
  /** 'agent': a non-human identity, which never decides anything (absent: a person). */
  kind?: 'person' | 'agent';
}

/** The refusal of every vote by an agent, whatever its groups (issue 13: no ghost approvals). */
export const AGENT_CANNOT_VOTE = 'Agents cannot approve or reject requests; a person in the group must decide.';
/** The refusal of every suggested change by an agent. */
export const AGENT_CANNOT_SUGGEST = 'Agents cannot suggest changes to requests; a person in a reviewer group must.';
/** The refusal of every revocation by an agent, even of its own window. */
export const AGENT_CANNOT_REVOKE = 'Agents cannot revoke access; a member of a reviewer group or an admin must.';

export type Vote =
  | { action: 'approve'; actor: Actor; group?: string }
  | { action: 'reject'; actor: Actor; group?: string; reason?: string };

export type Effect =
  | { type: 'execute' }
  | { type: 'update-messages' }
  | { type: 'notify-requester'; outcome: RequesterOutcome };

/** What a requester is told of: a decision, an expiry, or the life of their access window. */
export type RequesterOutcome = 'approved' | 'rejected' | 'expired' | 'granted' | 'revoked' | 'ended';

export interface Transition {
  next: ReviewState;
  /** Audit action name, e.g. `review.approved`. */
  action: AuditAction;
  /** The groups this event decided (approve/reject only). */
  decidedGroups: string[];
  effects: Effect[];
}

/** Statuses a review can move to from each status. */
export const TRANSITIONS: Readonly<Record<ReviewStatus, readonly ReviewStatus[]>> = {
  PENDING: ['APPROVED', 'REJECTED', 'EXPIRED', 'GRANTED'],
  APPROVED: ['RUNNING'],
  RUNNING: ['EXECUTED', 'FAILED'],
  EXECUTED: [],
  FAILED: [],
  REJECTED: [],
  EXPIRED: [],
  GRANTED: ['ENDED'],
  ENDED: [],
};

/** True when a review in `from` may move to `to`. */
export function canTransition(from: ReviewStatus, to: ReviewStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** True when every required group has approved (never a count compared for equality). */
export function allGroupsApproved(groups: readonly GroupApproval[]): boolean {
  return groups.every((g) => g.status === 'APPROVED');
}

/** A short key of what a review shows: its status and each group's status (e.g. `PENDING-AP`). */
export function stateKey(review: { status: string; groups: readonly { status: string }[] }): string {
  return `${review.status}-${review.groups.map((g) => g.status[0]).join('')}`;
}

/** "approved by N of M groups". */
export function approvalProgress(groups: readonly GroupApproval[]): { approved: number; total: number } {
  return { approved: groups.filter((g) => g.status === 'APPROVED').length, total: groups.length };
}

export interface NewReviewInput {
  requester: Actor;
  reviewerGroups: readonly string[];
  now: Date;
  timeoutSec: number;
  /** Why the connection's policy lets this command run without review, if it does ('access-grant': its requester holds an open access window). */
  noReviewBecause?: 'read-only' | 'review-mode-none' | 'access-grant';
  /** The connection's distinct-approvers rule; true unless the connection turned it off. */
  distinctApprovers?: boolean;
  /** An access request for a window of this many seconds (absent: a command). */
  accessSec?: number;
}

export interface NewReview {
  state: ReviewState;
  autoApproved: boolean;
  /** Why no reviewer is asked, when none is. */
  directReason: 'no-reviewers' | 'admin-own-request' | 'read-only' | 'review-mode-none' | 'access-grant' | null;
  effects: Effect[];
}

/** The state of a request as it is created: pending, or approved at once when no review applies. */
export function createReview({ requester, reviewerGroups, now, timeoutSec, noReviewBecause, distinctApprovers = true, accessSec }: NewReviewInput): NewReview {
  const groups = [...new Set(reviewerGroups.map((g) => g.trim()).filter(Boolean))];
  const expiresAt = new Date(now.getTime() + timeoutSec * 1000);
  const access = accessSec !== undefined;
  if (access && noReviewBecause) throw new Error('an access request is always reviewed by the connection\'s groups');
  const base = { requesterId: requester.userId, expiresAt, rejectReason: null, distinctApprovers, kind: access ? ('access' as const) : ('command' as const), accessSec: accessSec ?? null, accessEndsAt: null, accessRevokedAt: null };
  // Approved at once: a command runs, an access window opens now.
  const approvedNow = access
    ? ({ status: 'GRANTED', accessEndsAt: new Date(now.getTime() + accessSec * 1000), effects: [{ type: 'notify-requester', outcome: 'granted' }] } as const)
    : ({ status: 'APPROVED', accessEndsAt: null, effects: [{ type: 'execute' }] } as const);
  if (groups.length === 0 || noReviewBecause) {
    return {
      state: { ...base, status: approvedNow.status, accessEndsAt: approvedNow.accessEndsAt, groups: [], decidedAt: now },
      autoApproved: false,
      directReason: noReviewBecause ?? 'no-reviewers',
      effects: [...approvedNow.effects],
    };
  }
  if (requester.isAdmin) {
    // The seeds: "Admin users automatically approve their own requests."
    const approved = groups.map((group) => ({ group, status: 'APPROVED' as const, reviewerId: requester.userId, decidedAt: now, reason: 'admin own request' }));
    return {
      state: { ...base, status: approvedNow.status, accessEndsAt: approvedNow.accessEndsAt, groups: approved, decidedAt: now },
      autoApproved: true,
      directReason: 'admin-own-request',
      effects: [...approvedNow.effects],
    };
  }
  const pending = groups.map((group) => ({ group, status: 'PENDING' as const, reviewerId: null, decidedAt: null, reason: null }));
  return {
    state: { ...base, status: 'PENDING', groups: pending, decidedAt: null },
    autoApproved: false,
    directReason: null,
    effects: [],
  };
}

function assertDecidable(review: ReviewState, now: Date): void {
  if (review.status === 'EXPIRED' || (review.status === 'PENDING' && now.getTime() >= review.expiresAt.getTime())) {
    throw new AppError(ErrorCode.Expired, `This request expired at ${review.expiresAt.toISOString()} and was not executed; the requester must resubmit it.`);
  }
  if (review.status !== 'PENDING') {
    throw new AppError(ErrorCode.WrongState, `This request is already ${review.status.toLowerCase()}; there is nothing left to decide.`);
  }
}

/** The groups of `review` that `actor` approved (none, or one when approvers must be distinct). */
function approvedBy(review: ReviewState, actor: Actor): GroupApproval[] {
  return review.groups.filter((g) => g.status === 'APPROVED' && g.reviewerId === actor.userId);
}

function refuseSecondApproval(review: ReviewState, actor: Actor, wanted: string[]): void {
  const already = approvedBy(review, actor);
  if (already.length === 0) return;
  throw new AppError(
    ErrorCode.DistinctApprover,
    `You already approved this request for "${already.map((g) => g.group).join('", "')}"; each reviewer group needs a different person, so another member of "${wanted.join('" or "')}" has to approve.`,
  );
}

function targetGroups(review: ReviewState, vote: Vote): GroupApproval[] {
  const required = review.groups.map((g) => g.group);
  if (vote.group !== undefined) {
    const group = review.groups.find((g) => g.group === vote.group);
    if (!group) {
      throw new AppError(ErrorCode.BadInput, `Group "${vote.group}" does not review this request; its reviewer groups are: ${required.join(', ')}.`);
    }
    if (!vote.actor.groups.includes(group.group)) {
      throw new AppError(ErrorCode.NotInGroup, `You are not a member of "${group.group}", so you cannot decide for it. Ask a member of that group, or an admin to add you to it.`);
    }
    if (group.status !== 'PENDING') {
      throw new AppError(ErrorCode.WrongState, `Group "${group.group}" has already ${group.status.toLowerCase()} this request.`);
    }
    return [group];
  }
  const mine = review.groups.filter((g) => g.status === 'PENDING' && vote.actor.groups.includes(g.group));
  if (mine.length === 0) {
    const waiting = review.groups.filter((g) => g.status === 'PENDING').map((g) => g.group);
    throw new AppError(ErrorCode.NotInGroup, `You are not in any group that still has to decide (${waiting.join(', ')}). Ask a member of one of them.`);
  }
  if (!review.distinctApprovers || mine.length === 1) return mine;
  // One person, one group. A rejection stops the request whichever group it counts for, so it is
  // never refused for want of a group (refusing would leave a request pending that someone wants
  // stopped); it is recorded against the first of the person's pending groups.
  if (vote.action === 'reject') return [mine[0]];
  // An approval is an attestation for one group: the person names it, rather than the gateway
  // picking one they did not mean (Slack buttons always name theirs).
  const names = mine.map((g) => g.group);
  refuseSecondApproval(review, vote.actor, names);
  throw new AppError(
    ErrorCode.BadInput,
    `You are in several groups that still have to approve (${names.join(', ')}); one person approves for one group. Name the group you approve for: hoop review approve ID --group ${names[0]} (API: {"group": "${names[0]}"}).`,
  );
}

/**
 * An approval or rejection by `vote.actor`. Approves for the named group or, when none is named,
 * for the actor's one pending group (every pending group of theirs when the connection allows one
 * person to approve for several). The review is APPROVED once every group approved and REJECTED at
 * the first rejection. Throws a coded AppError when the vote is not allowed.
 */
export function decide(review: ReviewState, vote: Vote, now: Date): Transition {
  // First, before any other rule: whatever the request's state or the agent's groups, the answer is the same.
  if (vote.actor.kind === 'agent') throw new AppError(ErrorCode.Forbidden, AGENT_CANNOT_VOTE);
  assertDecidable(review, now);
  if (vote.action === 'approve' && vote.actor.userId === review.requesterId && !vote.actor.isAdmin) {
    throw new AppError(ErrorCode.SelfApproval, 'You cannot approve your own request; another member of a reviewer group has to.');
  }
  // An agent's owner answers for it: approving its request would be approving their own.
  if (vote.action === 'approve' && review.requesterOwnerId && vote.actor.userId === review.requesterOwnerId) {
    throw new AppError(ErrorCode.SelfApproval, 'You own the agent that made this request, so you cannot approve it; another member of a reviewer group has to.');
  }
  // The requester of a correction may turn it down: it was made in their name without them (an
  // agent's, its owner: the agent itself never decides anything).
  if (vote.action === 'reject' && review.correction && vote.actor.userId === (review.requesterOwnerId ?? review.requesterId)) return declineCorrection(review, vote.reason, now);
  // Every group approved a correction that still waits for its requester: a member of any of its
  // groups may still stop it (no group is left pending to reject for).
  if (vote.action === 'reject' && review.correction && !review.correction.accepted && allGroupsApproved(review.groups) && review.groups.some((g) => vote.actor.groups.includes(g.group))) {
    const why = vote.reason?.trim() || 'A reviewer stopped the change before its requester accepted it.';
    return { next: { ...review, status: 'REJECTED', decidedAt: now, rejectReason: why }, action: 'review.rejected', decidedGroups: [], effects: [{ type: 'update-messages' }, { type: 'notify-requester', outcome: 'rejected' }] };
  }
  const chosen = targetGroups(review, vote);
  if (vote.action === 'approve' && review.distinctApprovers) refuseSecondApproval(review, vote.actor, chosen.map((g) => g.group));
  const targets = new Set(chosen.map((g) => g.group));
  const reason = vote.action === 'reject' ? vote.reason?.trim() || null : null;
  const groupStatus: GroupStatus = vote.action === 'approve' ? 'APPROVED' : 'REJECTED';
  const groups = review.groups.map((g) =>
    targets.has(g.group) ? { ...g, status: groupStatus, reviewerId: vote.actor.userId, decidedAt: now, reason } : g,
  );
  const decidedGroups = [...targets];
  if (vote.action === 'reject') {
    return {
      next: { ...review, groups, status: 'REJECTED', decidedAt: now, rejectReason: reason },
      action: 'review.rejected',
      decidedGroups,
      effects: [{ type: 'update-messages' }, { type: 'notify-requester', outcome: 'rejected' }],
    };
  }
  if (allGroupsApproved(groups) && review.kind === 'access') {
    // The window opens with the last approval, and lasts what was asked for from then.
    return {
      next: { ...review, groups, status: 'GRANTED', decidedAt: now, accessEndsAt: new Date(now.getTime() + (review.accessSec ?? 0) * 1000) },
      action: 'review.access_granted',
      decidedGroups,
      effects: [{ type: 'update-messages' }, { type: 'notify-requester', outcome: 'granted' }],
    };
  }
  if (allGroupsApproved(groups) && (!review.correction || review.correction.accepted)) {
    return {
      next: { ...review, groups, status: 'APPROVED', decidedAt: now },
      action: 'review.approved',
      decidedGroups,
      effects: [{ type: 'update-messages' }, { type: 'execute' }],
    };
  }
  return { next: { ...review, groups }, action: 'review.group_approved', decidedGroups, effects: [{ type: 'update-messages' }] };
}

function declineCorrection(review: ReviewState, reason: string | undefined, now: Date): Transition {
  const why = reason?.trim() || 'The requester declined the change.';
  return { next: { ...review, status: 'REJECTED', decidedAt: now, rejectReason: why }, action: 'review.rejected', decidedGroups: [], effects: [{ type: 'update-messages' }, { type: 'notify-requester', outcome: 'rejected' }] };
}

/** Why an agent never accepts a correction: its owner, a person, does. */
export const AGENT_CANNOT_ACCEPT =
  "An agent cannot accept a change a reviewer made to its request: a reviewer's command must not run on the reviewer's word and a program's. The agent's owner accepts it (hoop review accept ID, or the web app).";

/**
 * The requester of a correction accepts it (consent, not an approval). An agent's request is
 * accepted by its owner, a person: otherwise a reviewer could write a command, approve it, and have
 * it run on a program's say-so. APPROVED when every group has approved, else the acceptance is
 * recorded and it waits for them.
 */
export function acceptCorrection(review: ReviewState, actor: Actor, now: Date): Transition {
  if (!review.correction) throw new AppError(ErrorCode.BadInput, 'This request is not a correction: there is no change to accept. Reviewers approve or reject it.');
  if (actor.kind === 'agent') throw new AppError(ErrorCode.Forbidden, AGENT_CANNOT_ACCEPT);
  const accepter = review.requesterOwnerId ?? review.requesterId;
  if (actor.userId !== accepter) {
    throw new AppError(ErrorCode.Forbidden, review.requesterOwnerId ? "Only the owner of the agent that made this request can accept a change made to it." : 'Only the requester can accept a change made to their request.');
  }
  assertDecidable(review, now);
  if (review.correction.accepted) throw new AppError(ErrorCode.WrongState, 'You already accepted this change; it waits for the reviewer groups.');
  const accepted = { ...review, correction: { accepted: true } };
  if (allGroupsApproved(review.groups)) {
    return { next: { ...accepted, status: 'APPROVED', decidedAt: now }, action: 'review.correction_accepted', decidedGroups: [], effects: [{ type: 'update-messages' }, { type: 'execute' }] };
  }
  return { next: accepted, action: 'review.correction_accepted', decidedGroups: [], effects: [{ type: 'update-messages' }] };
}

/** What a suggested change decides: the original rejected, and the correction's groups with the suggester's approval. */
export interface Suggestion {
  original: Transition;
  /** The correction's state as it is created (PENDING, its requester's acceptance still to come). */
  correction: ReviewState;
  /** The group the suggester's approval counts for. */
  group: string;
}

/**
 * A reviewer's "Suggest a change" to `review`: allowed to whoever may reject it now, never an agent
 * nor its requester. The original is rejected with `reason`; the correction, due `timeoutSec` from
 * now, carries the suggester's approval for their group. Throws a coded AppError otherwise.
 */
export function suggestCorrection(review: ReviewState, vote: { actor: Actor; group?: string; reason: string }, now: Date, timeoutSec: number): Suggestion {
  if (vote.actor.kind === 'agent') throw new AppError(ErrorCode.Forbidden, AGENT_CANNOT_SUGGEST);
  if (review.kind === 'access') throw new AppError(ErrorCode.BadInput, 'An access request has no command to change; approve or reject it.');
  if (vote.actor.userId === review.requesterId) throw new AppError(ErrorCode.SelfApproval, 'You cannot suggest a change to your own request; submit the corrected command as a new request.');
  const original = decide(review, { action: 'reject', actor: vote.actor, group: vote.group, reason: vote.reason }, now);
  const group = vote.group ?? original.decidedGroups[0];
  const fresh: ReviewState = {
    ...review,
    status: 'PENDING',
    decidedAt: null,
    rejectReason: null,
    expiresAt: new Date(now.getTime() + timeoutSec * 1000),
    groups: review.groups.map((g) => ({ group: g.group, status: 'PENDING', reviewerId: null, decidedAt: null, reason: null })),
    correction: { accepted: false },
  };
  const approved = decide(fresh, { action: 'approve', actor: vote.actor, group }, now);
  return { original, correction: approved.next, group };
}

/** Expiry of a pending review; null when there is nothing to expire (decided, or not yet due). */
export function expire(review: ReviewState, now: Date): Transition | null {
  if (review.status !== 'PENDING' || now.getTime() < review.expiresAt.getTime()) return null;
  return {
    next: { ...review, status: 'EXPIRED', decidedAt: now },
    action: 'review.expired',
    decidedGroups: [],
    effects: [{ type: 'update-messages' }, { type: 'notify-requester', outcome: 'expired' }],
  };
}

/**
 * GRANTED → ENDED at the window's end; null when there is nothing to end (not granted, or not yet
 * due). A window is enforced by its end time, not by this transition (src/service/access-grants.ts):
 * this records and announces that it is over.
 */
export function endAccess(review: ReviewState, now: Date): Transition | null {
  if (review.status !== 'GRANTED' || !review.accessEndsAt || now.getTime() < review.accessEndsAt.getTime()) return null;
  return { next: { ...review, status: 'ENDED' }, action: 'review.access_ended', decidedGroups: [], effects: [{ type: 'update-messages' }, { type: 'notify-requester', outcome: 'ended' }] };
}

/**
 * GRANTED → ENDED before its end, by `actor`: an admin, a member of one of the request's reviewer
 * groups, or the requester giving their window up. Never an agent, whatever its groups. Throws a coded
 * AppError otherwise.
 */
export function revokeAccess(review: ReviewState, actor: Actor, now: Date): Transition {
  if (actor.kind === 'agent') throw new AppError(ErrorCode.Forbidden, AGENT_CANNOT_REVOKE);
  if (review.kind !== 'access') throw new AppError(ErrorCode.BadInput, 'This request is a command, not an access window: there is nothing to revoke. Reject it while it is pending instead.');
  if (review.status === 'PENDING') throw new AppError(ErrorCode.WrongState, 'This access request is still pending: reject it instead (hoop review reject ID).');
  if (review.status !== 'GRANTED' || (review.accessEndsAt && now.getTime() >= review.accessEndsAt.getTime())) {
    throw new AppError(ErrorCode.WrongState, `This access is not open (it is ${review.status === 'GRANTED' ? 'past its end' : review.status.toLowerCase()}); there is nothing to revoke.`);
  }
  const reviewer = review.groups.some((g) => actor.groups.includes(g.group));
  if (!actor.isAdmin && !reviewer && actor.userId !== review.requesterId) {
    throw new AppError(ErrorCode.NotInGroup, `Only an admin, a member of ${review.groups.map((g) => `"${g.group}"`).join(' or ')} or the requester can revoke this access.`);
  }
  return {
    next: { ...review, status: 'ENDED', accessRevokedAt: now },
    action: 'review.access_revoked',
    decidedGroups: [],
    effects: [{ type: 'update-messages' }, { type: 'notify-requester', outcome: 'revoked' }],
  };
}

/** GRANTED → ENDED now, by the gateway's rules rather than a person's say (an admin changed the connection's access rules): revoked, whatever its end. */
export function revokeAccessAsAdmin(review: ReviewState, now: Date): Transition {
  if (review.status !== 'GRANTED') throw new AppError(ErrorCode.WrongState, `This access is not open (it is ${review.status.toLowerCase()}).`);
  return { next: { ...review, status: 'ENDED', accessRevokedAt: now }, action: 'review.access_revoked', decidedGroups: [], effects: [{ type: 'update-messages' }, { type: 'notify-requester', outcome: 'revoked' }] };
}

/** APPROVED → RUNNING; throws when the review is in any other status (it must never run twice). */
export function startExecution(review: ReviewState): Transition {
  if (review.kind === 'access') throw new AppError(ErrorCode.WrongState, 'An access request has no command to run.');
  if (review.status !== 'APPROVED') {
    throw new AppError(ErrorCode.WrongState, `Only an approved request can run; this one is ${review.status.toLowerCase()}.`);
  }
  return { next: { ...review, status: 'RUNNING' }, action: 'review.execution_started', decidedGroups: [], effects: [] };
}

/** RUNNING → EXECUTED or FAILED. */
export function finishExecution(review: ReviewState, succeeded: boolean): Transition {
  if (review.status !== 'RUNNING') {
    throw new AppError(ErrorCode.WrongState, `Only a running request can finish; this one is ${review.status.toLowerCase()}.`);
  }
  return {
    next: { ...review, status: succeeded ? 'EXECUTED' : 'FAILED' },
    action: succeeded ? 'review.executed' : 'review.failed',
    decidedGroups: [],
    effects: [{ type: 'update-messages' }],
  };
}

/**
 * The groups of `review` that `actor` may still decide at `now` (what a Home tab offers them): their
 * pending groups of a pending, unexpired request of someone else, none once they approved a group
 * of it where each group needs a different person.
 */
export function decidableGroups(review: Pick<ReviewState, 'status' | 'groups' | 'distinctApprovers' | 'requesterId' | 'expiresAt'>, actor: Actor, now: Date): string[] {
  if (actor.kind === 'agent' || review.status !== 'PENDING' || now.getTime() >= review.expiresAt.getTime() || review.requesterId === actor.userId) return [];
  if (review.distinctApprovers && review.groups.some((g) => g.status === 'APPROVED' && g.reviewerId === actor.userId)) return [];
  return review.groups.filter((g) => g.status === 'PENDING' && actor.groups.includes(g.group)).map((g) => g.group);
}
