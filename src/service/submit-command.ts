// The submit use case: a command becomes a request. Classified (large inputs off the event loop),
// checked against the guardrails, routed (reads the target confirms run at once, the rest waits for
// review), stored with its audit event in one transaction, then announced or run.
import type { Clock } from '../core/ports.js';
import { randomUUID } from 'node:crypto';
import { createReview } from '../core/review-state.js';
import { checkGuardrails, routeCommand } from '../core/sql-policy.js';
import { recordAudit, type AuditContext } from '../db/audit.js';
import { agentDetail } from '../core/agents.js';
import type { Db } from '../db/client.js';
import { committedDespite, notDoneError, QUICK_RETRY_MS, readBackOr, retryRead } from '../db/after-connection-loss.js';
import { isDatabaseBusy } from '../db/database-busy.js';
import { getReview, reviewInclude, type ReviewRow } from '../db/reviews.js';
import { AppError, ErrorCode, isAppError } from '../errors.js';
import type { ExecutionResult, ReadCheck, SqlExecutor } from '../execution/types.js';
import type { Logger } from '../logger.js';
import { observeDecision } from '../metrics.js';
import type { Classifier } from '../sql/classifier.js';
import { strictestKind, type Classification } from '../sql/types.js';
import type { AuthUser } from './auth-user.js';
import { canUseConnection } from '../core/access.js';
import { classifyFor, guardrailsOf, maskingOf, reviewModeOf } from './connection-policy.js';
import type { NotifierRegistry } from '../notify/registry.js';
import { jobsOfNewRequest, remindAtOf, type AfterCommit, type Outbox } from './review-effects.js';
import { PENDING_PREVIEW, previewJob, wantsPreview } from './impact-preview.js';
import { previewFromJson } from '../contracts/impact-preview.js';

const previewOf = (review: { preview: unknown }) => previewFromJson(review.preview)?.state === 'pending';
import { actorOf } from './review-access.js';
import { StoppingError } from './running-executions.js';
import { HotCache } from '../hot-cache.js';
import type { ReadOutcome, ReadPlan } from './run-read.js';
import type { ReviewView } from '../contracts/review-view.js';
import { toReviewView } from '../db/review-views.js';
import type { ExecutionLimits } from './review-execution.js';
import { commandSha256 } from '../core/output-digest.js';
import { originOf } from '../contracts/request-origin.js';
import { accessModeOf, jitOnlyRefusal } from '../core/access-window.js';
import { findOpenGrant } from '../db/open-grants.js';

export const MAX_INPUT_BYTES = 1024 * 1024;
export const DEFAULT_MAX_STATEMENTS = 1000;
/** Longest reason of a request, in characters. */
export const MAX_REASON_CHARS = 2000;

export interface SubmitInput {
  connection: string;
  input: string;
  reason?: string;
  /** Counts a request against its sender's limit (not called for a read that runs at once); throws to refuse it. */
  admit?: () => Promise<void>;
}

export interface SubmitOptions {
  db: Db;
  outbox: Outbox;
  afterCommit: AfterCommit;
  log: Logger;
  reviewTimeoutSec: number;
  /** When a pending request reminds its reviewers, after it was made (0 or absent: never). */
  reviewReminderSec?: number;
  executor: SqlExecutor;
  classifier: Classifier;
  maxStatements?: number;
  /** The channels configured on this gateway (each connection's plugins narrow them). */
  notifiers: NotifierRegistry;
  executeReview: (reviewId: string) => Promise<ExecutionResult | null>;
  execute: ExecutionLimits;
  /** Runs a read without review (run-read.ts). */
  runRead: (plan: ReadPlan) => Promise<ReadOutcome>;
  /** The user of `user.key` as the database has it now (Unauthenticated when the key no longer works). */
  refreshUser: (user: AuthUser) => Promise<AuthUser>;
  /** The time a request is created at, from which its expiry is counted. */
  clock: Clock;
}

