import type { Redis } from 'ioredis';
import { withTimeout } from '../with-timeout.js';

/** A watch on one review: changes are remembered from the moment it is made, so none is missed. */
export interface ReviewWatch {
  /** Resolves at the next change (or at once if one came since the last wait), or after timeoutMs. */
  wait(timeoutMs: number): Promise<void>;
  close(): void;
}

/**
 * Tells every gateway process that a review changed, over Redis pub/sub, so a long-poll on one
 * process wakes when another process decided. Waiters also re-read the database on a timer, so a
 * lost message only delays an answer.
 */
export interface ReviewEvents {
  /** Tells the other processes; never waits on a Redis that does not answer (the message is dropped). */
  publish(reviewId: string): Promise<void>;
  /** A watch at once, subscribed or not: without Redis a waiter only re-reads the database. */
  watch(reviewId: string): Promise<ReviewWatch>;
  /** True while change messages arrive (the subscriber is connected and subscribed). */
  live(): boolean;
  /**
   * Calls `listener` with the id of every review that changes, on any process (the web app's live
   * stream). Without Redis it hears this process's changes only. Returns the unsubscribe.
   */
  onAny(listener: (reviewId: string) => void): () => void;
  close(): Promise<void>;
}

/** Pub/sub over `publisher` and a dedicated subscriber connection duplicated from it. */
export function createReviewEvents(publisher: Redis, prefix: string): ReviewEvents {
  const channel = `${prefix}:review-changed`;
  const listeners = new Map<string, Set<() => void>>();
  const anyListeners = new Set<(reviewId: string) => void>();
  const tellAny = (reviewId: string) => {
    for (const l of anyListeners) l(reviewId);
  };
  let subscriber: Redis | undefined;
  let subscribed: Promise<unknown> | undefined;
  let isSubscribed = false;

  const ensureSubscribed = () => {
    if (!subscribed) {
      subscriber = publisher.duplicate();
      subscriber.on('message', (_channel: string, reviewId: string) => {
        for (const notify of listeners.get(reviewId) ?? []) notify();
        // This process's own changes were told at publish (below) when Redis was away.
        tellAny(reviewId);
      });
      subscriber.on('error', () => {});
      // ioredis subscribes again after a reconnect; messages sent meanwhile are lost (waiters re-read).
      subscriber.on('ready', () => (isSubscribed = true));
      subscriber.on('close', () => (isSubscribed = false));
      subscribed = subscriber.subscribe(channel).then(() => (isSubscribed = true), () => {});
    }
    return subscribed;
  };

  return {
    async publish(reviewId) {
      // Offline, the command would wait in ioredis's queue for as long as Redis is away; this
      // process's own streams still hear of it.
      if (publisher.status !== 'ready' || !isSubscribed) tellAny(reviewId);
      if (publisher.status !== 'ready') return;
      publisher.publish(channel, reviewId).catch(() => {});
    },
    live: () => isSubscribed && subscriber?.status === 'ready',
    onAny(listener) {
      void ensureSubscribed();
      anyListeners.add(listener);
      return () => void anyListeners.delete(listener);
    },
    async watch(reviewId) {
      // A change made before the subscription is seen by the waiter's first read of the database.
      await withTimeout(ensureSubscribed(), 200).catch(() => {});
      let pending = false;
      let wake: (() => void) | undefined;
      const notify = () => {
        pending = true;
        wake?.();
      };
      const set = listeners.get(reviewId) ?? new Set();
      set.add(notify);
      listeners.set(reviewId, set);
      return {
        wait(timeoutMs) {
          if (pending) {
            pending = false;
            return Promise.resolve();
          }
          return new Promise<void>((resolve) => {
            const timer = setTimeout(finish, Math.max(0, timeoutMs));
            function finish() {
              clearTimeout(timer);
              wake = undefined;
              pending = false;
              resolve();
            }
            wake = finish;
          });
        },
        close() {
          wake?.();
          set.delete(notify);
          if (set.size === 0) listeners.delete(reviewId);
        },
      };
    },
    async close() {
      for (const set of listeners.values()) for (const notify of set) notify();
      listeners.clear();
      anyListeners.clear();
      subscriber?.disconnect();
    },
  };
}
