// Corrections (issue 14): a reviewer's "Suggest a change" rejects a request and makes, on its
// requester's behalf, a new one with the corrected command; the requester's acceptance is what lets
// it run (a reviewer must not run a command of their own under someone else's name).
import { randomUUID } from 'node:crypto';
import { acceptCorrection, suggestCorrection, type Transition } from '../core/review-state.js';
import { checkGuardrails } from '../core/sql-policy.js';
import { commandSha256 } from '../core/output-digest.js';
import { recordAudit, type AuditContext } from '../db/audit.js';
import type { Db } from '../db/client.js';
import { getReview, lockReview, reviewInclude, reviewNotFound, toReviewState, writeTransition, type ReviewRow } from '../db/reviews.js';
import { AppError, ErrorCode, isAppError } from '../errors.js';
import type { Clock } from '../core/ports.js';
import type { Classifier } from '../sql/classifier.js';
import type { NotifierRegistry } from '../notify/registry.js';
import { bindApproval } from './approval-binding.js';
import { classifyFor, guardrailsOf } from './connection-policy.js';
import { PENDING_PREVIEW, previewJob, wantsPreview } from './impact-preview.js';
import { actorOf, visibleTo } from './review-access.js';
import { jobsOfNewRequest, remindAtOf, remindJobId, type AfterCommit, type Outbox, type RecordEffects } from './review-effects.js';
import type { AuthUser } from './auth-user.js';
import { checkLength, MAX_INPUT_BYTES, summarize, DEFAULT_MAX_STATEMENTS } from './submit-command.js';

/** Longest comment of a suggested change: a reject reason's limit (the original is rejected with it). */
export const MAX_SUGGEST_COMMENT_CHARS = 1000;

export interface SuggestInput {
  input: string;
  comment: string;
  group?: string;
}

export interface CorrectionsOptions {
  db: Db;
  outbox: Outbox;
  recordEffects: RecordEffects;
  afterCommit: AfterCommit;
  notifiers: NotifierRegistry;
  classifier: Classifier;
  maxStatements?: number;
  reviewTimeoutSec: number;
  reviewReminderSec?: number;
  clock: Clock;
}

