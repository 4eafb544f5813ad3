// Expiry of every pending request that is due, set-based: a batch of due reviews is locked
// (SKIP LOCKED), the core decides each one's expiry, and one transaction writes their new status,
// their audit events and their jobs. A burst of 10,000 requests due in the same second is a few
// such transactions instead of 10,000 (bench/expiry-burst.ts). It runs as soon as the first expiry
// job of the burst fires, and in the database sweep every 5 s (whatever Redis does).
import { observeDecision } from '../metrics.js';
import { expire, type Transition } from '../core/review-state.js';
import type { Clock } from '../core/ports.js';
import { recordAuditMany, SYSTEM_ACTOR } from '../db/audit.js';
import type { Db } from '../db/client.js';
import { lockDueReviews, markExpired } from '../db/due-reviews.js';
import type { OutboxEntry } from '../db/outbox.js';
import type { Logger } from '../logger.js';
import type { NotifierRegistry } from '../notify/registry.js';
import type { Outbox } from './review-effects.js';
import type { ReviewEvents } from './review-events.js';

export interface ExpireDueOptions {
  db: Db;
  outbox: Pick<Outbox, 'write' | 'relayAll'>;
  events: ReviewEvents;
  clock: Clock;
  log: Logger;
  notifiers: NotifierRegistry;
  /** Reviews locked and written per transaction (default 1,000). */
  batchSize?: number;
  /** Transactions at once (each on its own pooled connection; SKIP LOCKED keeps their batches apart; default 3). */
  parallel?: number;
}

export interface ExpireDue {
  /** Expires every review due at `now` (default: the clock's now); returns how many this call expired. */
  run(now?: Date): Promise<number>;
  /**
   * Makes sure a pass that starts at or after this call has finished: joins the pass that starts
   * next (one for every caller meanwhile), so 10,000 expiry jobs firing together cost two passes.
   */
  passAfterNow(): Promise<void>;
}

/** The set-based expiry of due reviews. */
export function createExpireDue(opts: ExpireDueOptions): ExpireDue {
  const { db, outbox, events, clock, log, notifiers } = opts;
  const batchSize = opts.batchSize ?? 1000;
  const parallel = opts.parallel ?? 3;

  /** One transaction: lock a batch, let the core decide, write status, audit and jobs together. */
  async function batch(now: Date): Promise<{ id: string; createdAt: Date }[]> {
    return db.$transaction(async (tx) => {
      const due = await lockDueReviews(tx, now, batchSize);
      const decided = due.map((r) => ({ id: r.id, createdAt: r.createdAt, plugins: r.plugins, expiresAt: r.state.expiresAt, t: expire(r.state, now) })).filter((d): d is { id: string; createdAt: Date; plugins: string[]; expiresAt: Date; t: Transition } => d.t !== null);
      if (decided.length === 0) return [];
      const ids = decided.map((d) => d.id);
      await markExpired(tx, ids, now);
      await recordAuditMany(tx, SYSTEM_ACTOR, decided.map((d) => ({ action: d.t.action, reviewId: d.id, detail: { expiresAt: d.expiresAt.toISOString() } })));
      const entries: OutboxEntry[] = decided.flatMap((d) => notifiers.jobsOf(d.plugins, d.id, d.t).map((e) => ({ ...e, reviewId: d.id })));
      await outbox.write(tx, null, entries);
      return decided.map((d) => ({ id: d.id, createdAt: d.createdAt }));
      // Prisma's default of 5 s is short for 1,000 reviews on a loaded machine; one that times out
      // rolls back whole, and the expiry jobs and the next pass try again.
    }, { timeout: 30_000 });
  }

  async function run(now = clock.now()): Promise<number> {
    const expired: string[] = [];
    const started = Date.now();
    const lane = async () => {
      for (;;) {
        const done = await batch(now);
        if (done.length === 0) return;
        expired.push(...done.map((d) => d.id));
        for (const d of done) observeDecision('expired', d.createdAt, now);
        if (done.length < batchSize) return;
      }
    };
    const lanes = await Promise.allSettled(Array.from({ length: parallel }, lane));
    // After the commits: wake long-polls, and move the jobs to the queue now rather than at the
    // relay's next tick. Not between batches: both compete with the remaining batches for the same
    // CPU and database (a waiter re-reads the database every 2 s anyway).
    if (expired.length > 0) {
      void outbox.relayAll();
      for (const id of expired) events.publish(id).catch(() => {});
      log.info({ expired: expired.length, ms: Date.now() - started }, 'due requests expired');
    }
    const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    if (failed) throw failed.reason;
    return expired.length;
  }

  let current: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  function passAfterNow(): Promise<void> {
    if (!current) {
      current = run().then(
        () => {},
        (err) => log.warn({ err }, 'expiry pass failed; the expiry jobs and the sweep try again'),
      ).finally(() => (current = undefined));
      return current;
    }
    // The pass running may have begun before this caller's review was due: one more after it.
    next ??= current.then(() => {
      next = undefined;
      return passAfterNow();
    });
    return next;
  }

  return { run, passAfterNow };
}
