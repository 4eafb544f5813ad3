// Repairs what lost jobs or a stopped process left behind; run at start-up and periodically.
import { stateKey, type ReviewStatus } from '../core/review-state.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import type { JobQueue } from '../jobs/queues.js';
import { withTimeout } from '../with-timeout.js';

export interface RecoveryOptions {
  db: Db;
  jobs: JobQueue;
  slackEnabled: boolean;
  staleRunningMs: number;
  clock: Clock;
  /** The set-based expiry of every review due at `now`; returns how many it expired. */
  expireDue: (now: Date) => Promise<number>;
  failStopped: (reviewId: string, now: Date) => Promise<boolean>;
}

/** Which parts of the database sweep run (both by default). */
export interface SweepParts {
  expire?: boolean;
  settle?: boolean;
}

/** Reviews per query of the sweep: 10,000 pending requests are walked 500 at a time, not loaded at once. */
const PAGE_SIZE = 500;
const PAGE = { orderBy: { id: 'asc' as const }, take: PAGE_SIZE };

/** Pages of a keyset walk by id: `fetch` gets the condition for rows after the last one seen. */
async function* pages<T extends { id: string }>(fetch: (after: { id?: { gt: string } }) => Promise<T[]>): AsyncGenerator<T[]> {
  let after: { id?: { gt: string } } = {};
  for (;;) {
    const rows = await fetch(after);
    if (rows.length > 0) yield rows;
    if (rows.length < PAGE_SIZE) return;
    after = { id: { gt: rows[rows.length - 1].id } };
  }
}

/** What the Slack reconciliation needs of a review. */
interface ReconcileRow {
  id: string;
  status: ReviewStatus;
  finishedAt: Date | null;
  groups: { status: string }[];
  slackMessages: { kind: string; state: string | null; status: string; ts: string | null; threadTs: string; claimToken: string | null; claimedAt: Date | null; searchAgain: boolean }[];
}

