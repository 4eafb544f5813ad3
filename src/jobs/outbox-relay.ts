// Moves outbox rows to BullMQ whenever Redis answers: right after a commit (bounded, so a request
// never waits on Redis), on a timer, and when Redis comes back. Replicas relay side by side: a row
// is leased by one relay at a time, and a job id added twice is one job.
import type { Redis } from 'ioredis';
import type { Db, Tx } from '../db/client.js';
import { deleteOutbox, leaseOutbox, releaseOutbox, writeOutbox, type OutboxEntry, type OutboxRow } from '../db/outbox.js';
import type { Logger } from '../logger.js';
import { withTimeout } from '../with-timeout.js';
import { JOB_SCHEMAS, type JobName } from './definitions.js';
import type { JobQueue } from './queues.js';

export type { OutboxEntry };

export interface OutboxRelayOptions {
  db: Db;
  jobs: JobQueue;
  /** The connection the queues use: its state says whether Redis answers. */
  redis: Redis;
  queuePrefix: string;
  log: Logger;
  /** How long one enqueue may take before the relay gives the row back for later. */
  enqueueTimeoutMs?: number;
  batchSize?: number;
  /** How long a relay holds the rows it took; after that another relay may take them (default 30 s). */
  leaseMs?: number;
}

export interface OutboxRelay {
  /** Stores `entries` in `tx`, the transaction of the transition that causes them. */
  write(tx: Tx | Db, reviewId: string | null, entries: readonly OutboxEntry[]): Promise<void>;
  /** Relays the rows of one review, waiting at most `boundMs`; never throws. */
  relayReview(reviewId: string, boundMs: number): Promise<void>;
  /** Relays every row of this queue prefix (one pass at a time per process); never throws. */
  relayAll(): Promise<number>;
  /** Removes a queued job if Redis answers; nothing waits for it (a stale expiry job is a no-op anyway). */
  removeJob(name: JobName, jobId: string): void;
  /** True while the queue connection is up. A stopped (not closed) Redis still looks up: bound every wait. */
  redisReady(): boolean;
  /** Relays every `intervalMs` until stop(). */
  start(intervalMs: number): void;
  stop(): Promise<void>;
}


/** The relay of one process. */
export function createOutboxRelay(opts: OutboxRelayOptions): OutboxRelay {
  const { db, jobs, redis, queuePrefix, log } = opts;
  const enqueueTimeoutMs = opts.enqueueTimeoutMs ?? 2000;
  const batchSize = opts.batchSize ?? 100;
  const leaseMs = opts.leaseMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<number> | undefined;
  let again = false;
  let stopped = false;
  const ready = () => redis.status === 'ready';

  async function enqueue(row: OutboxRow): Promise<void> {
    const delayMs = row.dueAt ? Math.max(0, row.dueAt.getTime() - Date.now()) : undefined;
    await withTimeout(jobs.enqueue(row.name as JobName, row.payload as never, { jobId: row.jobId, delayMs }), enqueueTimeoutMs, `enqueueing ${row.jobId}`);
  }

  /** Leases a batch, enqueues it, deletes what was enqueued; returns how many were leased and whether all went. */
  async function relayBatch(reviewId?: string): Promise<{ leased: number; ok: boolean }> {
    if (stopped || !ready()) return { leased: 0, ok: false };
    const rows = await leaseOutbox(db, queuePrefix, { reviewId, limit: batchSize, leaseMs });
    if (rows.length === 0) return { leased: 0, ok: true };
    const done: bigint[] = [];
    const failed: bigint[] = [];
    await Promise.all(
      rows.map(async (row) => {
        if (!(row.name in JOB_SCHEMAS)) {
          // A row no version of this code can run (written by a newer one, or edited by hand): keep
          // it out of the way of the others, loudly.
          log.error({ outboxId: String(row.id), name: row.name, jobId: row.jobId }, 'outbox row names an unknown job; dropped');
          done.push(row.id);
          return;
        }
        try {
          await enqueue(row);
          done.push(row.id);
        } catch (err) {
          if ((err as Error).name === 'ZodError') {
            // Its payload fails the job's schema: no retry can enqueue it.
            log.error({ err, outboxId: String(row.id), name: row.name, jobId: row.jobId }, 'outbox row has a bad payload; dropped');
            done.push(row.id);
            return;
          }
          failed.push(row.id);
          log.warn({ err: (err as Error).message, jobId: row.jobId }, 'could not relay an outbox job; it stays for the next relay');
        }
      }),
    );
    await deleteOutbox(db, done);
    await releaseOutbox(db, failed);
    return { leased: rows.length, ok: failed.length === 0 };
  }

  async function drain(): Promise<number> {
    let moved = 0;
    do {
      again = false;
      for (;;) {
        const { leased, ok } = await relayBatch();
        if (ok) moved += leased;
        if (!ok || leased < batchSize) break;
      }
    } while (again && !stopped);
    return moved;
  }

  const relay: OutboxRelay = {
    write: (tx, reviewId, entries) => writeOutbox(tx, queuePrefix, reviewId, entries),
    async relayReview(reviewId, boundMs) {
      if (!ready()) return;
      await withTimeout(relayBatch(reviewId), boundMs, 'the outbox relay').catch((err) => {
        log.warn({ err: (err as Error).message, reviewId }, 'jobs of a transition not relayed yet; the relay retries');
      });
    },
    relayAll() {
      if (pass) {
        again = true;
        return pass;
      }
      pass = drain()
        .catch((err) => {
          log.warn({ err: (err as Error).message }, 'outbox relay pass failed; retried on the next tick');
          return 0;
        })
        .finally(() => (pass = undefined));
      return pass;
    },
    removeJob(name, jobId) {
      if (ready()) void withTimeout(jobs.remove(name, jobId), enqueueTimeoutMs).catch(() => {});
    },
    redisReady: ready,
    start(intervalMs) {
      timer = setInterval(() => void relay.relayAll(), intervalMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await pass;
    },
  };
  return relay;
}
