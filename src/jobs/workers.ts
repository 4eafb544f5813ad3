import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { isDatabaseBusy } from '../db/database-busy.js';
import type { Logger } from '../logger.js';
import { countDeliveryFailure } from '../metrics.js';
import type { ReviewService } from '../service/review-service.js';
import { PermanentFailure, RetryLater } from '../notify/channel.js';
import type { NotifierRegistry } from '../notify/registry.js';
import { JOB_SCHEMAS, parsePayload, QUEUE_OF, type JobName, type LocalOutcome, type QueueKind } from './definitions.js';
import { queueNames } from './queues.js';

export interface WorkersOptions {
  connection: Redis;
  prefix: string;
  reviews: ReviewService;
  /** The channels configured on this gateway: one worker per channel queue. */
  notifiers: NotifierRegistry;
  log: Logger;
  /** Jobs at once per queue (reviews 20, each channel 10). */
  concurrency?: Partial<Record<QueueKind, number>>;
}

export interface Workers {
  /** Takes no new job from now on; the jobs in progress go on. */
  stopTaking(): void;
  /** Resolves once no job of this process is in progress (whatever Redis does). */
  idle(): Promise<void>;
  /**
   * Closes the workers and their connections. Without `force` it waits for the jobs in progress
   * and their completion in Redis; `force` (Redis away, or jobs handed over) waits for neither.
   */
  close(options?: { force?: boolean }): Promise<void>;
  /**
   * Runs an immediate job in this process at once, as its worker would, skipping the trip through
   * Redis (the outbox relay calls it right after a commit). Null when it is not taken here: the
   * workers stop, the local slots are full, or this process has no handler for it. Resolves with
   * 'done', or with when BullMQ should try it again (its attempts and backoff take over from there).
   */
  tryRun(name: JobName, data: unknown): Promise<LocalOutcome> | null;
}

/** Jobs run in-process at once per queue, at most (beyond that they go through BullMQ). */
const LOCAL_LIMIT = (kind: QueueKind) => (kind === 'reviews' ? 20 : 32);

/** How soon a job that found the state database unavailable is tried again. */
const DATABASE_RETRY_MS = 2000;

function checked(job: Job): { name: JobName; data: unknown } {
  if (!(job.name in JOB_SCHEMAS)) throw new UnrecoverableError(`unknown job ${job.name}`);
  const name = job.name as JobName;
  try {
    return { name, data: parsePayload(name, job.data) };
  } catch (error) {
    throw new UnrecoverableError(`bad payload for ${name}: ${(error as Error).message}`);
  }
}

