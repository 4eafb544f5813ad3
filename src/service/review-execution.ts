// Running an approved review, exactly once: APPROVED → RUNNING is the claim; the guardrails are
// checked again; the result is written with its audit event; a heartbeat shows the run is alive.
import { finishExecution, startExecution } from '../core/review-state.js';
import { checkGuardrails } from '../core/sql-policy.js';
import { recordAudit, SYSTEM_ACTOR } from '../db/audit.js';
import type { Db } from '../db/client.js';
import { lockReview, toReviewState, writeTransition, type ReviewRow } from '../db/reviews.js';
import { refused, type ExecutionResult, type SqlExecutor } from '../execution/types.js';
import type { Classifier } from '../sql/classifier.js';
import type { JobQueue } from '../jobs/queues.js';
import type { Logger } from '../logger.js';
import { classifyFor, guardrailsOf, maskingOf } from './connection-policy.js';
import type { AfterCommit, RecordEffects } from './review-effects.js';
import type { ReviewEvents } from './review-events.js';

export const STOPPED_DURING_EXECUTION = 'the gateway stopped during execution; outcome unknown';

/** The gateway-wide limits of a run. */
export interface ExecutionLimits {
  statementTimeoutMs: number;
  outputMaxBytes: number;
  maxRows?: number;
}

export interface ExecutionOptions {
  db: Db;
  jobs: JobQueue;
  events: ReviewEvents;
  log: Logger;
  recordEffects: RecordEffects;
  afterCommit: AfterCommit;
  execute: ExecutionLimits;
  executor: SqlExecutor;
  classifier: Classifier;
  slackEnabled: boolean;
  staleRunningMs: number;
  heartbeatMs: number;
}

/** Execution of approved reviews and the failing of runs whose process stopped. */
export function createExecution(opts: ExecutionOptions) {
  const { db, events, log, recordEffects, afterCommit, staleRunningMs, heartbeatMs } = opts;

  async function heartbeat(reviewId: string): Promise<void> {
    await db.review.updateMany({ where: { id: reviewId, status: 'RUNNING' }, data: { heartbeatAt: new Date() } });
  }

  /** Runs an approved review exactly once: APPROVED → RUNNING is the claim; others return null. */
  async function executeReview(reviewId: string): Promise<ExecutionResult | null> {
    const claimed = await db.$transaction(async (tx) => {
      const row = await lockReview(tx, reviewId);
      if (row.status !== 'APPROVED') return null;
      const t = startExecution(toReviewState(row));
      const now = new Date();
      await writeTransition(tx, reviewId, 'APPROVED', t, { startedAt: now, heartbeatAt: now });
      await recordAudit(tx, SYSTEM_ACTOR, t.action, reviewId, { connection: row.connection.name });
      const connection = await tx.connection.findUniqueOrThrow({ where: { id: row.connectionId } });
      return { row, connection };
    });
    if (!claimed) return null;
    await events.publish(reviewId).catch(() => {});
    const beat = setInterval(() => void heartbeat(reviewId).catch(() => {}), heartbeatMs);
    let result: ExecutionResult;
    try {
      result = await runChecked(claimed.row, claimed.connection);
    } catch (err) {
      log.error({ err, reviewId }, 'execution failed unexpectedly');
      result = { ok: false, output: '', outputTruncated: false, commandTags: [], rowsAffected: null, error: `the gateway could not run the command: ${(err as Error).message}` };
    } finally {
      clearInterval(beat);
    }
    const done = await db.$transaction(async (tx) => {
      const row = await lockReview(tx, reviewId);
      if (row.status !== 'RUNNING') return null; // marked FAILED by a sweep meanwhile
      const t = finishExecution(toReviewState(row), result.ok);
      await writeTransition(tx, reviewId, 'RUNNING', t, {
        finishedAt: new Date(),
        output: result.output,
        outputTruncated: result.outputTruncated,
        commandTags: result.commandTags,
        rowsAffected: result.rowsAffected,
        error: result.error,
      });
      await recordAudit(tx, SYSTEM_ACTOR, t.action, reviewId, {
        commandTags: result.commandTags,
        rowsAffected: result.rowsAffected,
        error: result.error,
        outputBytes: Buffer.byteLength(result.output),
      });
      await recordEffects(tx, reviewId, t);
      return t;
    });
    if (!done) return result;
    await afterCommit(reviewId, done);
    return result;
  }

  /** Checks the guardrails again (they may have changed since the request), then runs. */
  async function runChecked(row: ReviewRow, connection: { name: string; url: string } & Parameters<typeof classifyFor>[1] & Parameters<typeof guardrailsOf>[0] & Parameters<typeof maskingOf>[0]): Promise<ExecutionResult> {
    const classification = await classifyFor(opts.classifier, connection, row.input);
    const violation = checkGuardrails(classification, guardrailsOf(connection));
    if (violation) return refused(`blocked before execution by the guardrail "${violation.rule.name}": ${violation.rule.message}`);
    const options = { ...opts.execute, masking: maskingOf(connection), allowFunctions: connection.allowFunctions, statements: classification.statements };
    const target = { name: connection.name, url: connection.url };
    if (row.readOnly) {
      if (!classification.parsed || !classification.statements.every((s) => s.kind === 'read')) return refused('this request ran without review as a read, but is not one');
      return opts.executor.run(target, row.input, { ...options, readOnly: true });
    }
    // A command reviewers approved waits for a busy target rather than fail and lose the approval.
    const reviewed = !row.autoApproved && row.groups.length > 0;
    return opts.executor.run(target, row.input, { ...options, waitForConnection: reviewed });
  }

  async function failStopped(reviewId: string, now: Date): Promise<boolean> {
    const done = await db.$transaction(async (tx) => {
      const row = await lockReview(tx, reviewId);
      if (row.status !== 'RUNNING') return null;
      if (row.heartbeatAt && row.heartbeatAt.getTime() >= now.getTime() - staleRunningMs) return null;
      const t = finishExecution(toReviewState(row), false);
      await writeTransition(tx, reviewId, 'RUNNING', t, { finishedAt: now, error: STOPPED_DURING_EXECUTION });
      await recordAudit(tx, SYSTEM_ACTOR, t.action, reviewId, { error: STOPPED_DURING_EXECUTION });
      await recordEffects(tx, reviewId, t);
      return t;
    });
    if (!done) return false;
    await afterCommit(reviewId, done);
    return true;
  }

  return { executeReview, failStopped };
}
