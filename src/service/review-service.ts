// The use cases of a review. Each one: load → core decides → one transaction writes the new state
// and its audit event with a conditional update, and the jobs it causes to the outbox → after the
// commit, those jobs are relayed to the queue (never waiting on Redis).
import { bindApproval } from './approval-binding.js';
import {
  acceptCorrection,
  decide,
  expire,
  suggestCorrection,
  revokeAccess,
  type ReviewStatus,
  type Transition,
} from '../core/review-state.js';
import { recordAudit, SYSTEM_ACTOR, type AuditContext } from '../db/audit.js';
import { visibleReviewsWhere } from '../db/access-filters.js';
import { statePoolOf, type Db, type Prisma } from '../db/client.js';
import { normalizeEmail } from '../core/email.js';
import { createReadAudit, type ReadAudit } from '../db/read-audit.js';
import { listReviews, type ReviewListInclude, type ReviewListRow } from '../db/review-list.js';
import { getReview, getReviewAccess, getReviewStatus, isUuid, lockReview, reviewNotFound, toReviewState, writeTransition, type ReviewRow } from '../db/reviews.js';
import { AppError, ErrorCode, isAppError } from '../errors.js';
import { committedDespite, notDoneError, readBackOr } from '../db/after-connection-loss.js';
import { isDatabaseBusy } from '../db/database-busy.js';
import type { SqlExecutor } from '../execution/types.js';
import type { JobQueue } from '../jobs/queues.js';
import type { Logger } from '../logger.js';
import { observeDecision, type DecisionOutcome } from '../metrics.js';
import type { Classifier } from '../sql/classifier.js';
import type { AuthUser } from './auth-user.js';
import type { NotifierRegistry } from '../notify/registry.js';
import { createEffects, type Outbox } from './review-effects.js';
import type { ReviewEvents } from './review-events.js';
import { createExecution, STOPPED_DURING_EXECUTION, type ExecutionLimits } from './review-execution.js';
import { actorOf, visibleTo } from './review-access.js';
import { voteOptions, type VoteOptions } from '../core/vote-options.js';
import { checkLength, createSubmit } from './submit-command.js';
import { createSweep } from './review-recovery.js';
import { createReadCommand } from './run-read.js';
import { createExpireDue } from './expire-due.js';
import { checkGrantable, createAccessGrants, revokeOnPolicyChange } from './access-grants.js';
import { createRemindReview } from './remind-review.js';
import { createImpactPreview } from './impact-preview.js';
import { createClassifyCommand } from './classify-command.js';
import { createCorrections } from './review-corrections.js';
import { remindJobId } from './review-effects.js';
import type { Clock } from '../core/ports.js';
import { systemClock } from '../clock.js';

export type { AuthUser };

export interface ReviewServiceOptions {
  db: Db;
  jobs: JobQueue;
  /** Where transitions write their jobs, and what moves them to the queue. */
  outbox: Outbox;
  events: ReviewEvents;
  log: Logger;
  reviewTimeoutSec: number;
  /** When a pending request reminds its reviewers, in seconds after it was made (0 or absent: never). */
  reviewReminderSec?: number;
  execute: ExecutionLimits;
  executor: SqlExecutor;
  classifier: Classifier;
  /** Statements accepted in one request (MAX_STATEMENTS_PER_REQUEST). */
  maxStatements?: number;
  /** The channels configured on this gateway (each connection's plugins narrow them). */
  notifiers: NotifierRegistry;
  /** A RUNNING review whose heartbeat is older than this was left by a stopped process. */
  staleRunningMs?: number;
  heartbeatMs?: number;
  /** Where reads that run without review are audited; by default over `db`'s own pool, every commit durable. */
  readAudit?: ReadAudit;
  /** The user of a cached authentication as the database has it now (AdminService.refreshUser). */
  refreshUser?: (user: AuthUser) => Promise<AuthUser>;
  /** Where the use cases that decide expiry get the time (default: the system clock). */
  clock?: Clock;
}

/** Longest reason of an approval or rejection: what Slack's reject modal accepts. */
export const MAX_DECISION_REASON_CHARS = 1000;
export { STOPPED_DURING_EXECUTION };
/** Statuses in which a review may still change; a long-poll waits while the review is in one. */
export const OPEN_STATUSES: readonly ReviewStatus[] = ['PENDING', 'APPROVED', 'RUNNING'];

