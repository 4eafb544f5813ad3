// Repairs what lost jobs or a stopped process left behind; run at start-up and periodically.
import { previewFromJson } from '../contracts/impact-preview.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import type { OutboxEntry } from '../db/outbox.js';
import { PAGE, pages } from '../db/pages.js';
import type { JobName } from '../jobs/definitions.js';
import type { JobQueue } from '../jobs/queues.js';
import type { NotifierRegistry } from '../notify/registry.js';
import { withTimeout } from '../with-timeout.js';
import { REMINDED_ACTION } from './remind-review.js';
import { remindAtOf, remindJobId } from './review-effects.js';

export interface RecoveryOptions {
  db: Db;
  jobs: JobQueue;
  /** Each configured channel repairs what lost jobs left undone on it. */
  notifiers: NotifierRegistry;
  staleRunningMs: number;
  clock: Clock;
  /** The set-based expiry of every review due at `now`; returns how many it expired. */
  expireDue: (now: Date) => Promise<number>;
  failStopped: (reviewId: string, now: Date) => Promise<boolean>;
  /** Records the end of every access window past its end (their end jobs may be lost); returns how many. */
  endAccessDue?: (now: Date) => Promise<number>;
  /** REVIEW_REMINDER_SEC (0: reminders are off, none is re-planned). */
  reviewReminderSec?: number;
}

/** Which parts of the database sweep run (both by default). */
export interface SweepParts {
  expire?: boolean;
  settle?: boolean;
}

/** The sweep over what lost jobs or stopped processes left. */
export function createSweep({ db, jobs: queue, notifiers, staleRunningMs, clock, expireDue, endAccessDue, failStopped, reviewReminderSec = 0 }: RecoveryOptions) {
  // A Redis that stops answering mid-sweep ends the sweep instead of holding it (and every later
  // one) until it is back; the commands already sent are idempotent by job id.
  const jobs: Pick<JobQueue, 'enqueue'> = {
    enqueue: (name, payload, options) => withTimeout(queue.enqueue(name, payload, options), 2000, 'Redis'),
  };
  /**
   * The part of the sweep that needs only PostgreSQL: expires overdue pending reviews and settles
   * RUNNING ones whose process stopped. Runs while Redis is away too (their jobs wait in the outbox).
   * `expire: false` or `settle: false` leaves a part out: settling asks each run's target, which may
   * be slow or gone, so the gateway runs it apart, where it cannot hold expiries back.
   */
  async function sweepDatabase(at?: Date, parts: SweepParts = {}): Promise<{ expired: number; failed: number }> {
    let expired = 0;
    let failed = 0;
    // Expiry is decided on the injected clock; heartbeats are written on the system's.
    if (parts.expire !== false) {
      expired = await expireDue(at ?? clock.now());
      await endAccessDue?.(at ?? clock.now());
    }
    const now = at ?? new Date();
    if (parts.settle !== false) {
      const stale = await db.review.findMany({
        where: { status: 'RUNNING', OR: [{ heartbeatAt: null }, { heartbeatAt: { lt: new Date(now.getTime() - staleRunningMs) } }] },
        select: { id: true },
      });
      for (const { id } of stale) if (await failStopped(id, now)) failed++;
    }
    return { expired, failed };
  }

  /**
   * Repairs what lost jobs or a stopped process left: expires overdue pending reviews,
   * re-enqueues the expiry of pending ones (an existing job id makes this a no-op), re-enqueues
   * execution of approved ones, and settles RUNNING ones whose process stopped (never re-runs
   * them) unless `settle` is false; then each channel repairs what its lost jobs left undone.
   */
  async function sweep(options: { now?: Date; settle?: boolean } = {}): Promise<{ expired: number; failed: number; requeued: number }> {
    const now = options.now ?? new Date();
    let requeued = 0;
    const { expired, failed } = await sweepDatabase(options.now, { settle: options.settle });
    const slot = Math.floor(now.getTime() / 600_000);
    for await (const pending of pages((after) => db.review.findMany({ where: { status: 'PENDING', ...after }, ...PAGE, select: { id: true, createdAt: true, expiresAt: true, preview: true, auditEvents: { where: { action: REMINDED_ACTION }, select: { id: true }, take: 1 } } }))) {
      for (const r of pending) {
        await jobs.enqueue('review.expire', { reviewId: r.id }, { jobId: `expire-${r.id}`, delayMs: Math.max(0, r.expiresAt.getTime() - now.getTime()) });
        // An impact preview still "measuring" a while after the request was made: its job was lost
        // (or failed for good); measured again (a repair id per 10 minutes; only a pending preview is stored).
        if (previewFromJson(r.preview)?.state === 'pending' && r.createdAt.getTime() < now.getTime() - 30_000) {
          await jobs.enqueue('review.preview', { reviewId: r.id }, { jobId: `repair-preview-${r.id}-${slot}` });
        }
        // A reminder whose job Redis lost (and that was not sent yet): planned again, same id.
        const remindAt = remindAtOf(r.createdAt, reviewReminderSec);
        if (remindAt && remindAt < r.expiresAt && r.auditEvents.length === 0) {
          await jobs.enqueue('review.remind', { reviewId: r.id }, { jobId: remindJobId(r.id), delayMs: Math.max(0, remindAt.getTime() - now.getTime()) });
        }
      }
    }
    // A repair gets an id of its own per 10 minutes: BullMQ ignores an add whose id it still holds,
    // and a failed original execute-<id> job is kept for 7 days. The claim (APPROVED → RUNNING)
    // keeps it to one run however many jobs there are.
    const approved = await db.review.findMany({ where: { status: 'APPROVED', decidedAt: { lte: new Date(now.getTime() - 10_000) } }, select: { id: true } });
    for (const { id } of approved) {
      await jobs.enqueue('review.execute', { reviewId: id }, { jobId: `repair-execute-${id}-${slot}` });
      requeued++;
    }
    // Each channel's repair apart: one that fails (its table, a bug) does not stop the others'.
    const enqueue = (e: OutboxEntry) => jobs.enqueue(e.name as JobName, e.payload as never, { jobId: e.jobId, delayMs: e.dueAt ? Math.max(0, e.dueAt.getTime() - now.getTime()) : undefined });
    const failures: unknown[] = [];
    for (const channel of notifiers.configured) {
      const notifier = notifiers.get(channel)!;
      try {
        await notifier.reconcile?.({ now, enqueue });
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length) throw failures[0];
    return { expired, failed, requeued };
  }

  return { sweep, sweepDatabase };
}
