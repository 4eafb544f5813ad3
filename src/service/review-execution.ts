// Running an approved review, exactly once: APPROVED → RUNNING is the claim; the guardrails are
// checked again; the result is written with its audit event; a heartbeat shows the run is alive.
import { commandSha256 } from '../core/output-digest.js';
import { limitsRows, rowBoundFromJson } from '../core/row-bound.js';
import { finishExecution, startExecution } from '../core/review-state.js';
import { outputSha256 } from '../core/output-digest.js';
import { checkGuardrails } from '../core/sql-policy.js';
import { recordAudit, SYSTEM_ACTOR } from '../db/audit.js';
import type { Db } from '../db/client.js';
import { lockReview, toReviewState, writeTransition, type ReviewRow } from '../db/reviews.js';
import { refused, type ExecutionResult, type SqlExecutor, type TargetSession } from '../execution/types.js';
import type { Classifier } from '../sql/classifier.js';
import type { Logger } from '../logger.js';
import { observeDecision, observeExecution } from '../metrics.js';
import { dialectOf } from '../sql/types.js';
import { withTimeout } from '../with-timeout.js';
import { classifyFor, guardrailsOf, maskingOf } from './connection-policy.js';
import type { AfterCommit, RecordEffects } from './review-effects.js';
import type { ReviewEvents } from './review-events.js';
import { createRunOutcome, retryStateWrite, STOPPED_DURING_EXECUTION } from './run-outcome.js';
import { createRunningExecutions, StoppingError } from './running-executions.js';

export { STOPPED_DURING_EXECUTION };

/** The gateway-wide limits of a run. */
export interface ExecutionLimits {
  statementTimeoutMs: number;
  outputMaxBytes: number;
  maxRows?: number;
}

export interface ExecutionOptions {
  db: Db;
  events: ReviewEvents;
  log: Logger;
  recordEffects: RecordEffects;
  afterCommit: AfterCommit;
  execute: ExecutionLimits;
  executor: SqlExecutor;
  classifier: Classifier;
  staleRunningMs: number;
  heartbeatMs: number;
  /** How long the sweep keeps asking an unreachable target how a stopped run ended before it reports the outcome unknown. */
  outcomeGiveUpMs?: number;
  /** How long a run whose target connection dropped keeps asking the target whether it committed. */
  outcomeWaitMs?: number;
}