export interface VoteInput {
  action: 'approve' | 'reject';
  group?: string;
  reason?: string;
  /** An approval's row limit: the command may change at most this many rows in all (issue 14). */
  maxRows?: number;
}

/** The largest row limit an approval may set. */
export const MAX_ROW_LIMIT = 1_000_000_000;

/** A vote's row limit, checked: approvals only, a whole number of rows. */
function checkRowLimit(input: VoteInput): void {
  if (input.maxRows === undefined) return;
  if (input.action !== 'approve') throw new AppError(ErrorCode.BadInput, 'A row limit ("maxRows") goes with an approval; a rejection takes a reason.');
  if (!Number.isInteger(input.maxRows) || input.maxRows < 0 || input.maxRows > MAX_ROW_LIMIT) {
    throw new AppError(ErrorCode.BadInput, `"maxRows" must be a whole number of rows from 0 to ${MAX_ROW_LIMIT.toLocaleString('en-US')}: the most rows the command may change in all.`);
  }
}

export type ReviewService = ReturnType<typeof createReviewService>;

/** `row` as `t`, decided by `user`, leaves it (the groups `t` decided carry `user` as their reviewer). */
function withTransition(row: ReviewRow, t: Transition, user: AuthUser): ReviewRow {
  const next = new Map(t.next.groups.map((g) => [g.group, g]));
  return {
    ...row,
    status: t.next.status,
    decidedAt: t.next.decidedAt,
    rejectReason: t.next.rejectReason,
    groups: row.groups.map((g) => {
      const n = next.get(g.group);
      if (!n || !t.decidedGroups.includes(g.group)) return g;
      return { ...g, status: n.status, reviewerId: n.reviewerId, decidedAt: n.decidedAt, reason: n.reason, reviewer: { id: user.id, email: user.email, name: null, identities: user.slackUserId ? [{ externalId: user.slackUserId }] : [] } };
    }),
  };
}

