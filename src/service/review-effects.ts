// The side effects of a review's transitions. The jobs a transition causes are written to the
// outbox in the transition's own transaction (recordEffects), so a committed decision never loses
// them and a rolled-back one has none; after the commit they are relayed to BullMQ within a short
// bound, and by the relay's timer and Redis's return otherwise. Nothing here waits on Redis.
import { stateKey, type Transition } from '../core/review-state.js';
import type { Db, Tx } from '../db/client.js';
import type { OutboxEntry } from '../db/outbox.js';
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
  removeJob(name: 'review.expire', jobId: string): void;
}

export interface EffectsOptions {
  outbox: Outbox;
  events: ReviewEvents;
  slackEnabled: boolean;
  /** How long the request that caused a transition waits for its jobs to reach Redis. */
  relayBoundMs?: number;
}

/** Writes a transition's jobs in its transaction. */
export type RecordEffects = (tx: Tx, reviewId: string, t: Transition) => Promise<void>;
/** After the commit: wakes waiters and relays the review's jobs, within a short bound. */
export type AfterCommit = (reviewId: string, t?: Transition) => Promise<void>;

/** The jobs of a transition (one update job per state reached: the same state twice is one job). */
export function jobsOf(reviewId: string, t: Transition, slackEnabled: boolean): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  const state = stateKey(t.next);
  for (const effect of t.effects) {
    if (effect.type === 'execute') {
      out.push({ name: 'review.execute', payload: { reviewId }, jobId: `execute-${reviewId}` });
    } else if (effect.type === 'update-messages' && slackEnabled) {
      out.push({ name: 'slack.update-review', payload: { reviewId }, jobId: `update-${reviewId}-${state}` });
    } else if (effect.type === 'notify-requester' && effect.outcome !== 'approved' && slackEnabled) {
      out.push({ name: 'slack.notify-requester', payload: { reviewId, outcome: effect.outcome }, jobId: `notify-${reviewId}-${effect.outcome}` });
    }
  }
  // A finished run's result goes to the thread of the request.
  if (slackEnabled && (t.next.status === 'EXECUTED' || t.next.status === 'FAILED')) {
    out.push({ name: 'slack.post-result', payload: { reviewId }, jobId: `result-${reviewId}` });
  }
  return out;
}

/** The jobs of a request just stored as PENDING: its expiry, and its announcement. */
export function jobsOfNewRequest(reviewId: string, expiresAt: Date, announce: boolean): OutboxEntry[] {
  return [
    { name: 'review.expire', payload: { reviewId }, jobId: `expire-${reviewId}`, dueAt: expiresAt },
    ...(announce ? [{ name: 'slack.post-review', payload: { reviewId }, jobId: `post-${reviewId}` }] : []),
  ];
}

/** recordEffects and afterCommit, shared by every use case. */
export function createEffects({ outbox, events, slackEnabled, relayBoundMs = 300 }: EffectsOptions): { recordEffects: RecordEffects; afterCommit: AfterCommit } {
  return {
    recordEffects: (tx, reviewId, t) => outbox.write(tx, reviewId, jobsOf(reviewId, t, slackEnabled)),
    async afterCommit(reviewId) {
      events.publish(reviewId).catch(() => {});
      await outbox.relayReview(reviewId, relayBoundMs);
    },
  };
}
