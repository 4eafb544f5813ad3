// The use cases of a review. Each one: load → core decides → one transaction writes the new state
// and its audit event with a conditional update → only after the commit, enqueue side effects.
import {
  createReview,
  decide,
  expire,
  type Actor,
  type ReviewStatus,
  type Transition,
} from '../core/review-state.js';
import { recordAudit, SYSTEM_ACTOR, type AuditContext } from '../db/audit.js';
import type { Db } from '../db/client.js';
import { isDatabaseBusy } from '../db/database-busy.js';
import { listReviews, type ReviewListInclude, type ReviewListRow } from '../db/review-list.js';
import { getReview, getReviewAccess, getReviewStatus, lockReview, reviewNotFound, toReviewState, writeTransition, type ReviewRow } from '../db/reviews.js';
import { AppError, ErrorCode, isAppError } from '../errors.js';
import type { ReadCheck, SqlExecutor } from '../execution/types.js';
import type { Classifier } from '../sql/classifier.js';
import type { JobQueue } from '../jobs/queues.js';
import type { Logger } from '../logger.js';
import { checkGuardrails, routeCommand } from '../core/sql-policy.js';
import { strictestKind, type Classification } from '../sql/types.js';
import { canUseConnection, classifyFor, guardrailsOf, maskingOf, reviewModeOf } from './connection-policy.js';
import type { AuthUser } from './auth-user.js';
import { createAfterCommit } from './review-effects.js';
import type { ReviewEvents } from './review-events.js';
import { createExecution, STOPPED_DURING_EXECUTION, type ExecutionLimits } from './review-execution.js';
import { createSweep } from './review-recovery.js';

export type { AuthUser };

export interface ReviewServiceOptions {
  db: Db;
  jobs: JobQueue;
  events: ReviewEvents;
  log: Logger;
  reviewTimeoutSec: number;
  execute: ExecutionLimits;
  executor: SqlExecutor;
  classifier: Classifier;
  /** Statements accepted in one request (MAX_STATEMENTS_PER_REQUEST). */
  maxStatements?: number;
  slackEnabled: boolean;
  /** A RUNNING review whose heartbeat is older than this was left by a stopped process. */
  staleRunningMs?: number;
  heartbeatMs?: number;
}

export const MAX_INPUT_BYTES = 1024 * 1024;
export const DEFAULT_MAX_STATEMENTS = 1000;
/** Longest reason of a request, in characters. */
export const MAX_REASON_CHARS = 2000;
/** Longest reason of an approval or rejection: what Slack's reject modal accepts. */
export const MAX_DECISION_REASON_CHARS = 1000;
export { STOPPED_DURING_EXECUTION };
/** Statuses in which a review may still change; a long-poll waits while the review is in one. */
export const OPEN_STATUSES: readonly ReviewStatus[] = ['PENDING', 'APPROVED', 'RUNNING'];

export interface SubmitInput {
  connection: string;
  input: string;
  reason?: string;
}

export interface VoteInput {
  action: 'approve' | 'reject';
  group?: string;
  reason?: string;
}

/** What is stored and shown of a classification. */
export function summarize(c: Classification) {
  return {
    dialect: c.dialect,
    parsed: c.parsed,
    kind: strictestKind(c.statements),
    statements: c.statements.map((s) => ({ index: s.index, kind: s.kind, command: s.command, tables: s.tables, warnings: s.warnings })),
  };
}

/**
 * What the target said of reads the parser let through: names resolving to user or extension
 * objects make them writes, literal rules the parser does not share make them unknown, and output
 * masking cannot trace keeps them reads that still need a review. Returns true when any applies.
 */
function holdReads(c: Classification, check: ReadCheck): boolean {
  const reads = c.statements.filter((s) => s.kind === 'read');
  if (!reads.length || check.writes.length + check.unknown.length + check.untraceable.length === 0) return false;
  for (const s of reads) {
    if (check.unknown.length) s.kind = 'unknown';
    else if (check.writes.length) s.kind = 'write';
  }
  const first = reads[0];
  first.warnings.push(...check.unknown.map((r) => `not run without review: ${r}`));
  first.warnings.push(...check.writes.map((r) => `not run without review: ${r}`));
  first.warnings.push(...check.untraceable.map((r) => `not run without review, and its output is masked whole: masking cannot trace it (${r})`));
  return true;
}

/** BadInput when `text` is longer than `max` characters (counted as a person would, by code point). */
export function checkLength(field: string, text: string | undefined, max: number): void {
  if (text === undefined || text.length <= max) return;
  const chars = [...text].length;
  if (chars > max) throw new AppError(ErrorCode.BadInput, `"${field}" is ${chars.toLocaleString('en-US')} characters long; at most ${max.toLocaleString('en-US')} are accepted. Shorten it.`);
}

