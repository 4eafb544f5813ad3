// Moves outbox rows to BullMQ whenever Redis answers: right after a commit (bounded, so a request
// never waits on Redis), on a timer, and when Redis comes back. Replicas relay side by side: a row
// is leased by one relay at a time, and a job id added twice is one job. Right after a commit, a
// job due now that this process can run (it runs the workers) is run here at once instead of
// travelling through Redis to a worker; its row stays leased until it is done, so a process that
// dies meanwhile leaves it to the next relay, and every job is idempotent (Slack slots, the claim).
import type { Redis } from 'ioredis';
import type { Db, Tx } from '../db/client.js';
import { deleteOutbox, leaseOutbox, releaseOutbox, writeOutbox, type OutboxEntry, type OutboxRow } from '../db/outbox.js';
import type { Logger } from '../logger.js';
import { withTimeout } from '../with-timeout.js';
import { JOB_SCHEMAS, parsePayload, type JobName, type LocalOutcome, type LocalRunner } from './definitions.js';
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
  /** Jobs due now relayed right after a commit are run by `runner` when it takes them (the workers of this process). */
  runLocally(runner: LocalRunner | undefined): void;
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

  const delayOf = (row: OutboxRow) => (row.dueAt ? Math.max(0, row.dueAt.getTime() - Date.now()) : undefined);
  let localRunner: LocalRunner | undefined;
  // Local runs whose rows are not yet deleted (or handed to the queue): stop() waits for them.
  const localRuns = new Set<Promise<void>>();

  async function enqueue(row: OutboxRow, delayMs = delayOf(row)): Promise<void> {
    await withTimeout(jobs.enqueue(row.name as JobName, row.payload as never, { jobId: row.jobId, delayMs }), enqueueTimeoutMs, `enqueueing ${row.jobId}`);
  }

  /** Enqueues `rows` (one round trip per queue when the queue can add in bulk); returns the ids that went and those that did not. */
  async function enqueueAll(rows: OutboxRow[]): Promise<{ done: bigint[]; failed: bigint[] }> {
    if (rows.length === 0) return { done: [], failed: [] };
    if (jobs.enqueueMany) {
      try {
        const many = rows.map((row) => ({ name: row.name as JobName, payload: row.payload, options: { jobId: row.jobId, delayMs: delayOf(row) } }));
        await withTimeout(jobs.enqueueMany(many), enqueueTimeoutMs, `enqueueing ${rows.length} jobs`);
        return { done: rows.map((r) => r.id), failed: [] };
      } catch (err) {
        log.warn({ err: (err as Error).message, jobs: rows.length }, 'could not relay outbox jobs; they stay for the next relay');
        return { done: [], failed: rows.map((r) => r.id) };
      }
    }
    const done: bigint[] = [];
    const failed: bigint[] = [];
    await Promise.all(
      rows.map(async (row) => {
        try {
          await enqueue(row);
          done.push(row.id);
        } catch (err) {
          failed.push(row.id);
          log.warn({ err: (err as Error).message, jobId: row.jobId }, 'could not relay an outbox job; it stays for the next relay');
        }
      }),
    );
    return { done, failed };
  }

  // Rows done by local runs are deleted together: under load one DELETE serves many requests (a
  // row whose delete fails stays leased and is relayed again later, which every job tolerates).
  let toDelete: bigint[] = [];
  let deleting: Promise<void> | undefined;
  function deleteSoon(id: bigint): Promise<void> {
    toDelete.push(id);
    deleting ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const ids = toDelete;
      toDelete = [];
      deleting = undefined;
      return deleteOutbox(db, ids);
    });
    return deleting;
  }

  /** A job run here: its row is deleted once it is done, or once BullMQ has its retry; given back if neither. */
  function settleLocal(row: OutboxRow, run: Promise<LocalOutcome>): void {
    const settled = run
      .then(async (outcome) => {
        if (!outcome.done) await enqueue(row, outcome.delayMs);
        await deleteSoon(row.id);
      })
      .catch(async (err) => {
        log.warn({ err: (err as Error).message, jobId: row.jobId }, 'a job run in-process could not be settled; the relay retries it');
        await releaseOutbox(db, [row.id]).catch(() => {});
      })
      .finally(() => localRuns.delete(settled));
    localRuns.add(settled);
  }

  /**
   * Leases a batch, runs here what may run here (`local`), enqueues the rest, deletes what was
   * enqueued; returns how many were leased and whether all that was to be enqueued went.
   */
  async function relayBatch(reviewId?: string, local = false): Promise<{ leased: number; ok: boolean }> {
    if (stopped || !ready()) return { leased: 0, ok: false };
    const rows = await leaseOutbox(db, queuePrefix, { reviewId, limit: batchSize, leaseMs });
    if (rows.length === 0) return { leased: 0, ok: true };
    const dropped: bigint[] = [];
    const toQueue: OutboxRow[] = [];
    for (const row of rows) {
      if (!(row.name in JOB_SCHEMAS)) {
        // A row no version of this code can run (written by a newer one, or edited by hand): keep
        // it out of the way of the others, loudly.
        log.error({ outboxId: String(row.id), name: row.name, jobId: row.jobId }, 'outbox row names an unknown job; dropped');
        dropped.push(row.id);
        continue;
      }
      try {
        parsePayload(row.name as JobName, row.payload);
      } catch (err) {
        // Its payload fails the job's schema: no retry can enqueue it.
        log.error({ err, outboxId: String(row.id), name: row.name, jobId: row.jobId }, 'outbox row has a bad payload; dropped');
        dropped.push(row.id);
        continue;
      }
      const run = local && !row.dueAt && localRunner ? localRunner(row.name as JobName, row.payload) : null;
      if (run) settleLocal(row, run);
      else toQueue.push(row);
    }
    const { done, failed } = await enqueueAll(toQueue);
    await deleteOutbox(db, [...dropped, ...done]);
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
      await withTimeout(relayBatch(reviewId, true), boundMs, 'the outbox relay').catch((err) => {
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
    runLocally(runner) {
      localRunner = runner;
    },
    start(intervalMs) {
      timer = setInterval(() => void relay.relayAll(), intervalMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await pass;
      await Promise.allSettled([...localRuns]);
    },
  };
  return relay;
}
