// Repairs what lost jobs or a stopped process left behind; run at start-up and periodically.
import type { Db } from '../db/client.js';
import type { JobQueue } from '../jobs/queues.js';

export interface RecoveryOptions {
  db: Db;
  jobs: JobQueue;
  slackEnabled: boolean;
  staleRunningMs: number;
  expireReview: (reviewId: string, now?: Date) => Promise<boolean>;
  failStopped: (reviewId: string, now: Date) => Promise<boolean>;
}

/** The sweep over what lost jobs or stopped processes left. */
export function createSweep({ db, jobs, slackEnabled, staleRunningMs, expireReview, failStopped }: RecoveryOptions) {
  /**
   * Repairs what lost jobs or a stopped process left: expires overdue pending reviews,
   * re-enqueues the expiry of pending ones and the Slack post of those never posted (lost with a
   * Redis flush or an outage at submit; an existing job id makes this a no-op), re-enqueues
   * execution of approved ones, and fails RUNNING ones whose process stopped (never re-runs them).
   */
  async function sweep(options: { now?: Date } = {}): Promise<{ expired: number; failed: number; requeued: number }> {
    const now = options.now ?? new Date();
    let expired = 0;
    let failed = 0;
    let requeued = 0;
    const overdue = await db.review.findMany({ where: { status: 'PENDING', expiresAt: { lte: now } }, select: { id: true } });
    for (const { id } of overdue) if (await expireReview(id, now)) expired++;
    const pending = await db.review.findMany({ where: { status: 'PENDING' }, select: { id: true, expiresAt: true, slackMessages: { where: { kind: 'request' }, select: { id: true }, take: 1 } } });
    for (const r of pending) {
      await jobs.enqueue('review.expire', { reviewId: r.id }, { jobId: `expire-${r.id}`, delayMs: Math.max(0, r.expiresAt.getTime() - now.getTime()) });
      if (slackEnabled && r.slackMessages.length === 0) await jobs.enqueue('slack.post-review', { reviewId: r.id }, { jobId: `post-${r.id}` });
    }
    const approved = await db.review.findMany({ where: { status: 'APPROVED', decidedAt: { lte: new Date(now.getTime() - 10_000) } }, select: { id: true } });
    for (const { id } of approved) {
      await jobs.enqueue('review.execute', { reviewId: id }, { jobId: `execute-${id}` });
      requeued++;
    }
    const stale = await db.review.findMany({
      where: { status: 'RUNNING', OR: [{ heartbeatAt: null }, { heartbeatAt: { lt: new Date(now.getTime() - staleRunningMs) } }] },
      select: { id: true },
    });
    for (const { id } of stale) if (await failStopped(id, now)) failed++;
    return { expired, failed, requeued };
  }

  return sweep;
}