/** The review use cases over the database, the job queue and the change events. */
export function createReviewService(opts: ReviewServiceOptions) {
  const { db, jobs, outbox, events, log } = opts;
  const staleRunningMs = opts.staleRunningMs ?? 30_000;
  const clock = opts.clock ?? systemClock;
  const { recordEffects, afterCommit } = createEffects({ outbox, events, notifiers: opts.notifiers });
  const { executeReview, failStopped, handOver, noteStateDbFailure } = createExecution({ ...opts, recordEffects, afterCommit, staleRunningMs, heartbeatMs: opts.heartbeatMs ?? 5_000 });
  const readAudit = opts.readAudit ?? createReadAudit(statePoolOf(db), statePoolOf(db));
  const runRead = createReadCommand({ executor: opts.executor, audit: readAudit, log });
  const refreshUser = opts.refreshUser ?? (async (user: AuthUser) => user);
  const submit = createSubmit({ ...opts, clock, afterCommit, executeReview, runRead, refreshUser });
  const expireDue = createExpireDue({ db, outbox, events, clock, log, notifiers: opts.notifiers });
  const remindJob = createRemindReview({ db, outbox, notifiers: opts.notifiers, clock, log });
  const previewJob = createImpactPreview({ db, executor: opts.executor, classifier: opts.classifier, outbox, afterCommit, notifiers: opts.notifiers, log });
  const classify = createClassifyCommand({ db, classifier: opts.classifier, maxStatements: opts.maxStatements, clock });
  const corrections = createCorrections({ db, outbox, recordEffects, afterCommit, notifiers: opts.notifiers, classifier: opts.classifier, maxStatements: opts.maxStatements, reviewTimeoutSec: opts.reviewTimeoutSec, reviewReminderSec: opts.reviewReminderSec, clock });
  const access = createAccessGrants({ db, outbox, afterCommit, recordEffects, notifiers: opts.notifiers, clock, log, reviewTimeoutSec: opts.reviewTimeoutSec, reviewReminderSec: opts.reviewReminderSec });

  /**
   * The one rule every way of voting applies: a request the user may not see (not theirs, not their
   * groups', or on a connection they may not use) gets the answer of an unknown id; then the core decides. Throws what the vote would throw.
   */
  function checkVote(user: AuthUser, row: ReviewRow, input: VoteInput, now: Date): Transition {
    // Hidden, not unknown: the refusal is audited (an unknown id has no review to audit against).
    if (!visibleTo(user, row)) throw Object.assign(reviewNotFound(row.id), { hidden: true });
    return decide(toReviewState(row), { ...input, actor: actorOf(user) }, now);
  }

  /**
   * A refused vote: an expired review is expired on the spot, and the refusal is audited — every
   * refusal of a request that exists, whether the core refused it or it was refused before the
   * request was loaded (a reason too long, a Slack user not linked or deactivated). An unknown id
   * has no request to audit against.
   */
  async function voteRefused(error: unknown, reviewId: string, input: VoteInput, ctx: AuditContext, now: Date, stage?: string): Promise<never> {
    if (isAppError(error, ErrorCode.Expired)) await expireReview(reviewId, now);
    if (isAppError(error) && (error.code !== ErrorCode.NotFound || (error as { hidden?: boolean }).hidden) && isUuid(reviewId)) {
      const detail = { action: input.action, group: input.group ?? null, code: error.code, message: error.message, ...(stage ? { stage } : {}) };
      await db.$transaction(async (tx) => {
        if (await tx.review.findUnique({ where: { id: reviewId }, select: { id: true } })) await recordAudit(tx, ctx, 'review.vote_denied', reviewId, detail);
      });
    }
    throw error;
  }

  /** A vote refused before it reached `vote` (Slack: the clicker is no hoop user that may vote): audited, then thrown. */
  function refuseVote(error: unknown, reviewId: string, input: VoteInput, ctx: AuditContext, stage?: string): Promise<never> {
    return voteRefused(error, reviewId, input, ctx, clock.now(), stage);
  }

  /** An approval or rejection, from Slack, the API or the CLI alike. */
  async function vote(user: AuthUser, reviewId: string, input: VoteInput, ctx: AuditContext): Promise<ReviewRow> {
    const now = clock.now();
    try {
      checkLength('reason', input.reason, MAX_DECISION_REASON_CHARS);
      checkRowLimit(input);
    } catch (error) {
      return voteRefused(error, reviewId, input, ctx, now);
    }
    // Set once the transaction has written the vote: if its COMMIT is lost, it may have committed.
    let decided: Transition | undefined;
    let done: { t: Transition; row: ReviewRow };
    try {
      done = await db.$transaction(async (tx) => {
        const row = await lockReview(tx, reviewId);
        const t = checkVote(user, row, input, now);
        // The last approval of an access window: the connection must still grant it as asked.
        if (t.next.status === 'GRANTED') await checkGrantable(tx, row, now);
        const bind = input.action === 'approve' ? await bindApproval(tx, row, t, input) : null;
        await writeTransition(tx, reviewId, 'PENDING', t, bind?.extra, bind ? { inputSha256: bind.sha, maxRows: input.maxRows ?? null } : {});
        await recordAudit(tx, ctx, t.action, reviewId, {
          groups: t.decidedGroups,
          reason: input.reason ?? null,
          status: t.next.status,
          ...(bind ? { inputSha256: bind.sha } : {}),
          ...(input.maxRows !== undefined ? { maxRows: input.maxRows } : {}),
          ...(bind?.extra.rowBound ? { rowBound: bind.extra.rowBound } : {}),
        });
        await recordEffects(tx, reviewId, t, row.connection.plugins);
        decided = t;
        // What the transaction wrote, without reading it back inside it: the answer is read after
        // the commit, and this is only what is answered when that read fails.
        return { t, row: withTransition(row, t, user) };
      });
    } catch (error) {
      if (isAppError(error) || !isDatabaseBusy(error)) return voteRefused(error, reviewId, input, ctx, now);
      const found = decided && (await committedDespite(error, () => voteCommitted(reviewId, user, decided!, now), { id: reviewId, check: `Look at request ${reviewId} (GET /api/reviews/${reviewId})` }));
      if (!found) throw notDoneError(error, 'your vote was not recorded');
      log.warn({ err: error, reviewId }, 'the connection was lost during the commit of a vote; it was committed');
      done = { t: decided!, row: found };
    }
    // A window granted is an approval, as the decision metrics count it.
    const outcome = (done.t.next.status === 'GRANTED' ? 'approved' : done.t.next.status.toLowerCase()) as DecisionOutcome;
    if (done.t.next.status !== 'PENDING') observeDecision(outcome, done.row.createdAt, done.t.next.decidedAt ?? now);
    await afterCommit(reviewId, done.t);
    if (done.t.next.status !== 'PENDING') {
      outbox.removeJob('review.expire', `expire-${reviewId}`);
      outbox.removeJob('review.remind', remindJobId(reviewId));
    }
    // The vote is committed: the answer is never an error of our database.
    return readBackOr(() => getReview(db, reviewId), done.row, (err) => log.warn({ err, reviewId }, 'answered a vote from what was committed; the database could not be read back'));
  }

  /** The review when `t`, decided by `user` at `now`, is committed (its groups carry exactly that); else null. */
  async function voteCommitted(reviewId: string, user: AuthUser, t: Transition, now: Date): Promise<ReviewRow | null> {
    const row = await getReview(db, reviewId);
    const mine = row.groups.filter((g) => t.decidedGroups.includes(g.group) && g.reviewerId === user.id && g.decidedAt?.getTime() === now.getTime());
    return mine.length === t.decidedGroups.length ? row : null;
  }

  /**
   * What `vote` would answer, without deciding anything: the Reject button asks this before it
   * opens its modal, so it refuses exactly whom the vote would refuse, with the same words.
   */
  async function previewVote(user: AuthUser, reviewId: string, input: VoteInput, ctx: AuditContext): Promise<ReviewRow> {
    const now = clock.now();
    const row = await getReview(db, reviewId);
    try {
      checkVote(user, row, input, now);
    } catch (error) {
      return voteRefused(error, reviewId, input, ctx, now, 'preview');
    }
    return row;
  }

  /** Flips a pending, overdue review to EXPIRED; false when it was not pending or not due. */
  async function expireReview(reviewId: string, now = clock.now()): Promise<boolean> {
    const done = await db.$transaction(async (tx) => {
      const row = await lockReview(tx, reviewId);
      const t = expire(toReviewState(row), now);
      if (!t) return null;
      await writeTransition(tx, reviewId, 'PENDING', t);
      await recordAudit(tx, SYSTEM_ACTOR, t.action, reviewId, { expiresAt: row.expiresAt.toISOString() });
      await recordEffects(tx, reviewId, t, row.connection.plugins);
      return { t, requestedAt: row.createdAt };
    });
    if (!done) return false;
    observeDecision('expired', done.requestedAt, done.t.next.decidedAt ?? now);
    await afterCommit(reviewId, done.t);
    return true;
  }

  /** A review the user may see; NotFound otherwise (its existence is not revealed). */
  async function get(user: AuthUser, reviewId: string): Promise<ReviewRow> {
    const row = await getReview(db, reviewId);
    if (!visibleTo(user, row)) throw reviewNotFound(reviewId);
    return row;
  }

  /** What `user` may decide on `row` now (the page's Approve and Reject buttons); the vote's own rule. */
  function voteOptionsOf(user: AuthUser, row: ReviewRow): VoteOptions {
    return voteOptions(toReviewState(row), actorOf(user), clock.now());
  }

  /** NotFound unless the user may see the review (its existence is not revealed); loads only what the rule needs. */
  async function assertVisible(user: AuthUser, reviewId: string) {
    const head = await getReviewAccess(db, reviewId);
    if (!visibleTo(user, head)) throw reviewNotFound(reviewId);
    return head;
  }

  /** The audit trail of a review the user may see, oldest first. */
  async function history(user: AuthUser, reviewId: string) {
    await assertVisible(user, reviewId);
    const events = await db.auditEvent.findMany({ where: { reviewId }, orderBy: { id: 'asc' } });
    return events.map((e) => ({ at: e.createdAt.toISOString(), action: e.action, actor: e.actor, source: e.source, ip: e.ip, userAgent: e.userAgent, detail: e.detail }));
  }

  /**
   * Waits up to `waitMs` for a review the user may see to leave PENDING/APPROVED/RUNNING. The caller
   * loads the review afterwards (with the caller's credentials checked again).
   */
  async function waitForDecision(user: AuthUser, reviewId: string, waitMs: number, signal?: AbortSignal): Promise<void> {
    const head = await assertVisible(user, reviewId);
    if (OPEN_STATUSES.includes(head.status) && waitMs > 0) await waitWhileOpen(reviewId, Date.now() + waitMs, signal);
  }

  // While waiting only the status is re-read; the whole review (its output may be 256 KB) is loaded
  // once, at the end. Reloading it every 2 s cost about 140 KB of RSS per waiter (bench:longpoll).
  async function waitWhileOpen(reviewId: string, deadline: number, signal?: AbortSignal): Promise<void> {
    const watch = await events.watch(reviewId);
    signal?.addEventListener('abort', () => watch.close(), { once: true });
    try {
      for (;;) {
        // Read after the watch is made: a change between the first load and the watch is seen.
        const status = await getReviewStatus(db, reviewId);
        const left = deadline - Date.now();
        if (!OPEN_STATUSES.includes(status) || left <= 0 || signal?.aborted) return;
        // Re-read at least every 2 s even without an event: a lost pub/sub message only delays.
        // Without Redis no event comes at all: the database is then re-read every second.
        await watch.wait(Math.min(left, events.live() ? 2000 : 1000));
      }
    } finally {
      watch.close();
    }
  }

  /**
   * Reviews the user may see, newest first, optionally of one status, one connection (by name) and
   * one requester (by email); see listReviews. A connection or requester the user may not see gives
   * an empty list, as an unknown one does: a filter reveals nothing a list would not.
   */
  async function list(
    user: AuthUser,
    filter: { status?: ReviewStatus; connection?: string; requester?: string; take: number; after?: { createdAt: Date; id: string }; include: ReviewListInclude },
  ): Promise<ReviewListRow[]> {
    const asked: Prisma.ReviewWhereInput = {
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.connection ? { connection: { name: filter.connection } } : {}),
      ...(filter.requester ? { requester: { email: normalizeEmail(filter.requester) } } : {}),
    };
    // AND, not a spread: the visibility filter has a `connection` condition of its own.
    return listReviews(db, { AND: [asked, visibleReviewsWhere(user)] }, filter);
  }

  /**
   * `review.expire`: the job of one review, due at its deadline. It runs the set-based pass, which
   * expires every review due by now (the first job of a burst expires the whole burst), then
   * expires its own review alone if the pass left it pending and due (it was locked by a vote
   * meanwhile, say). Either way a review is expired once: both write `WHERE status = 'PENDING'`.
   */
  async function expireJob(reviewId: string): Promise<void> {
    await expireDue.passAfterNow();
    if ((await getReviewStatus(db, reviewId).catch(() => null)) === 'PENDING') await expireReview(reviewId);
  }

  const { sweep, sweepDatabase } = createSweep({ db, jobs, notifiers: opts.notifiers, staleRunningMs, clock, expireDue: expireDue.run, endAccessDue: access.endDue, failStopped, reviewReminderSec: opts.reviewReminderSec ?? 0 });

  /** What `user` may do to an access window now: revoke it (the rule of `revokeAccess` itself). */
  function canRevoke(user: AuthUser, row: ReviewRow): boolean {
    try {
      revokeAccess(toReviewState(row), actorOf(user), clock.now());
      return true;
    } catch {
      return false;
    }
  }

  /** What `user` may do about changes to `row` now: suggest one, accept this one (the core's own rules). */
  function correctionOptionsOf(user: AuthUser, row: ReviewRow): { canSuggest: boolean; canAccept: boolean } {
    const state = toReviewState(row);
    const now = clock.now();
    const allowed = (fn: () => unknown) => {
      try {
        fn();
        return true;
      } catch {
        return false;
      }
    };
    return {
      canSuggest: allowed(() => suggestCorrection(state, { actor: actorOf(user), reason: 'x' }, now, opts.reviewTimeoutSec)),
      canAccept: allowed(() => acceptCorrection(state, actorOf(user), now)),
    };
  }

  return {
    correctionOptionsOf,
    requestAccess: access.requestAccess,
    revokeAccess: access.revoke,
    refuseRevoke: access.refuseRevoke,
    endAccessJob: (reviewId: string) => access.endOne(reviewId).then(() => {}),
    endAccessDue: access.endDue,
    /** Ends the open windows of a connection whose access rules `admin` just changed (`changed`: the fields). */
    revokeOnPolicyChange: (admin: AuthUser, connection: string, changed: readonly string[], ctx: AuditContext) => revokeOnPolicyChange({ db, clock, recordEffects, afterCommit, log }, admin, connection, changed, ctx),
    canRevoke,
    submit,
    classify,
    suggest: corrections.suggest,
    acceptCorrection: corrections.accept,
    previewSuggest: corrections.previewSuggest,
    /** A suggestion or acceptance refused before it reached the use case (Slack: the clicker is no hoop user): audited, then thrown. */
    refuseCorrection: corrections.refuse,
    vote, refuseVote, previewVote, expireReview, expireJob, remindJob, previewJob, expireDue: expireDue.run, executeReview, handOver, noteStateDbFailure, sweep, sweepDatabase, get, voteOptionsOf, history, waitForDecision, list };
}