/** Starts the BullMQ workers of this process; any number of processes may run them. */
export function startWorkers(opts: WorkersOptions): Workers {
  const names = queueNames(opts.prefix);
  const log = opts.log;
  const workers: Worker[] = [];
  const connections: Redis[] = [];
  // After a connection error BullMQ waits runRetryDelay (15 s by default) before it fetches jobs
  // again: Redis back after an outage would sit idle that long. One second keeps the catch-up
  // within seconds of Redis's return (the README promises 5 s for a lost expiry).
  const runRetryDelay = 1000;
  // The jobs in progress in this process, counted here: BullMQ's own wait for them (close())
  // needs Redis to answer, which a stop while Redis is away cannot count on.
  let inProgress = 0;
  const idleWaiters: Array<() => void> = [];
  const tracked =
    <A extends unknown[]>(processor: (...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      inProgress++;
      try {
        await processor(...args);
      } finally {
        inProgress--;
        if (inProgress === 0) for (const w of idleWaiters.splice(0)) w();
      }
    };
  const connection = () => {
    const c = opts.connection.duplicate({ maxRetriesPerRequest: null });
    connections.push(c);
    return c;
  };

  async function runReviewJob(name: JobName, data: unknown): Promise<void> {
    if (name === 'review.expire') {
      const { reviewId } = parsePayload('review.expire', data);
      await opts.reviews.expireJob(reviewId);
    } else if (name === 'review.remind') {
      const { reviewId } = parsePayload('review.remind', data);
      await opts.reviews.remindJob(reviewId);
    } else if (name === 'review.end-access') {
      const { reviewId } = parsePayload('review.end-access', data);
      await opts.reviews.endAccessJob(reviewId);
    } else if (name === 'review.preview') {
      const { reviewId } = parsePayload('review.preview', data);
      await opts.reviews.previewJob(reviewId);
    } else if (name === 'review.execute') {
      const { reviewId } = parsePayload('review.execute', data);
      await opts.reviews.executeReview(reviewId);
    } else {
      throw new UnrecoverableError(`${name} does not belong on the reviews queue`);
    }
  }

  /** A channel's job, run by its notifier. */
  async function runChannelJob(name: JobName, data: unknown): Promise<void> {
    const notifier = opts.notifiers.get(QUEUE_OF[name]);
    if (!notifier) throw new UnrecoverableError(`${name}: the ${QUEUE_OF[name]} channel is not configured on this gateway`);
    await notifier.run(name, data as Record<string, unknown>);
  }
  const runJob = (name: JobName, data: unknown) => (QUEUE_OF[name] === 'reviews' ? runReviewJob(name, data) : runChannelJob(name, data));

  workers.push(
    new Worker(
      names.reviews,
      tracked(async (job: Job, token?: string) => {
        const { name } = checked(job);
        try {
          await runReviewJob(name, job.data);
        } catch (error) {
          // The state database is unreachable or busy: nothing was decided (a run is claimed in
          // PostgreSQL first, so a second attempt never runs a command twice). Try again shortly
          // without spending an attempt: an outage longer than the attempts' backoff (about 15 s)
          // must not leave the job failed and its review APPROVED until the sweep's repair.
          if (isDatabaseBusy(error)) {
            log.warn({ job: job.name, jobId: job.id, err: (error as Error).message }, 'state database unavailable; job delayed');
            await job.moveToDelayed(Date.now() + DATABASE_RETRY_MS, token);
            throw new DelayedError();
          }
          throw error;
        }
      }),
      { connection: connection(), concurrency: opts.concurrency?.reviews ?? 20, runRetryDelay },
    ),
  );

  for (const channel of opts.notifiers.configured) {
    workers.push(
      new Worker(
        names[channel],
        tracked(async (job: Job, token?: string) => {
          const { name, data } = checked(job);
          try {
            if (QUEUE_OF[name] !== channel) throw new UnrecoverableError(`${name} does not belong on the ${channel} queue`);
            await runChannelJob(name, data);
          } catch (error) {
            if (error instanceof RetryLater) {
              // The channel's Retry-After, or another job holding the post: back later, without spending an attempt.
              await job.moveToDelayed(Date.now() + error.retryAfterSec * 1000, token);
              throw new DelayedError();
            }
            if (isDatabaseBusy(error)) {
              log.warn({ job: job.name, jobId: job.id, err: (error as Error).message }, 'state database unavailable; job delayed');
              await job.moveToDelayed(Date.now() + DATABASE_RETRY_MS, token);
              throw new DelayedError();
            }
            countDeliveryFailure(channel);
            if (error instanceof PermanentFailure) throw new UnrecoverableError(error.message);
            throw error;
          }
        }),
        // A slow webhook receiver holds its delivery up to 15 s: more at once, so it delays no other endpoint.
        { connection: connection(), concurrency: opts.concurrency?.[channel] ?? (channel === 'webhooks' ? 50 : 10), runRetryDelay },
      ),
    );
  }

  for (const w of workers) {
    w.on('failed', (job, err) => log.warn({ job: job?.name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed'));
    w.on('error', (err) => log.error({ err }, 'worker error'));
  }

  // BullMQ's close() stops fetching at once, then waits for the jobs in progress (and for Redis).
  let closing: Promise<unknown> | undefined;
  const closeWorkers = (force: boolean) => (closing ??= Promise.all(workers.map((w) => w.close(force))).catch(() => {}));

  // What a worker does with a failed job, for a job run in-process: BullMQ retries it from here.
  const BACKOFF_MS = (kind: QueueKind) => (kind === 'reviews' ? 1000 : 2000);
  const localRunning = new Map<QueueKind, number>();
  const runLocal = tracked(async (name: JobName, data: unknown, out: { outcome?: LocalOutcome }) => {
    const kind = QUEUE_OF[name];
    try {
      await runJob(name, data);
      out.outcome = { done: true };
    } catch (error) {
      // Counted as the queue's worker counts them: every failure but a wait the channel asked for.
      if (kind !== 'reviews' && !(error instanceof RetryLater) && !isDatabaseBusy(error)) countDeliveryFailure(kind);
      if (error instanceof RetryLater) out.outcome = { done: false, delayMs: error.retryAfterSec * 1000 };
      else if (isDatabaseBusy(error)) out.outcome = { done: false, delayMs: DATABASE_RETRY_MS };
      else if (error instanceof PermanentFailure || error instanceof UnrecoverableError) {
        log.warn({ job: name, data, err: (error as Error).message }, 'job failed');
        out.outcome = { done: true };
      } else {
        log.warn({ job: name, data, err: (error as Error).message }, 'job run in-process failed; handed to the queue');
        out.outcome = { done: false, delayMs: BACKOFF_MS(kind) };
      }
    }
  });

  return {
    tryRun(name, data) {
      const kind = QUEUE_OF[name];
      const running = localRunning.get(kind) ?? 0;
      if (closing || name === 'review.expire' || name === 'review.end-access' || (kind !== 'reviews' && !opts.notifiers.get(kind)) || running >= LOCAL_LIMIT(kind)) return null;
      let parsed: unknown;
      try {
        parsed = parsePayload(name, data);
      } catch {
        return null;
      }
      localRunning.set(kind, running + 1);
      const out: { outcome?: LocalOutcome } = {};
      return runLocal(name, parsed, out)
        .then(() => out.outcome ?? { done: false, delayMs: BACKOFF_MS(kind) })
        .finally(() => localRunning.set(kind, (localRunning.get(kind) ?? 1) - 1));
    },
    stopTaking() {
      void closeWorkers(false);
    },
    idle() {
      return inProgress === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve));
    },
    async close({ force = false } = {}) {
      // Forced: cut the connections first, so nothing in BullMQ's close waits on an absent Redis.
      if (force) {
        // Cut every connection (ours and the blocking ones BullMQ made), so nothing waits on an
        // absent Redis; BullMQ's close then has nothing left to do but is not waited for long.
        for (const c of connections) c.disconnect();
        for (const w of workers) void w.disconnect().catch(() => {});
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1000);
          void closeWorkers(true).then(() => (clearTimeout(timer), resolve()));
        });
        return;
      }
      await closeWorkers(false);
      await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
