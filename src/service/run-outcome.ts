// What a run records before its input reaches the target, what the target says of a run whose
// process stopped, and the finish of a run written however long the state database takes: a
// status says only what is known (EXECUTED when it committed, FAILED when it did not, "outcome
// unknown" only when the target cannot tell).
import type { Db } from '../db/client.js';
import { isAppError } from '../errors.js';
import { checkOnTarget, type RunOutcome, type SqlExecutor, type TargetSession } from '../execution/types.js';
import type { Logger } from '../logger.js';
import { withTimeout } from '../with-timeout.js';

/** A RUNNING review whose process stopped before anything was sent to the target. */
export const NOT_SENT = 'the gateway stopped before the command was sent to the target: nothing ran. You may submit it again.';
/** A read that ran without review, whose process stopped. */
export const READ_STOPPED = 'the gateway stopped while this read ran; it ran read-only, so nothing changed. You may run it again.';
/** A RUNNING review left from before runs were recorded (or by a process that did not record it). */
export const STOPPED_DURING_EXECUTION = 'the gateway stopped during execution; outcome unknown';

/** How a run left behind by a stopped process ends, and why. */
export interface StoppedVerdict {
  executed: boolean;
  error: string | null;
  output: string | null;
  /** The runTracking it was decided on: the write must find the same (the run may have moved on meanwhile). */
  tracking: string | null;
  how: 'not-sent' | 'committed' | 'aborted' | 'unknown';
}

export interface RunOutcomeOptions {
  db: Db;
  executor: SqlExecutor;
  log: Logger;
  staleRunningMs: number;
  /** After this long without a heartbeat beyond staleRunningMs, a target that cannot be asked makes the outcome unknown. */
  outcomeGiveUpMs?: number;
  /** Told of every failed write to the state database (a sign it may be away). */
  onStateDbFailure?: (error: unknown) => void;
  /** The bound of one outcome check; past it the target counts as not asked yet. */
  outcomeCheckMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `write` until it succeeds, backing off, for at most `maxMs` (coded errors, which a retry
 * cannot mend, are thrown at once): a dropped state-database connection must not turn a finished
 * run into a failed one.
 */
export async function retryStateWrite<T>(write: () => Promise<T>, log: Logger, context: Record<string, unknown>, maxMs = 10 * 60_000, onFailure?: (error: unknown) => void): Promise<T> {
  const deadline = Date.now() + maxMs;
  let pause = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      onFailure?.(error);
      if (isAppError(error) || Date.now() + pause > deadline) throw error;
      log.warn({ ...context, err: error, attempt }, 'state database write failed; retrying');
      await sleep(pause);
      pause = Math.min(pause * 2, 5_000);
    }
  }
}

function sessionOf(row: { runTracking: string | null; runBackendPid: string | null; runBackendStart: string | null; runXid: string | null }): TargetSession | null {
  if ((row.runTracking !== 'transaction' && row.runTracking !== 'session') || !row.runBackendPid || !row.runBackendStart) return null;
  return { mode: row.runTracking, pid: row.runBackendPid, start: row.runBackendStart, ...(row.runXid ? { xid: row.runXid } : {}) };
}

/** Recording runs and learning the outcome of runs whose process stopped. */
export function createRunOutcome({ db, executor, log, staleRunningMs, outcomeGiveUpMs = 10 * 60_000, onStateDbFailure, outcomeCheckMs = 40_000 }: RunOutcomeOptions) {
  /**
   * Records the target session of a run before its input is sent. Refused (thrown) when the review
   * is no longer this run's: a sweep that took it for stopped decided it meanwhile. A retry finds
   * the session already recorded when the first write committed but its answer was lost.
   */
  async function record(reviewId: string, session: TargetSession): Promise<void> {
    const mine = { runTracking: session.mode, runBackendPid: session.pid, runBackendStart: session.start, runXid: session.xid ?? null };
    const { count } = await retryStateWrite(
      () =>
        db.review.updateMany({
          where: { id: reviewId, status: 'RUNNING', OR: [{ runTracking: { in: ['claimed', 'transaction'] } }, mine] },
          data: { ...mine, heartbeatAt: new Date() },
        }),
      log,
      { reviewId },
      30_000,
      onStateDbFailure,
    );
    if (count === 0) throw new Error('the request is no longer running here (it was taken for stopped and settled)');
  }

  /**
   * What the target says of a RUNNING review whose heartbeat is stale: its session is stopped first,
   * so nothing commits after this answer. Null when it is not stale, or when the target cannot be
   * asked yet and the give-up time has not passed (the next sweep asks again).
   */
  async function ofStopped(reviewId: string, now: Date): Promise<StoppedVerdict | null> {
    const row = await db.review.findUnique({ where: { id: reviewId }, include: { connection: { select: { name: true, url: true } } } });
    if (!row || row.status !== 'RUNNING') return null;
    const beat = (row.heartbeatAt ?? row.startedAt ?? row.createdAt).getTime();
    if (beat >= now.getTime() - staleRunningMs) return null;
    const tracking = row.runTracking;
    // A read that ran without review runs in a read-only transaction that is rolled back: it changed nothing.
    if (row.readOnly) return { executed: false, error: READ_STOPPED, output: null, tracking, how: 'not-sent' };
    if (tracking === 'claimed') return { executed: false, error: NOT_SENT, output: null, tracking, how: 'not-sent' };
    const session = sessionOf(row);
    if (!session) return { executed: false, error: STOPPED_DURING_EXECUTION, output: null, tracking, how: 'unknown' };
    const target = { name: row.connection.name, url: row.connection.url };
    // Bounded whatever the executor does: a target host that vanished must not hold the sweep.
    const outcome: RunOutcome = await withTimeout(executor.outcome(target, session), outcomeCheckMs, `the outcome check on ${target.name}`).catch((error: Error) => ({
      kind: 'unknown' as const,
      final: false,
      stopped: false,
      reason: `the target did not answer (${error.message})`,
    }));
    log.info({ reviewId, outcome, session }, 'asked the target how a stopped run ended');
    const stopped = 'the gateway stopped while this command ran';
    if (outcome.kind === 'committed') {
      return { executed: true, error: null, output: `(${stopped}; the target reports that transaction ${session.xid} committed, so it ran in full. Its output and row counts were lost with the gateway.)`, tracking, how: 'committed' };
    }
    if (outcome.kind === 'aborted') {
      const killed = outcome.stopped ? '; the gateway stopped its session so it could not commit later' : '';
      return { executed: false, error: `${stopped}; the target reports that transaction ${session.xid} was rolled back${killed}: nothing was committed. You may submit it again.`, output: null, tracking, how: 'aborted' };
    }
    if (!outcome.final && beat + staleRunningMs + outcomeGiveUpMs > now.getTime()) return null;
    const gaveUp = outcome.final ? outcome.reason : `the gateway gave up asking: ${outcome.reason}`;
    return { executed: false, error: `outcome unknown: ${stopped} on ${target.name}, and ${gaveUp}. ${checkOnTarget(target.name, session)}`, output: null, tracking, how: 'unknown' };
  }

  return { record, ofStopped };
}