/** Suggest and accept, over the database and the outbox. */
export function createCorrections(opts: CorrectionsOptions) {
  const { db, outbox, recordEffects, afterCommit, clock } = opts;

  /** A refusal of a request that exists, audited against it; then thrown. */
  async function refused(error: unknown, reviewId: string, ctx: AuditContext, action: 'suggest' | 'accept'): Promise<never> {
    if (isAppError(error) && (error.code !== ErrorCode.NotFound || (error as { hidden?: boolean }).hidden)) {
      const detail = { action, code: error.code, message: error.message };
      await db.$transaction(async (tx) => {
        if (await tx.review.findUnique({ where: { id: reviewId }, select: { id: true } })) await recordAudit(tx, ctx, 'review.vote_denied', reviewId, detail);
      }).catch(() => {});
    }
    throw error;
  }

  /** The new command, checked as a submit on its connection would check it; throws a coded refusal. */
  async function checkInput(row: ReviewRow, text: string, ctx: AuditContext) {
    if (text.trim() === '') throw new AppError(ErrorCode.BadInput, 'The corrected command is empty. Pass the SQL to run instead, e.g. {"input": "UPDATE ... WHERE id = 1", "comment": "..."}.');
    if (Buffer.byteLength(text) > MAX_INPUT_BYTES) throw new AppError(ErrorCode.BadInput, `The corrected command is larger than ${MAX_INPUT_BYTES} bytes; split it into smaller requests.`);
    if (text === row.input) throw new AppError(ErrorCode.BadInput, 'Nothing changed: the corrected command is the same as the request\'s. Edit the command, or approve or reject the request as it is.');
    const connection = await db.connection.findUniqueOrThrow({ where: { id: row.connectionId } });
    const maxStatements = opts.maxStatements ?? DEFAULT_MAX_STATEMENTS;
    const classification = await classifyFor(opts.classifier, connection, text, maxStatements);
    if (classification.tooManyStatements !== undefined) {
      throw new AppError(ErrorCode.BadInput, `The corrected command has ${classification.tooManyStatements} statements; at most ${maxStatements} are accepted in one request (MAX_STATEMENTS_PER_REQUEST).`);
    }
    const violation = checkGuardrails(classification, guardrailsOf(connection));
    if (violation) {
      const { rule, statement } = violation;
      await db.$transaction((tx) => recordAudit(tx, ctx, 'review.blocked', row.id, { connection: connection.name, rule: rule.name, statement: statement.statement.slice(0, 2000), command: statement.command, correctionOf: row.id }));
      throw new AppError(ErrorCode.Guardrail, `Blocked by the guardrail "${rule.name}" of ${connection.name}: ${rule.message} Nothing changed: the request is still pending.`, { details: { rule: rule.name, statement: statement.index } });
    }
    return { connection, classification };
  }

  /**
   * "Suggest a change": the original REJECTED with the comment and a link, and its correction
   * created PENDING with the suggester's approval, in one transaction. Returns both.
   */
  async function suggest(user: AuthUser, reviewId: string, input: SuggestInput, ctx: AuditContext): Promise<{ original: ReviewRow; correction: ReviewRow }> {
    const now = clock.now();
    let planned: { original: Transition; correction: Transition; correctionId: string; plugins: readonly string[] };
    try {
      checkLength('comment', input.comment, MAX_SUGGEST_COMMENT_CHARS);
      if (!input.comment?.trim()) throw new AppError(ErrorCode.BadInput, 'Say why the command is changed: "comment" is required (hoop review suggest ID --comment "...").');
      const head = await getReview(db, reviewId);
      if (!visibleTo(user, head)) throw Object.assign(reviewNotFound(reviewId), { hidden: true });
      // Who may suggest, before the input is looked at: a stranger learns nothing of the policy.
      suggestCorrection(toReviewState(head), { actor: actorOf(user), group: input.group, reason: input.comment }, now, opts.reviewTimeoutSec);
      const { connection, classification } = await checkInput(head, input.input, ctx);
      const correctionId = randomUUID();
      const comment = input.comment.trim();
      const previewAtOnce = wantsPreview(connection, classification.statements) && connection.reviewMode !== 'all';
      planned = await db.$transaction(async (tx) => {
        const row = await lockReview(tx, reviewId);
        const s = suggestCorrection(toReviewState(row), { actor: actorOf(user), group: input.group, reason: comment }, now, opts.reviewTimeoutSec);
        const reason = `Changed by ${user.email}: ${comment} (correction ${correctionId})`;
        const original: Transition = { ...s.original, next: { ...s.original.next, rejectReason: reason }, effects: s.original.effects };
        await writeTransition(tx, reviewId, 'PENDING', original);
        const sha = commandSha256(input.input);
        await tx.review.create({
          include: reviewInclude,
          data: {
            id: correctionId,
            connectionId: row.connectionId,
            requesterId: row.requesterId,
            input: input.input,
            reason: row.reason,
            classification: summarize(classification) as object,
            fingerprint: classification.fingerprint ?? null,
            origin: (row.origin ?? undefined) as object | undefined,
            // Where reads are reviewed, a dry run of the suggester's command before its requester
            // accepted it would be the suggester's read without review: measured at the acceptance.
            preview: previewAtOnce ? (PENDING_PREVIEW as object) : undefined,
            status: 'PENDING',
            expiresAt: s.correction.expiresAt,
            createdAt: now,
            correctionOfId: row.id,
            suggestedById: user.id,
            suggestComment: comment,
            groups: {
              create: s.correction.groups.map((g) => ({ group: g.group, status: g.status, reviewerId: g.reviewerId, decidedAt: g.decidedAt, reason: g.reason, inputSha256: g.status === 'APPROVED' ? sha : null })),
            },
          },
        });
        const detail = { correctionOf: row.id, correction: correctionId, suggestedBy: user.email, group: s.group, comment, inputSha256: sha };
        await recordAudit(tx, ctx, 'review.rejected', reviewId, { groups: original.decidedGroups, reason, status: 'REJECTED', correction: correctionId });
        await recordAudit(tx, ctx, 'review.correction_suggested', reviewId, detail);
        await recordAudit(tx, ctx, 'review.created', correctionId, { connection: row.connection.name, status: 'PENDING', groups: s.correction.groups.map((g) => g.group), inputBytes: Buffer.byteLength(input.input), inputSha256: sha, correctionOf: row.id });
        await recordAudit(tx, ctx, 'review.correction_suggested', correctionId, detail);
        await recordAudit(tx, ctx, 'review.group_approved', correctionId, { groups: [s.group], reason: null, status: 'PENDING', inputSha256: sha });
        await recordEffects(tx, reviewId, original, row.connection.plugins);
        const preview = previewAtOnce ? [previewJob(correctionId)] : [];
        await outbox.write(tx, correctionId, [...jobsOfNewRequest(opts.notifiers, row.connection.plugins, correctionId, s.correction.expiresAt, remindAtOf(now, opts.reviewReminderSec)), ...preview]);
        const created: Transition = { next: s.correction, action: 'review.created', decidedGroups: [], effects: [] };
        return { original, correction: created, correctionId, plugins: row.connection.plugins };
      });
    } catch (error) {
      return refused(error, reviewId, ctx, 'suggest');
    }
    await afterCommit(reviewId, planned.original);
    await afterCommit(planned.correctionId);
    outbox.removeJob('review.expire', `expire-${reviewId}`);
    outbox.removeJob('review.remind', remindJobId(reviewId));
    return { original: await getReview(db, reviewId), correction: await getReview(db, planned.correctionId) };
  }

  /** The requester accepts a correction of their request: it runs once every group has approved. */
  async function accept(user: AuthUser, reviewId: string, ctx: AuditContext): Promise<ReviewRow> {
    const now = clock.now();
    let done: Transition;
    try {
      done = await db.$transaction(async (tx) => {
        const row = await lockReview(tx, reviewId);
        // An agent's request is accepted by its owner, who answers for it (the core decides who may).
        if (!visibleTo(user, row)) throw Object.assign(reviewNotFound(reviewId), { hidden: true });
        const t = acceptCorrection(toReviewState(row), actorOf(user), now);
        // The last consent: the run is bound as at a last approval (the input's digest, the row limits).
        const bind = await bindApproval(tx, row, t, {});
        // Measured now where it waited for this consent (reads are reviewed: see suggest).
        const c = await tx.connection.findUniqueOrThrow({ where: { id: row.connectionId }, select: { previewMode: true } });
        const statements = (row.classification as { statements?: { kind: string; command: string }[] } | null)?.statements ?? [];
        const measureNow = t.next.status === 'PENDING' && row.preview === null && wantsPreview(c, statements);
        await writeTransition(tx, reviewId, 'PENDING', t, { acceptedAt: now, ...bind.extra, ...(measureNow ? { preview: PENDING_PREVIEW as object } : {}) });
        if (measureNow) await outbox.write(tx, reviewId, [previewJob(reviewId)]);
        await recordAudit(tx, ctx, t.action, reviewId, { status: t.next.status, inputSha256: bind.sha, ...(bind.extra.rowBound ? { rowBound: bind.extra.rowBound } : {}) });
        // The acceptance that completes the approvals is, for the channels and webhooks, the approval.
        const announced: Transition = t.next.status === 'APPROVED' ? { ...t, action: 'review.approved' } : t;
        if (announced !== t) await recordAudit(tx, ctx, 'review.approved', reviewId, { groups: [], reason: 'the requester accepted the correction', status: 'APPROVED', inputSha256: bind.sha });
        await recordEffects(tx, reviewId, announced, row.connection.plugins);
        return announced;
      });
    } catch (error) {
      return refused(error, reviewId, ctx, 'accept');
    }
    await afterCommit(reviewId, done);
    if (done.next.status !== 'PENDING') {
      outbox.removeJob('review.expire', `expire-${reviewId}`);
      outbox.removeJob('review.remind', remindJobId(reviewId));
    }
    return getReview(db, reviewId);
  }

  /** What `suggest` would refuse, without the command (the Slack button asks before it opens its modal); the request otherwise. */
  async function previewSuggest(user: AuthUser, reviewId: string, group: string | undefined, ctx: AuditContext): Promise<ReviewRow> {
    try {
      const head = await getReview(db, reviewId);
      if (!visibleTo(user, head)) throw Object.assign(reviewNotFound(reviewId), { hidden: true });
      suggestCorrection(toReviewState(head), { actor: actorOf(user), group, reason: 'preview' }, clock.now(), opts.reviewTimeoutSec);
      return head;
    } catch (error) {
      return refused(error, reviewId, ctx, 'suggest');
    }
  }

  return { suggest, accept, previewSuggest, refuse: refused };
}