/** Execution of approved reviews and the failing of runs whose process stopped. */
export function createExecution(opts: ExecutionOptions) {
  const { db, events, log, recordEffects, afterCommit, staleRunningMs, heartbeatMs } = opts;
  const running = createRunningExecutions(heartbeatMs);
  // When this process last failed to write to the state database. A heartbeat older than
  // staleRunningMs proves a run stopped only if the database took writes all that while: after an
  // outage every live run's heartbeat is stale until its next beat, so none is settled until the
  // database has answered this process for staleRunningMs again.
  let stateDbFailedAt = Number.NEGATIVE_INFINITY;
  const stateDbFailed = () => {
    stateDbFailedAt = Date.now();
  };
  const outcomes = createRunOutcome({ db, executor: opts.executor, log, staleRunningMs, outcomeGiveUpMs: opts.outcomeGiveUpMs, onStateDbFailure: stateDbFailed });

  async function heartbeat(reviewId: string): Promise<void> {
    // Bounded: a write stuck on a dead connection must not stop the beats that follow.
    await withTimeout(db.review.updateMany({ where: { id: reviewId, status: 'RUNNING' }, data: { heartbeatAt: new Date() } }), heartbeatMs, 'the heartbeat write').catch((error) => {
      stateDbFailed();
      throw error;
    });
  }

  /** Runs an approved review exactly once: APPROVED → RUNNING is the claim; others return null. */
  async function executeReview(reviewId: string): Promise<ExecutionResult | null> {
    // The job fails and is retried by a worker of another process (or of the next start).
    if (running.handedOver) throw new StoppingError(reviewId);
    const claimed = await db.$transaction(async (tx) => {
      const row = await lockReview(tx, reviewId);
      if (row.status !== 'APPROVED') return null;
      const t = startExecution(toReviewState(row));
      const now = new Date();
      // "claimed": nothing sent yet; the executor records the target session before it sends the input.
      await writeTransition(tx, reviewId, 'APPROVED', t, { startedAt: now, heartbeatAt: now, runTracking: 'claimed' });
      await recordAudit(tx, SYSTEM_ACTOR, t.action, reviewId, { connection: row.connection.name });
      const connection = await tx.connection.findUniqueOrThrow({ where: { id: row.connectionId } });
      return { row, connection };
    });
    if (!claimed) return null;
    // Handed over while the claim committed: nothing is sent; the sweep settles it (nothing ran).
    const beat = running.track(reviewId, () => heartbeat(reviewId));
    await events.publish(reviewId).catch(() => {});
    let result: ExecutionResult;
    const runStarted = performance.now();
    try {
      result = await runChecked(claimed.row, claimed.connection);
    } catch (err) {
      log.error({ err, reviewId }, 'execution failed unexpectedly');
      result = { ok: false, output: '', outputTruncated: false, commandTags: [], rowsAffected: null, error: `the gateway could not run the command: ${(err as Error).message}` };
    }
    observeExecution(dialectOf(claimed.connection.url), result.ok ? 'executed' : 'failed', (performance.now() - runStarted) / 1000);
    // The run is over; its result is written however long the state database takes, the heartbeat
    // beating meanwhile so no sweep takes a finished run for a stopped one.
    // The finishedAt of each attempt: the one found written tells this run's own write.
    const attempts = new Set<number>();
    const done = await retryStateWrite(() => db.$transaction(async (tx) => {
      const row = await lockReview(tx, reviewId);
      if (row.status !== 'RUNNING') {
        // An earlier attempt committed but its answer was lost: the result is written, its effects are not yet relayed.
        const ours = attempts.has(row.finishedAt?.getTime() ?? NaN) && row.status === (result.ok ? 'EXECUTED' : 'FAILED') && row.output === result.output;
        return ours ? 'written' : null; // else: settled by a sweep meanwhile
      }
      const t = finishExecution(toReviewState(row), result.ok);
      const finishedAt = new Date();
      attempts.add(finishedAt.getTime());
      await writeTransition(tx, reviewId, 'RUNNING', t, {
        finishedAt,
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
        outputTruncated: result.outputTruncated,
        // Of `output` as written to the review just above (what GET /api/reviews/:id answers).
        outputSha256: outputSha256(result.output),
      });
      // Rolled back at its approved row bound: said apart, for auditors who look for exactly this.
      if (result.boundExceeded) await recordAudit(tx, SYSTEM_ACTOR, 'review.bound_exceeded', reviewId, { error: result.boundExceeded, rowBound: row.rowBound });
      await recordEffects(tx, reviewId, t, row.connection.plugins);
      return t;
    }), log, { reviewId }, undefined, stateDbFailed).finally(() => beat.stop());
    if (!done) return result;
    observeDecision(result.ok ? 'executed' : 'failed');
    await afterCommit(reviewId, done === 'written' ? undefined : done);
    return result;
  }

  /** Checks the guardrails again (they may have changed since the request), then runs. */
  async function runChecked(row: ReviewRow, connection: { name: string; url: string } & Parameters<typeof classifyFor>[1] & Parameters<typeof guardrailsOf>[0] & Parameters<typeof maskingOf>[0]): Promise<ExecutionResult> {
    const classification = await classifyFor(opts.classifier, connection, row.input);
    const violation = checkGuardrails(classification, guardrailsOf(connection));
    if (violation) return refused(`blocked before execution by the guardrail "${violation.rule.name}": ${violation.rule.message}`);
    const track = (session: TargetSession) => outcomes.record(row.id, session);
    // What the reviewers approved (issue 14): this very input, and the rows its bound allows.
    const bound = rowBoundFromJson(row.rowBound);
    const sha = commandSha256(row.input);
    if ((bound && bound.inputSha256 !== sha) || row.groups.some((g) => g.status === 'APPROVED' && g.inputSha256 && g.inputSha256 !== sha)) {
      return refused('the command is not the one its reviewers approved (its sha256 changed after the approval); nothing ran');
    }
    const options = { ...opts.execute, masking: maskingOf(connection), allowFunctions: connection.allowFunctions, statements: classification.statements, track, outcomeWaitMs: opts.outcomeWaitMs, ...(limitsRows(bound) ? { rowBound: bound } : {}) };
    const target = { name: connection.name, url: connection.url };
    if (row.readOnly) {
      if (!classification.parsed || !classification.statements.every((s) => s.kind === 'read')) return refused('this request ran without review as a read, but is not one');
      return opts.executor.run(target, row.input, { ...options, readOnly: true });
    }
    // A command reviewers approved waits for a busy target rather than fail and lose the approval.
    const reviewed = !row.autoApproved && row.groups.length > 0;
    return opts.executor.run(target, row.input, { ...options, waitForConnection: reviewed });
  }

  /**
   * Settles a RUNNING review whose process stopped, as the target tells: its session is stopped,
   * then EXECUTED when it committed, FAILED when it did not (or never reached the target), FAILED
   * "outcome unknown" only when the target cannot tell. False when there is nothing to settle yet.
   */
  async function failStopped(reviewId: string, now: Date): Promise<boolean> {
    // Alive here: its heartbeat may only have failed to be written.
    if (running.has(reviewId)) return false;
    if (now.getTime() - stateDbFailedAt < staleRunningMs) return false;
    const verdict = await outcomes.ofStopped(reviewId, now).catch((error: unknown) => {
      stateDbFailed();
      throw error;
    });
    if (!verdict) return false;
    const done = await db.$transaction(async (tx) => {
      const row = await lockReview(tx, reviewId);
      if (row.status !== 'RUNNING' || row.runTracking !== verdict.tracking) return null;
      if (row.heartbeatAt && row.heartbeatAt.getTime() >= now.getTime() - staleRunningMs) return null;
      const t = finishExecution(toReviewState(row), verdict.executed);
      await writeTransition(tx, reviewId, 'RUNNING', t, { finishedAt: now, error: verdict.error, output: verdict.output });
      await recordAudit(tx, SYSTEM_ACTOR, t.action, reviewId, {
        error: verdict.error,
        outcome: verdict.how,
        // The run's own output and counts were lost with the process that ran it.
        rowsAffected: null,
        outputBytes: verdict.output === null ? null : Buffer.byteLength(verdict.output),
        outputSha256: outputSha256(verdict.output),
      });
      await recordEffects(tx, reviewId, t, row.connection.plugins);
      return t;
    }).catch((error: unknown) => {
      stateDbFailed();
      throw error;
    });
    if (!done) return false;
    observeDecision(verdict.executed ? 'executed' : 'failed');
    await afterCommit(reviewId, done);
    return true;
  }

  return { executeReview, failStopped, handOver: running.handOver, noteStateDbFailure: stateDbFailed };
}
