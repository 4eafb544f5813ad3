// The side effects of a review's transitions. The jobs a transition causes are written to the
// outbox in the transition's own transaction (recordEffects), so a committed decision never loses
// them and a rolled-back one has none; after the commit they are relayed to BullMQ within a short
// bound, and by the relay's timer and Redis's return otherwise. Nothing here waits on Redis.
import type { Transition } from '../core/review-state.js';
import type { Db, Tx } from '../db/client.js';
import type { OutboxEntry } from '../db/outbox.js';
import type { NotifierRegistry } from '../notify/registry.js';
import type { ReviewEvents } from './review-events.js';

/**
 * What the use cases need of the outbox (jobs/outbox-relay.ts implements it): store a transition's
 * jobs in its transaction, hurry one review's jobs to the queue, drop a job that no longer matters.
 */
export interface Outbox {
  write(tx: Tx | Db, reviewId: string | null, entries: readonly OutboxEntry[]): Promise<void>;
  relayReview(reviewId: string, boundMs: number): Promise<void>;
  /** Relays every stored job (after a transaction that wrote jobs of many reviews); never throws. */
  relayAll(): Promise<number>;
  removeJob(name: 'review.expire' | 'review.remind' | 'review.end-access', jobId: string): void;
}

export interface EffectsOptions {
  outbox: Outbox;
  events: ReviewEvents;
  /** The channels configured on this gateway; each connection's plugins narrow them. */
  notifiers: NotifierRegistry;
  /** How long the request that caused a transition waits for its jobs to reach Redis. */
  relayBoundMs?: number;
}

/** Writes a transition's jobs in its transaction; `plugins` are the review's connection's. */
export type RecordEffects = (tx: Tx, reviewId: string, t: Transition, plugins: readonly string[]) => Promise<void>;
/** After the commit: wakes waiters and relays the review's jobs, within a short bound. */
export type AfterCommit = (reviewId: string, t?: Transition) => Promise<void>;

/** When a request made at `createdAt` reminds its reviewers; undefined when reminders are off. */
export function remindAtOf(createdAt: Date, reminderSec: number | undefined): Date | undefined {
  return reminderSec ? new Date(createdAt.getTime() + reminderSec * 1000) : undefined;
}

/** The id of a request's one reminder job: a second plan of it (the sweep's) is a no-op. */
export const remindJobId = (reviewId: string) => `remind-${reviewId}`;

/**
 * The jobs of a request just stored as PENDING: its expiry, its reminder (when `remindAt` is given:
 * reminders are on and it falls before the expiry), and its announcement on the connection's channels.
 */
export function jobsOfNewRequest(notifiers: NotifierRegistry, plugins: readonly string[], reviewId: string, expiresAt: Date, remindAt?: Date): OutboxEntry[] {
  const remind: OutboxEntry[] = remindAt && remindAt.getTime() < expiresAt.getTime() ? [{ name: 'review.remind', payload: { reviewId }, jobId: remindJobId(reviewId), dueAt: remindAt }] : [];
  return [
    { name: 'review.expire', payload: { reviewId }, jobId: `expire-${reviewId}`, dueAt: expiresAt },
    ...remind,
    ...notifiers.jobsOfNewRequest(plugins, { reviewId, status: 'PENDING', autoApproved: false }),
  ];
}

/** The id of an access window's one end job. */
export const endAccessJobId = (reviewId: string) => `end-access-${reviewId}`;

/** The job that records an access window's end when it comes (the sweep does it too, if this job is lost). */
export function endAccessJob(reviewId: string, endsAt: Date): OutboxEntry {
  return { name: 'review.end-access', payload: { reviewId }, jobId: endAccessJobId(reviewId), dueAt: endsAt };
}

/** recordEffects and afterCommit, shared by every use case. */
export function createEffects({ outbox, events, notifiers, relayBoundMs = 300 }: EffectsOptions): { recordEffects: RecordEffects; afterCommit: AfterCommit } {
  return {
    recordEffects: (tx, reviewId, t, plugins) => {
      // A window just granted ends on time: its end job is written with the grant.
      const end = t.next.status === 'GRANTED' && t.next.accessEndsAt ? [endAccessJob(reviewId, t.next.accessEndsAt)] : [];
      return outbox.write(tx, reviewId, [...end, ...notifiers.jobsOf(plugins, reviewId, t)]);
    },
    async afterCommit(reviewId) {
      events.publish(reviewId).catch(() => {});
      await outbox.relayReview(reviewId, relayBoundMs);
    },
  };
}