/** The sweep over what lost jobs or stopped processes left. */
export function createSweep({ db, jobs: queue, slackEnabled, staleRunningMs, clock, expireDue, failStopped }: RecoveryOptions) {
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
    if (parts.expire !== false) expired = await expireDue(at ?? clock.now());
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
   * re-enqueues the expiry of pending ones and the Slack post of those never posted (lost with a
   * Redis flush or an outage at submit; an existing job id makes this a no-op), re-enqueues
   * execution of approved ones, and settles RUNNING ones whose process stopped (never re-runs
   * them) unless `settle` is false.
   */
  async function sweep(options: { now?: Date; settle?: boolean } = {}): Promise<{ expired: number; failed: number; requeued: number }> {
    const now = options.now ?? new Date();
    let requeued = 0;
    const { expired, failed } = await sweepDatabase(options.now, { settle: options.settle });
    for await (const pending of pages((after) => db.review.findMany({ where: { status: 'PENDING', ...after }, ...PAGE, select: { id: true, expiresAt: true, slackMessages: { where: { kind: 'request' }, select: { id: true }, take: 1 } } }))) {
      for (const r of pending) {
        await jobs.enqueue('review.expire', { reviewId: r.id }, { jobId: `expire-${r.id}`, delayMs: Math.max(0, r.expiresAt.getTime() - now.getTime()) });
        if (slackEnabled && r.slackMessages.length === 0) await jobs.enqueue('slack.post-review', { reviewId: r.id }, { jobId: `post-${r.id}` });
      }
    }
    // A repair gets an id of its own per 10 minutes: BullMQ ignores an add whose id it still holds,
    // and a failed original execute-<id> job is kept for 7 days. The claim (APPROVED → RUNNING)
    // keeps it to one run however many jobs there are.
    const slot = Math.floor(now.getTime() / 600_000);
    const approved = await db.review.findMany({ where: { status: 'APPROVED', decidedAt: { lte: new Date(now.getTime() - 10_000) } }, select: { id: true } });
    for (const { id } of approved) {
      await jobs.enqueue('review.execute', { reviewId: id }, { jobId: `repair-execute-${id}-${slot}` });
      requeued++;
    }
    if (slackEnabled) await reconcileSlack(now);
    return { expired, failed, requeued };
  }

  /**
   * Slack, eventually right: a request message (every copy of it) that shows an older state than
   * its review gets an update, a request message without its thread reply gets one, and a message
   * whose post was left unfinished (its job failed or its process died after claiming it) is
   * finished by a repair that looks for it in Slack first, even if those jobs were lost. Repairs
   * get their own job ids (one per 10 minutes) so a failed original job does not block them.
   */
  async function reconcileSlack(now: Date): Promise<void> {
    const since = new Date(now.getTime() - 24 * 3600_000);
    for await (const page of pages((after) => db.review.findMany({
      where: { OR: [{ status: 'PENDING' }, { decidedAt: { gte: since } }], slackMessages: { some: {} }, ...after },
      ...PAGE,
      select: {
        id: true,
        status: true,
        finishedAt: true,
        groups: { select: { status: true }, orderBy: { group: 'asc' } },
        slackMessages: { select: { kind: true, state: true, status: true, ts: true, threadTs: true, claimToken: true, claimedAt: true, searchAgain: true } },
      },
    }))) await reconcilePage(page, now);
  }

  async function reconcilePage(reviews: ReconcileRow[], now: Date): Promise<void> {
    const slot = Math.floor(now.getTime() / 600_000);
    // An unfinished post whose claim was released (its attempt failed; claimedAt is then when it
    // may be tried again, after Slack's Retry-After) or not renewed for a while (its process may be
    // gone) gets a repair job; the repair waits while the claim is alive and takes it over once
    // stale, so a repair enqueued early costs a few polls, never a second post.
    const abandoned = (m: { status: string; claimToken: string | null; claimedAt: Date | null }) =>
      m.status === 'posting' &&
      (m.claimedAt === null || (m.claimToken === null ? m.claimedAt.getTime() <= now.getTime() : m.claimedAt.getTime() < now.getTime() - 5_000));
    for (const r of reviews) {
      const key = stateKey(r);
      const requests = r.slackMessages.filter((m) => m.kind === 'request');
      const posted = requests.filter((m) => m.status === 'posted');
      // searchAgain: a late copy of the message may have appeared; the update looks for it.
      if (posted.some((m) => m.state !== key || m.searchAgain)) {
        await jobs.enqueue('slack.update-review', { reviewId: r.id }, { jobId: `repair-update-${r.id}-${key}-${slot}` });
      }
      if (requests.some(abandoned)) await jobs.enqueue('slack.post-review', { reviewId: r.id }, { jobId: `repair-post-${r.id}-${slot}` });
      // A result finished moments ago is still being posted by its own job: repair only what is late.
      const late = r.finishedAt !== null && r.finishedAt.getTime() < now.getTime() - 15_000;
      const results = r.slackMessages.filter((m) => m.kind === 'result' && m.status === 'posted');
      const unanswered = posted.some((q) => !results.some((m) => m.threadTs === q.ts));
      const unfinished = r.slackMessages.some((m) => (m.kind === 'result' || m.kind === 'requester-result') && abandoned(m));
      if ((r.status === 'EXECUTED' || r.status === 'FAILED') && ((late && unanswered) || unfinished)) {
        await jobs.enqueue('slack.post-result', { reviewId: r.id }, { jobId: `repair-result-${r.id}-${slot}` });
      }
      for (const outcome of ['rejected', 'expired'] as const) {
        if (r.slackMessages.some((m) => m.kind === `requester-${outcome}` && abandoned(m))) {
          await jobs.enqueue('slack.notify-requester', { reviewId: r.id, outcome }, { jobId: `repair-notify-${r.id}-${outcome}-${slot}` });
        }
      }
    }
  }

  return { sweep, sweepDatabase };
}