type Visibility = Parameters<typeof canSee>[1] & { connection: Parameters<typeof canUseConnection>[1] };

function actorOf(user: AuthUser): Actor {
  return { userId: user.id, isAdmin: user.isAdmin, groups: user.groups };
}

/** Who may see a review: admins, its requester, and members of its reviewer groups. */
export function canSee(user: AuthUser, row: { requesterId: string; groups: { group: string }[] }): boolean {
  return user.isAdmin || row.requesterId === user.id || row.groups.some((g) => user.groups.includes(g.group));
}

/** One visibility rule for every path (get, vote, the Reject button): who may see it, on a connection they may use. */
export function visibleTo(user: AuthUser, row: Visibility): boolean {
  return canSee(user, row) && canUseConnection(user, row.connection);
}

export type ReviewService = ReturnType<typeof createReviewService>;

/** The review use cases over the database, the job queue and the change events. */
export function createReviewService(opts: ReviewServiceOptions) {
  const { db, jobs, events, log } = opts;
  const staleRunningMs = opts.staleRunningMs ?? 30_000;
  const afterCommit = createAfterCommit({ jobs, events, log, slackEnabled: opts.slackEnabled });
  const { executeReview, failStopped } = createExecution({ ...opts, afterCommit, staleRunningMs, heartbeatMs: opts.heartbeatMs ?? 5_000 });

  /** Creates a request; runs it at once when no review applies (returns it executed). */
  async function submit(user: AuthUser, input: SubmitInput, ctx: AuditContext): Promise<ReviewRow> {
    const text = input.input ?? '';
    if (text.trim() === '') throw new AppError(ErrorCode.BadInput, 'The command is empty. Pass the SQL to run, e.g. {"input": "SELECT 1"}.');
    if (Buffer.byteLength(text) > MAX_INPUT_BYTES) {
      throw new AppError(ErrorCode.BadInput, `The command is larger than ${MAX_INPUT_BYTES} bytes; split it into smaller requests.`);
    }
    checkLength('reason', input.reason, MAX_REASON_CHARS);
    const connection = await db.connection.findUnique({ where: { name: input.connection } });
    // A connection the user may not use is as invisible as one that does not exist.
    if (!connection || !canUseConnection(user, connection)) {
      throw new AppError(ErrorCode.NotFound, `There is no connection named "${input.connection}". List the connections with GET /api/connections (hoop admin get connections).`);
    }
    const maxStatements = opts.maxStatements ?? DEFAULT_MAX_STATEMENTS;
    const classification = await classifyFor(opts.classifier, connection, text, maxStatements);
    if (classification.tooManyStatements !== undefined) {
      throw new AppError(
        ErrorCode.BadInput,
        `The command has ${classification.tooManyStatements} statements; at most ${maxStatements} are accepted in one request (MAX_STATEMENTS_PER_REQUEST). Split it into several requests, or combine rows into multi-row statements.`,
        { details: { limit: maxStatements, statements: classification.tooManyStatements } },
      );
    }
    const violation = checkGuardrails(classification, guardrailsOf(connection));
    if (violation) {
      const { rule, statement } = violation;
      await db.$transaction((tx) =>
        recordAudit(tx, ctx, 'review.blocked', null, { connection: connection.name, rule: rule.name, statement: statement.statement.slice(0, 2000), command: statement.command }),
      );
      throw new AppError(ErrorCode.Guardrail, `Blocked by the guardrail "${rule.name}" of ${connection.name}: ${rule.message} No request was created.`, {
        details: { rule: rule.name, statement: statement.index },
      });
    }
    let route = routeCommand(classification, reviewModeOf(connection), connection.reviewers.length > 0);
    if (route === 'read-only') {
      // The parser's view is not the only guard: the target's catalog and settings must agree.
      const check = await opts.executor.checkRead({ name: connection.name, url: connection.url }, classification.statements, { allowFunctions: connection.allowFunctions, masking: maskingOf(connection) });
      // Only reviewMode "writes" runs reads at once: a held read is reviewed like a write there.
      if (holdReads(classification, check)) route = routeCommand(classification, 'all', connection.reviewers.length > 0);
    }
    const noReviewBecause = route === 'read-only' ? 'read-only' : route === 'direct' && connection.reviewers.length > 0 ? 'review-mode-none' : undefined;
    const now = new Date();
    const created = createReview({ requester: actorOf(user), reviewerGroups: connection.reviewers, now, timeoutSec: opts.reviewTimeoutSec, noReviewBecause, distinctApprovers: connection.distinctApprovers });
    const reviewId = await db.$transaction(async (tx) => {
      const review = await tx.review.create({
        data: {
          connectionId: connection.id,
          requesterId: user.id,
          input: text,
          reason: input.reason?.trim() || null,
          readOnly: route === 'read-only',
          classification: summarize(classification) as object,
          status: created.state.status,
          autoApproved: created.autoApproved,
          expiresAt: created.state.expiresAt,
          decidedAt: created.state.decidedAt,
          createdAt: now,
          groups: { create: created.state.groups.map((g) => ({ group: g.group, status: g.status, reviewerId: g.reviewerId, decidedAt: g.decidedAt, reason: g.reason })) },
        },
      });
      await recordAudit(tx, ctx, 'review.created', review.id, {
        connection: connection.name,
        status: created.state.status,
        groups: created.state.groups.map((g) => g.group),
        inputBytes: Buffer.byteLength(text),
      });
      if (created.directReason) {
        await recordAudit(tx, ctx, created.autoApproved ? 'review.auto_approved' : 'review.no_review_required', review.id, { reason: created.directReason });
      }
      return review.id;
    });
    if (created.state.status === 'PENDING') {
      const delayMs = created.state.expiresAt.getTime() - Date.now();
      await Promise.allSettled([
        jobs.enqueue('review.expire', { reviewId }, { jobId: `expire-${reviewId}`, delayMs }),
        opts.slackEnabled ? jobs.enqueue('slack.post-review', { reviewId }, { jobId: `post-${reviewId}` }) : null,
        events.publish(reviewId),
      ]).then((rs) => rs.forEach((r) => r.status === 'rejected' && log.error({ err: r.reason, reviewId }, 'could not enqueue after submit')));
      return getReview(db, reviewId);
    }
    if (created.autoApproved && opts.slackEnabled) {
      // Reviewers still see what an admin ran on their connection, with its result in the thread.
      await jobs.enqueue('slack.post-review', { reviewId }, { jobId: `post-${reviewId}` }).catch((err) => log.error({ err, reviewId }, 'could not enqueue post'));
    }
    let result: Awaited<ReturnType<typeof executeReview>>;
    try {
      result = await executeReview(reviewId);
    } catch (error) {
      // The request is stored (APPROVED); a 503 now would make the client submit it twice. A job
      // runs it when the database has room (the claim makes that exactly once); the caller waits.
      if (!isDatabaseBusy(error)) throw error;
      log.warn({ err: error, reviewId }, 'database busy; execution handed to a job');
      await jobs.enqueue('review.execute', { reviewId }, { jobId: `execute-${reviewId}` }).catch((err) => log.error({ err, reviewId }, 'could not enqueue execution'));
      result = null;
    }
    if (result?.retryAfterSec !== undefined) {
      // Nothing ran (every connection to the target busy): a retryable refusal, audited as a failed request.
      throw new AppError(ErrorCode.Unavailable, result.error ?? 'The target is busy; try again.', { retryAfterSec: result.retryAfterSec, details: { reviewId } });
    }
    return getReview(db, reviewId);
  }

  /**
   * The one rule every way of voting applies: a request the user may not see (not theirs, not their
   * groups', or on a connection they may not use) gets the answer of an unknown id; then the core decides. Throws what the vote would throw.
   */
  function checkVote(user: AuthUser, row: ReviewRow, input: VoteInput, now: Date): Transition {
    // Hidden, not unknown: the refusal is audited (an unknown id has no review to audit against).
    if (!visibleTo(user, row)) throw Object.assign(reviewNotFound(row.id), { hidden: true });
    return decide(toReviewState(row), { ...input, actor: actorOf(user) }, now);
  }

  /** A refused vote: an expired review is expired on the spot, and the refusal is audited. */
  async function voteRefused(error: unknown, reviewId: string, input: VoteInput, ctx: AuditContext, now: Date, stage?: string): Promise<never> {
    if (isAppError(error, ErrorCode.Expired)) await expireReview(reviewId, now);
    if (isAppError(error) && (error.code !== ErrorCode.NotFound || (error as { hidden?: boolean }).hidden)) {
      const detail = { action: input.action, group: input.group ?? null, code: error.code, message: error.message, ...(stage ? { stage } : {}) };
      await db.$transaction((tx) => recordAudit(tx, ctx, 'review.vote_denied', reviewId, detail));
    }
    throw error;
  }

  /** An approval or rejection, from Slack, the API or the CLI alike. */
  async function vote(user: AuthUser, reviewId: string, input: VoteInput, ctx: AuditContext): Promise<ReviewRow> {
    checkLength('reason', input.reason, MAX_DECISION_REASON_CHARS);
    const now = new Date();
    let done: Transition;
    try {
      done = await db.$transaction(async (tx) => {
        const row = await lockReview(tx, reviewId);
        const t = checkVote(user, row, input, now);
        await writeTransition(tx, reviewId, 'PENDING', t);
        await recordAudit(tx, ctx, t.action, reviewId, { groups: t.decidedGroups, reason: input.reason ?? null, status: t.next.status });
        return t;
      });
    } catch (error) {
      return voteRefused(error, reviewId, input, ctx, now);
    }
    await afterCommit(reviewId, done);
    if (done.next.status !== 'PENDING') await jobs.remove('review.expire', `expire-${reviewId}`).catch(() => {});
    return getReview(db, reviewId);
  }

  /**
   * What `vote` would answer, without deciding anything: the Reject button asks this before it
   * opens its modal, so it refuses exactly whom the vote would refuse, with the same words.
   */
  async function previewVote(user: AuthUser, reviewId: string, input: VoteInput, ctx: AuditContext): Promise<ReviewRow> {
    const now = new Date();
    const row = await getReview(db, reviewId);
    try {
      checkVote(user, row, input, now);
    } catch (error) {
      return voteRefused(error, reviewId, input, ctx, now, 'preview');
    }
    return row;
  }

  /** Flips a pending, overdue review to EXPIRED; false when it was not pending or not due. */
  async function expireReview(reviewId: string, now = new Date()): Promise<boolean> {
    const done = await db.$transaction(async (tx) => {
      const row = await lockReview(tx, reviewId);
      const t = expire(toReviewState(row), now);
      if (!t) return null;
      await writeTransition(tx, reviewId, 'PENDING', t);
      await recordAudit(tx, SYSTEM_ACTOR, t.action, reviewId, { expiresAt: row.expiresAt.toISOString() });
      return t;
    });
    if (!done) return false;
    await afterCommit(reviewId, done);
    return true;
  }

  /** A review the user may see; NotFound otherwise (its existence is not revealed). */
  async function get(user: AuthUser, reviewId: string): Promise<ReviewRow> {
    const row = await getReview(db, reviewId);
    if (!visibleTo(user, row)) throw reviewNotFound(reviewId);
    return row;
  }

  /** The audit trail of a review the user may see, oldest first. */
  async function history(user: AuthUser, reviewId: string) {
    await get(user, reviewId);
    const events = await db.auditEvent.findMany({ where: { reviewId }, orderBy: { id: 'asc' } });
    return events.map((e) => ({ at: e.createdAt.toISOString(), action: e.action, actor: e.actor, source: e.source, ip: e.ip, userAgent: e.userAgent, detail: e.detail }));
  }

  /** Waits up to `waitMs` for the review to leave PENDING/APPROVED/RUNNING; returns it either way. */
  async function waitForDecision(user: AuthUser, reviewId: string, waitMs: number, signal?: AbortSignal): Promise<ReviewRow> {
    const head = await getReviewAccess(db, reviewId);
    if (!visibleTo(user, head)) throw reviewNotFound(reviewId);
    if (OPEN_STATUSES.includes(head.status) && waitMs > 0) await waitWhileOpen(reviewId, Date.now() + waitMs, signal);
    return getReview(db, reviewId);
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
        await watch.wait(Math.min(left, 2000));
      }
    } finally {
      watch.close();
    }
  }

  /** Reviews the user may see, newest first, optionally of one status; see listReviews. */
  async function list(
    user: AuthUser,
    filter: { status?: ReviewStatus; take: number; after?: { createdAt: Date; id: string }; include: ReviewListInclude },
  ): Promise<ReviewListRow[]> {
    const visibility = user.isAdmin
      ? {}
      : {
          OR: [{ requesterId: user.id }, { groups: { some: { group: { in: user.groups } } } }],
          connection: { OR: [{ allowedGroups: { isEmpty: true } }, { allowedGroups: { hasSome: user.groups } }, { reviewers: { hasSome: user.groups } }] },
        };
    return listReviews(db, { ...(filter.status ? { status: filter.status } : {}), ...visibility }, filter);
  }

  const sweep = createSweep({ db, jobs, slackEnabled: opts.slackEnabled, staleRunningMs, expireReview, failStopped });

  return { submit, vote, previewVote, expireReview, executeReview, sweep, get, history, waitForDecision, list };
}
