// Just-in-Time access (issue 13): the use cases of an access window. A window is a request of kind
// 'access': it goes through the connection's groups, channels, approval rule, expiry and audit like
// a command, and once every group approved it is GRANTED until accessEndsAt. While it is open, its
// requester's commands on its connection that would wait for a review run without one (submit asks
// findOpenGrant); guardrails, masking and the read-only routing of reads still apply, and each such
// command records its window (grantId). A window is enforced by its end time — a command submitted
// after it gets no pass, whatever became of the job that ends it — and revoked at once by a reviewer
// or an admin. The end job and the sweep only record the end and tell the channels.
import { randomUUID } from 'node:crypto';
import { accessModeOf, checkAccessDuration, checkMayRequestAccess } from '../core/access-window.js';
import { agentDetail } from '../core/agents.js';
import { originOf } from '../contracts/request-origin.js';
import { canUseConnection } from '../core/access.js';
import type { Clock } from '../core/ports.js';
import { createReview, endAccess, revokeAccess, revokeAccessAsAdmin, type Transition } from '../core/review-state.js';
import { recordAudit, SYSTEM_ACTOR, type AuditContext } from '../db/audit.js';
import type { Db, Tx } from '../db/client.js';
import { findOpenGrant } from '../db/open-grants.js';
import { toReviewView } from '../db/review-views.js';
import { getReview, isUuid, lockReview, reviewInclude, reviewNotFound, toReviewState, writeTransition, type ReviewRow } from '../db/reviews.js';
import { AppError, ErrorCode, isAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { NotifierRegistry } from '../notify/registry.js';
import type { ReviewView } from '../contracts/review-view.js';
import type { AuthUser } from './auth-user.js';
import { actorOf, visibleTo } from './review-access.js';
import { endAccessJobId, jobsOfNewRequest, remindAtOf, type AfterCommit, type Outbox, type RecordEffects } from './review-effects.js';
import { checkLength, MAX_REASON_CHARS } from './submit-command.js';

export interface AccessRequestInput {
  connection: string;
  /** "30m", "2h", "1h30m", or seconds. */
  duration: unknown;
  reason?: string;
  /** Counts the request against its sender's limit; throws to refuse it. */
  admit?: () => Promise<void>;
}

export interface AccessGrantsOptions {
  db: Db;
  outbox: Outbox;
  afterCommit: AfterCommit;
  recordEffects: RecordEffects;
  notifiers: NotifierRegistry;
  clock: Clock;
  log: Logger;
  reviewTimeoutSec: number;
  reviewReminderSec?: number;
}


/** Conflict when `user` already holds an open window on `connection`, or has asked for one still pending. */
async function refuseSecondWindow(db: Db | Tx, user: AuthUser, connection: { id: string; name: string }, now: Date): Promise<void> {
  const open = await findOpenGrant(db, user.id, connection.id, now);
  if (open) {
    throw new AppError(ErrorCode.Conflict, `You already have access to ${connection.name} until ${open.accessEndsAt.toISOString()} (request ${open.id}). Ask again once it ends, or have it revoked first.`, { details: { reviewId: open.id } });
  }
  const pending = await db.review.findFirst({ where: { kind: 'access', requesterId: user.id, connectionId: connection.id, status: 'PENDING', expiresAt: { gt: now } }, select: { id: true } });
  if (pending) {
    throw new AppError(ErrorCode.Conflict, `You already asked for access to ${connection.name}: request ${pending.id} is waiting for its reviewers (hoop review ${pending.id} --wait).`, { details: { reviewId: pending.id } });
  }
}

/**
 * What approving an access request must still find true when the last group approves it: the
 * connection still grants windows (to agents, if an agent asked), this long, and its requester has
 * no other window open there. Otherwise the approval is refused with what to do (reject it).
 */
export async function checkGrantable(tx: Tx, row: ReviewRow, now: Date): Promise<void> {
  const refuse = (why: string) => new AppError(ErrorCode.WrongState, `This access request can no longer be granted: ${why} Reject it; the requester may ask again.`);
  try {
    checkMayRequestAccess(row.connection, { kind: row.requester.kind === 'agent' ? 'agent' : 'person' });
  } catch (error) {
    if (isAppError(error)) throw refuse(`${row.connection.name}'s access settings changed since it was asked.`);
    throw error;
  }
  if ((row.accessSec ?? 0) > row.connection.maxAccessSec) throw refuse(`it asks for longer than ${row.connection.name} now allows.`);
  const open = await findOpenGrant(tx, row.requesterId, row.connection.id, now, true);
  if (open && open.id !== row.id) throw refuse(`the requester already holds an open window there (request ${open.id}).`);
}

/** The connection fields whose change ends its open access windows (they were granted under the old ones). */
const ACCESS_POLICY_FIELDS: readonly string[] = ['accessMode', 'jitAgents', 'maxAccessSec', 'reviewers', 'allowedGroups', 'url'];

/**
 * Ends every open window on a connection whose access rules an admin just changed (its access mode,
 * agents' right to windows, longest window, reviewers, allowed groups or database): a window was
 * granted under the old rules. Each is revoked by that admin and audited with the fields changed.
 */
export async function revokeOnPolicyChange(opts: Pick<AccessGrantsOptions, 'db' | 'clock' | 'recordEffects' | 'afterCommit' | 'log'>, admin: AuthUser, connectionName: string, changedFields: readonly string[], ctx: AuditContext): Promise<number> {
  const changed = changedFields.filter((f) => ACCESS_POLICY_FIELDS.includes(f));
  if (changed.length === 0) return 0;
  const { db, clock } = opts;
  const now = clock.now();
  const open = await db.review.findMany({ where: { kind: 'access', status: 'GRANTED', accessEndsAt: { gt: now }, connection: { name: connectionName } }, select: { id: true } });
  let ended = 0;
  for (const { id } of open) {
    const t = await db.$transaction(async (tx) => {
      const row = await lockReview(tx, id);
      if (row.status !== 'GRANTED') return null;
      const next: Transition = { ...revokeAccessAsAdmin(toReviewState(row), now) };
      await writeTransition(tx, id, 'GRANTED', next, { accessRevokedById: admin.id });
      await recordAudit(tx, ctx, next.action, id, { endsAt: row.accessEndsAt?.toISOString() ?? null, revokedAt: now.toISOString(), reason: 'connection-policy-changed', changed: [...changed] });
      await opts.recordEffects(tx, id, next, row.connection.plugins);
      return next;
    });
    if (t) {
      ended++;
      await opts.afterCommit(id, t).catch((err: unknown) => opts.log.warn({ err, reviewId: id }, 'could not announce a window ended by a policy change'));
    }
  }
  return ended;
}

/** The use cases of access windows. */
export function createAccessGrants(opts: AccessGrantsOptions) {
  const { db, outbox, afterCommit, recordEffects, notifiers, clock, log } = opts;

  /** A request for a window on a connection: pending for its reviewers, or granted at once (an admin's own, a connection without reviewers). */
  async function requestAccess(user: AuthUser, input: AccessRequestInput, ctx: AuditContext): Promise<ReviewView> {
    checkLength('reason', input.reason, MAX_REASON_CHARS);
    const reason = input.reason?.trim();
    if (!reason) throw new AppError(ErrorCode.BadInput, 'Say why you need access in "reason" (hoop request access CONN --duration 30m --reason "..."): the reviewers read it.');
    const connection = await db.connection.findUnique({ where: { name: input.connection } });
    if (!connection || !canUseConnection(user, connection)) {
      throw new AppError(ErrorCode.NotFound, `There is no connection named "${input.connection}". List the connections with GET /api/connections (hoop admin get connections).`);
    }
    checkMayRequestAccess(connection, user);
    const accessSec = checkAccessDuration(input.duration, connection);
    const now = clock.now();
    // Asked before the count, and again under the lock below (where it decides).
    await refuseSecondWindow(db, user, connection, now);
    await input.admit?.();
    const created = createReview({ requester: actorOf(user), reviewerGroups: connection.reviewers, now, timeoutSec: opts.reviewTimeoutSec, distinctApprovers: connection.distinctApprovers, accessSec });
    const { state } = created;
    const id = randomUUID();
    const stored = await db.$transaction(async (tx) => {
      // One person, one connection, one window asked or open at a time: requests sent at once
      // queue here, and the second sees the first (else revoking "their access" would leave one open).
      await tx.$queryRaw`SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtext(${`hoop-access:${user.id}:${connection.id}`}))`;
      await refuseSecondWindow(tx, user, connection, now);
      const review = await tx.review.create({
        include: reviewInclude,
        data: {
          id,
          kind: 'access',
          connectionId: connection.id,
          requesterId: user.id,
          input: '',
          reason,
          accessSec,
          accessEndsAt: state.accessEndsAt ?? null,
          // Where the request came from, shown to reviewers as a command's is.
          origin: (originOf(ctx) ?? undefined) as object | undefined,
          status: state.status,
          autoApproved: created.autoApproved,
          expiresAt: state.expiresAt,
          decidedAt: state.decidedAt,
          createdAt: now,
          groups: { create: state.groups.map((g) => ({ group: g.group, status: g.status, reviewerId: g.reviewerId, decidedAt: g.decidedAt, reason: g.reason })) },
        },
      });
      await recordAudit(tx, ctx, 'review.created', id, { connection: connection.name, kind: 'access', accessSec, status: state.status, groups: state.groups.map((g) => g.group), ...agentDetail(user) });
      if (created.directReason) await recordAudit(tx, ctx, created.autoApproved ? 'review.auto_approved' : 'review.no_review_required', id, { reason: created.directReason });
      if (state.status === 'PENDING') {
        await outbox.write(tx, id, jobsOfNewRequest(notifiers, connection.plugins, id, state.expiresAt, remindAtOf(now, opts.reviewReminderSec)));
      } else {
        await recordAudit(tx, ctx, 'review.access_granted', id, { endsAt: state.accessEndsAt!.toISOString(), accessSec });
        // Reviewers see an admin's own window on their connection, as they see an admin's own command.
        const announce = created.autoApproved ? notifiers.jobsOfNewRequest(connection.plugins, { reviewId: id, status: 'APPROVED', autoApproved: true }) : [];
        await outbox.write(tx, id, announce);
        // A grant without a vote is a grant all the same: its end job, and every channel's jobs of
        // review.access_granted (the requester told, a webhook subscribed to it, a Teams card).
        await recordEffects(tx, id, { next: state, action: 'review.access_granted', decidedGroups: [], effects: created.effects }, connection.plugins);
      }
      return review;
    });
    await afterCommit(id);
    return toReviewView(stored);
  }

  /** A window closed at once by `user` (a member of its reviewer groups, an admin, or its requester); audited either way. */
  async function revoke(user: AuthUser, reviewId: string, ctx: AuditContext): Promise<ReviewRow> {
    const now = clock.now();
    let t: Transition;
    try {
      t = await db.$transaction(async (tx) => {
        const row = await lockReview(tx, reviewId);
        if (!visibleTo(user, row)) throw Object.assign(reviewNotFound(reviewId), { hidden: true });
        const next = revokeAccess(toReviewState(row), actorOf(user), now);
        await writeTransition(tx, reviewId, 'GRANTED', next, { accessRevokedById: user.id });
        await recordAudit(tx, ctx, next.action, reviewId, { endsAt: row.accessEndsAt?.toISOString() ?? null, revokedAt: now.toISOString() });
        await recordEffects(tx, reviewId, next, row.connection.plugins);
        return next;
      });
    } catch (error) {
      return refuseRevoke(error, reviewId, ctx);
    }
    await afterCommit(reviewId, t);
    outbox.removeJob('review.end-access', endAccessJobId(reviewId));
    return getReview(db, reviewId);
  }

  /**
   * A refused revocation, audited when its request exists (an agent's above all: no ghost
   * revocations), then thrown. Also for one refused before `revoke` (Slack: the clicker is no hoop
   * user that may act).
   */
  async function refuseRevoke(error: unknown, reviewId: string, ctx: AuditContext): Promise<never> {
    if (isAppError(error) && (error.code !== ErrorCode.NotFound || (error as { hidden?: boolean }).hidden) && isUuid(reviewId)) {
      await db.$transaction(async (tx) => {
        if (await tx.review.findUnique({ where: { id: reviewId }, select: { id: true } })) await recordAudit(tx, ctx, 'review.revoke_denied', reviewId, { code: error.code, message: error.message });
      });
    }
    throw error;
  }

  /** Records the end of one window if it is due (its job, and the sweep); false when there was nothing to end. */
  async function endOne(reviewId: string, now = clock.now()): Promise<boolean> {
    const t = await db.$transaction(async (tx) => {
      const row = await lockReview(tx, reviewId);
      const next = endAccess(toReviewState(row), now);
      if (!next) return null;
      await writeTransition(tx, reviewId, 'GRANTED', next);
      await recordAudit(tx, SYSTEM_ACTOR, next.action, reviewId, { endsAt: row.accessEndsAt?.toISOString() ?? null });
      await recordEffects(tx, reviewId, next, row.connection.plugins);
      return next;
    });
    if (!t) return false;
    await afterCommit(reviewId, t);
    return true;
  }

  /** The sweep's pass: records the end of every window past its end (its job may have been lost). */
  async function endDue(now = clock.now()): Promise<number> {
    const due = await db.review.findMany({ where: { kind: 'access', status: 'GRANTED', accessEndsAt: { lte: now } }, select: { id: true }, take: 500 });
    let ended = 0;
    for (const { id } of due) {
      try {
        if (await endOne(id, now)) ended++;
      } catch (err) {
        log.warn({ err, reviewId: id }, 'could not record the end of an access window; the next sweep tries again');
      }
    }
    return ended;
  }

  return { requestAccess, revoke, refuseRevoke, endOne, endDue, modeOf: accessModeOf };
}

export type AccessGrants = ReturnType<typeof createAccessGrants>;