type ConnectionRow = NonNullable<Awaited<ReturnType<Db['connection']['findUnique']>>>;

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

/** The submit use case over the database, the executor and the job queue. */
export function createSubmit(opts: SubmitOptions) {
  const { db, outbox, afterCommit, log, executeReview } = opts;

  // Connections by name, for the read path: a cached row is checked by the read's audit write
  // (its updatedAt), and every other path reads the connection afresh before it writes.
  const connections = new HotCache<ConnectionRow>(10_000, 1_000);
  const loadConnection = async (name: string) => {
    const row = await retryRead(() => db.connection.findUnique({ where: { name } }), QUICK_RETRY_MS);
    if (row) connections.set(name, row);
    else connections.delete(name);
    return row;
  };

  /**
   * Creates a request; runs it at once when no review applies (returns it executed). A read that
   * runs without review leaves no request, only its audit events (run-read.ts). `fresh`: the user
   * and the connection were just read from the database.
   */
  return async function submit(user: AuthUser, input: SubmitInput, ctx: AuditContext, fresh = false, attempt = 0): Promise<ReviewView> {
    const text = input.input ?? '';
    if (text.trim() === '') throw new AppError(ErrorCode.BadInput, 'The command is empty. Pass the SQL to run, e.g. {"input": "SELECT 1"}.');
    if (Buffer.byteLength(text) > MAX_INPUT_BYTES) {
      throw new AppError(ErrorCode.BadInput, `The command is larger than ${MAX_INPUT_BYTES} bytes; split it into smaller requests.`);
    }
    checkLength('reason', input.reason, MAX_REASON_CHARS);
    // An agent says why it acts, every time: the person deciding reads it (issue 13).
    if (user.kind === 'agent' && !input.reason?.trim()) {
      throw new AppError(ErrorCode.BadInput, 'Agents must give a reason with every request: say why this command is needed in "reason" (hoop exec --reason "...").');
    }
    const cached = fresh ? undefined : connections.get(input.connection);
    // Anything but a read that runs at once acts on the database's own view of the user and connection.
    const again = async () => submit(user.key?.cached ? await opts.refreshUser(user) : user, input, ctx, true, attempt + 1);
    const connection = cached ?? (await loadConnection(input.connection));
    // A connection the user may not use is as invisible as one that does not exist.
    if (!connection || !canUseConnection(user, connection)) {
      if (cached || user.key?.cached) return again();
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
      if (cached || user.key?.cached) return again();
      // A refused command counts against the sender's requests like any other.
      await input.admit?.();
      const { rule, statement } = violation;
      await db.$transaction((tx) =>
        recordAudit(tx, ctx, 'review.blocked', null, { connection: connection.name, rule: rule.name, statement: statement.statement.slice(0, 2000), command: statement.command }),
      );
      throw new AppError(ErrorCode.Guardrail, `Blocked by the guardrail "${rule.name}" of ${connection.name}: ${rule.message} No request was created.`, {
        details: { rule: rule.name, statement: statement.index },
      });
    }
    let route = routeCommand(classification, reviewModeOf(connection), connection.reviewers.length > 0);
    let held: ((reviewId: string | null) => Promise<void>) | undefined;
    // The read's audit write proved the cached copies current.
    let verified = false;
    if (route === 'read-only') {
      const read = await opts.runRead({
        user,
        ctx,
        connection,
        input: text,
        reason: input.reason?.trim() || null,
        classification,
        summary: summarize(classification),
        run: { ...opts.execute, masking: maskingOf(connection), allowFunctions: connection.allowFunctions },
      });
      if (read.kind === 'done') return read.view;
      if (read.kind === 'stale') {
        connections.delete(input.connection);
        // Read afresh and changed again while it ran, more than once: someone is changing it now.
        if (attempt >= 2) {
          throw new AppError(ErrorCode.Unavailable, `The connection ${connection.name} or your user changed while the read ran, several times; its result was not returned. Try again in a moment.`, { retryAfterSec: 1 });
        }
        return again();
      }
      // The parser's view is not the only guard: the target's catalog and settings must agree.
      // Only reviewMode "writes" runs reads at once: a held read is reviewed like a write there.
      if (holdReads(classification, read.check)) route = routeCommand(classification, 'all', connection.reviewers.length > 0);
      held = read.finish;
      verified = true;
    }
    if ((cached || user.key?.cached) && !verified) {
      // Planned with cached copies: go on only if the database agrees with them.
      // A connection read just above (not from the cache) is current already.
      const [now, current] = await Promise.all([user.key?.cached ? opts.refreshUser(user) : user, cached ? loadConnection(input.connection) : connection]);
      const same = current?.updatedAt.getTime() === connection.updatedAt.getTime() && now.key?.userUpdatedAt.getTime() === user.key?.userUpdatedAt.getTime();
      if (!same) return submit(now, input, ctx, true, attempt + 1);
      user = now;
    }
    // Just-in-Time access: a command that would wait for a review runs without one while its
    // requester holds an open window on the connection; where the connection grants only windows,
    // a command without one is refused (admins' own commands are approved as they are made).
    let grantId: string | null = null;
    const accessMode = accessModeOf(connection);
    // An agent's window counts only while the connection lets agents have one.
    if (route === 'review' && accessMode !== 'command' && (user.kind !== 'agent' || connection.jitAgents)) {
      grantId = (await findOpenGrant(db, user.id, connection.id, opts.clock.now()))?.id ?? null;
      if (!grantId && accessMode === 'jit' && !user.isAdmin) {
        await input.admit?.().catch(() => {});
        await held?.(null).catch(() => {});
        await db.$transaction((tx) => recordAudit(tx, ctx, 'review.blocked', null, { connection: connection.name, rule: 'access-window-required', command: strictestKind(classification.statements) }));
        throw jitOnlyRefusal(connection.name);
      }
    }
    try {
      await input.admit?.();
    } catch (error) {
      // The held read is not a request after all: its audit says so.
      await held?.(null).catch(() => {});
      throw error;
    }
    const noReviewBecause = grantId ? 'access-grant' : route === 'read-only' ? 'read-only' : route === 'direct' && connection.reviewers.length > 0 ? 'review-mode-none' : undefined;
    const now = opts.clock.now();
    const created = createReview({ requester: actorOf(user), reviewerGroups: connection.reviewers, now, timeoutSec: opts.reviewTimeoutSec, noReviewBecause, distinctApprovers: connection.distinctApprovers });
    // Chosen here, so that after a connection lost during COMMIT the request can be looked up.
    const reviewId = randomUUID();
    const store = () => db.$transaction(async (tx) => {
      // The window is share-locked until the commit: a revocation committed first is seen here, and
      // one that comes later waits for this command to be stored (it then runs, as submitted in time).
      if (grantId) {
        const open = await findOpenGrant(tx, user.id, connection.id, opts.clock.now(), true);
        if (!open) throw new AppError(ErrorCode.WrongState, `Your access window on ${connection.name} closed while this command was being submitted; nothing was run. Submit it again (it is then reviewed), or ask for access again.`);
        // The window the lock holds is the one the command runs under.
        grantId = open.id;
      }
      const review = await tx.review.create({
        include: reviewInclude,
        data: {
          id: reviewId,
          connectionId: connection.id,
          requesterId: user.id,
          input: text,
          reason: input.reason?.trim() || null,
          readOnly: route === 'read-only',
          classification: summarize(classification) as object,
          fingerprint: classification.fingerprint ?? null,
          // Shown to reviewers with the request (issue 13); the audit event below has it too.
          origin: (originOf(ctx) ?? undefined) as object | undefined,
          grantId,
          // Measured by the review.preview job planned below; shown as "measuring…" meanwhile.
          preview: created.state.status === 'PENDING' && wantsPreview(connection, classification.statements) ? (PENDING_PREVIEW as object) : undefined,
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
        // The command itself stays on the request; its digest here shows a later change of it.
        inputSha256: commandSha256(text),
        ...agentDetail(user),
        // Run under an access window: audited under it.
        ...(grantId ? { grantId } : {}),
      });
      if (created.directReason) {
        await recordAudit(tx, ctx, created.autoApproved ? 'review.auto_approved' : 'review.no_review_required', review.id, { reason: created.directReason, ...(grantId ? { grantId } : {}) });
      }
      if (created.state.status === 'PENDING') {
        // A write waiting for review gets its impact preview measured at once (issue 14).
        const preview = previewOf(review) ? [previewJob(review.id)] : [];
        await outbox.write(tx, review.id, [...jobsOfNewRequest(opts.notifiers, connection.plugins, review.id, created.state.expiresAt, remindAtOf(now, opts.reviewReminderSec)), ...preview]);
      } else if (created.autoApproved) {
        // Reviewers still see what an admin ran on their connection, with its result.
        await outbox.write(tx, review.id, opts.notifiers.jobsOfNewRequest(connection.plugins, { reviewId: review.id, status: 'APPROVED', autoApproved: true }));
      }
      return review;
    });
    let stored: ReviewRow;
    try {
      stored = await store();
    } catch (error) {
      if (isAppError(error) || !isDatabaseBusy(error)) {
        await held?.(null).catch(() => {});
        throw error;
      }
      const found = await committedDespite(error, () => db.review.findUnique({ where: { id: reviewId }, include: reviewInclude }), {
        id: reviewId,
        check: `Look for request ${reviewId} (GET /api/reviews/${reviewId}, or hoop admin get reviews)`,
      });
      if (!found) {
        await held?.(null).catch(() => {});
        throw notDoneError(error, 'no request was created');
      }
      log.warn({ err: error, reviewId }, 'the connection was lost during the commit of a new request; it was committed');
      stored = found;
    }
    // From here on the request exists: its answer is never an error of our database.
    const readBack = async () => toReviewView(await readBackOr(() => getReview(db, reviewId), stored, (err) => log.warn({ err, reviewId }, 'answered a new request from what was stored; the database could not be read back')));
    await held?.(reviewId).catch((err: unknown) => log.warn({ err, reviewId }, 'could not record that a read was held for review'));
    // Approved as it was made (no reviewers, the admin's own, review mode none): a decision too, taking no time.
    if (created.state.status === 'APPROVED') observeDecision('approved', now, now);
    await afterCommit(reviewId);
    // A pending request is answered as committed: reading it back would cost a query per request
    // and could only show a decision made in the last milliseconds (which the caller waits for anyway).
    if (created.state.status === 'PENDING') return toReviewView(stored);
    let result: Awaited<ReturnType<typeof executeReview>>;
    try {
      result = await executeReview(reviewId);
    } catch (error) {
      // The request is stored (APPROVED); a 503 now would make the client submit it twice. A job
      // runs it when the database has room (the claim makes that exactly once); the caller waits.
      // So does a gateway that is stopping: the job runs on another replica or after the restart.
      if (!isDatabaseBusy(error) && !(error instanceof StoppingError)) throw error;
      log.warn({ err: error, reviewId }, 'database busy or gateway stopping; execution handed to a job');
      // If even this write fails, the sweep re-enqueues approved requests that never started.
      await outbox
        .write(db, reviewId, [{ name: 'review.execute', payload: { reviewId }, jobId: `execute-${reviewId}` }])
        .then(() => afterCommit(reviewId))
        .catch((err) => log.error({ err, reviewId }, 'could not hand the execution to a job'));
      result = null;
    }
    if (result?.retryAfterSec !== undefined) {
      // Nothing ran (every connection to the target busy): a retryable refusal, audited as a failed request.
      throw new AppError(ErrorCode.Unavailable, result.error ?? 'The target is busy; try again.', { retryAfterSec: result.retryAfterSec, details: { reviewId } });
    }
    return readBack();
  };
}
