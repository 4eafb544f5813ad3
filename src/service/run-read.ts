// The read use case: a command every statement of which is a read, on a connection whose review
// mode runs reads at once, runs on a pooled target connection inside a read-only transaction that
// is rolled back — no request row, no job. Its audit event is written while the target runs it and
// is committed before the result is returned (src/db/read-audit.ts); that write also proves the
// cached API key, user and connection the read was planned with are still current.
import { randomUUID } from 'node:crypto';
import { outputSha256 } from '../core/output-digest.js';
import type { AuditContext } from '../db/audit.js';
import type { ReadAudit } from '../db/read-audit.js';
import { AppError, ErrorCode } from '../errors.js';
import type { ExecutionResult, ReadCheck, RunOptions, SqlExecutor } from '../execution/types.js';
import type { Logger } from '../logger.js';
import { observeRead } from '../metrics.js';
import { dialectOf, type Classification } from '../sql/types.js';
import type { AuthUser } from './auth-user.js';
import type { ReviewClassification, ReviewView } from '../contracts/review-view.js';
import { originOf } from '../contracts/request-origin.js';

export interface ReadPlan {
  user: AuthUser;
  ctx: AuditContext;
  connection: { id: string; name: string; url: string; updatedAt: Date };
  input: string;
  reason: string | null;
  classification: Classification;
  summary: ReviewClassification;
  run: Omit<RunOptions, 'readOnly' | 'hold' | 'statements'>;
}

export type ReadOutcome =
  | { kind: 'done'; view: ReviewView; result: ExecutionResult }
  /** The key, the user or the connection changed since they were cached: nothing was returned; plan again afresh. */
  | { kind: 'stale' }
  /** The target's check objected: nothing ran; the command must be reviewed. `finish` records that in the audit trail. */
  | { kind: 'held'; check: ReadCheck; finish: (reviewId: string | null) => Promise<void> };

const SELECT_TAG = /^SELECT (\d+)$/;

/** Rows the read returned, from its command tags (SELECT n). */
function rowsOf(tags: readonly string[]): number | null {
  let n: number | null = null;
  for (const t of tags) {
    const m = SELECT_TAG.exec(t);
    if (m) n = (n ?? 0) + Number(m[1]);
  }
  return n;
}

export function createReadCommand(opts: { executor: SqlExecutor; audit: ReadAudit; log: Logger }) {
  const { executor, audit, log } = opts;

  return async function runRead(plan: ReadPlan): Promise<ReadOutcome> {
    const readId = randomUUID();
    const started = new Date();
    const t0 = performance.now();
    const key = plan.user.key?.cached ? { id: plan.user.key.id, userUpdatedAt: plan.user.key.userUpdatedAt } : undefined;
    // The audit write and the read travel together; the result waits for both.
    const recorded = audit.start({ readId, ctx: plan.ctx, key, connection: plan.connection, input: plan.input, reason: plan.reason, tables: plan.summary.statements.flatMap((s) => s.tables) });
    const ran = executor.run({ name: plan.connection.name, url: plan.connection.url }, plan.input, { ...plan.run, statements: plan.classification.statements, readOnly: true, hold: true });
    const [current, result] = await Promise.all([
      recorded.catch((error: unknown) => error as Error),
      ran,
    ]);
    const durationMs = performance.now() - t0;
    const finish = (outcome: 'executed' | 'failed' | 'held' | 'discarded', reviewId?: string, why?: string) =>
      audit.finish({
        readId,
        ctx: plan.ctx,
        connection: plan.connection.name,
        outcome,
        rows: rowsOf(result.commandTags),
        durationMs,
        outputBytes: Buffer.byteLength(result.output),
        outputSha256: outputSha256(result.output),
        rowsAffected: result.rowsAffected,
        outputTruncated: result.outputTruncated,
        commandTags: result.commandTags,
        error: why ?? (outcome === 'discarded' ? 'the key, its user or the connection changed while the read ran; its result was not returned' : result.error),
        reviewId,
      });
    if (current instanceof Error) {
      // Not audited, so not returned. The read ran read-only: nothing changed.
      log.warn({ err: current, connection: plan.connection.name }, 'a read could not be audited; its result was not returned');
      throw new AppError(ErrorCode.Unavailable, 'The gateway could not record this read in its audit trail, so its result is not returned (the read changed nothing). Try again in a moment.', { retryAfterSec: 1 });
    }
    if (!current) {
      // It ran on the target (read-only, so nothing changed) under a key, user or connection that
      // no longer stands: recorded as discarded; the caller plans it again afresh.
      await finish('discarded').catch((err: unknown) => log.warn({ err }, 'could not record a discarded read'));
      return { kind: 'stale' };
    }
    if (result.held) {
      const held = (reviewId: string | null) => (reviewId ? finish('held', reviewId) : finish('discarded', undefined, 'held for review, but no request was made (refused, or not stored)'));
      return { kind: 'held', check: result.held, finish: held };
    }
    if (result.retryAfterSec !== undefined) {
      observeRead(dialectOf(plan.connection.url), 'refused', durationMs / 1000);
      await finish('failed');
      throw new AppError(ErrorCode.Unavailable, result.error ?? 'The target is busy; try again.', { retryAfterSec: result.retryAfterSec });
    }
    // Committed (without waiting for the disk) before the result leaves; if it cannot be, the
    // result does not leave either.
    await finish(result.ok ? 'executed' : 'failed').catch((error: unknown) => {
      log.warn({ err: error, connection: plan.connection.name }, 'the end of a read could not be audited; its result was not returned');
      throw new AppError(ErrorCode.Unavailable, 'The gateway could not record the end of this read in its audit trail, so its result is not returned (the read changed nothing). Try again in a moment.', { retryAfterSec: 1 });
    });
    observeRead(dialectOf(plan.connection.url), result.ok ? 'ok' : 'error', durationMs / 1000);
    const finished = new Date(started.getTime() + Math.round(durationMs));
    const at = started.toISOString();
    return {
      kind: 'done',
      result,
      view: {
        id: readId,
        connection: plan.connection.name,
        requester: plan.user.email,
        requesterSlackId: plan.user.slackUserId,
        requesterKind: plan.user.kind,
        requesterOwner: plan.user.owner,
        origin: originOf(plan.ctx),
        kind: 'command',
        access: null,
        grantId: null,
        input: plan.input,
        reason: plan.reason,
        status: result.ok ? 'EXECUTED' : 'FAILED',
        autoApproved: false,
        readOnly: true,
        classification: plan.summary,
        groups: [],
        approvals: { approved: 0, total: 0 },
        preview: null,
        rejectReason: null,
        correction: null,
        correctedBy: null,
        createdAt: at,
        expiresAt: at,
        decidedAt: at,
        startedAt: at,
        finishedAt: finished.toISOString(),
        output: result.output,
        outputTruncated: result.outputTruncated,
        commandTags: result.commandTags,
        rowsAffected: result.rowsAffected,
        error: result.error,
      },
    };
  };
}
