import type { Redis } from 'ioredis';

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
  publish(reviewId: string): Promise<void>;
  watch(reviewId: string): Promise<ReviewWatch>;
  close(): Promise<void>;
}

/** Pub/sub over `publisher` and a dedicated subscriber connection duplicated from it. */
export function createReviewEvents(publisher: Redis, prefix: string): ReviewEvents {
  const channel = `${prefix}:review-changed`;
  const listeners = new Map<string, Set<() => void>>();
  let subscriber: Redis | undefined;
  let subscribed: Promise<unknown> | undefined;

  const ensureSubscribed = () => {
    if (!subscribed) {
      subscriber = publisher.duplicate();
      subscriber.on('message', (_channel: string, reviewId: string) => {
        for (const notify of listeners.get(reviewId) ?? []) notify();
      });
      subscriber.on('error', () => {});
      subscribed = subscriber.subscribe(channel);
    }
    return subscribed;
  };

  return {
    async publish(reviewId) {
      await publisher.publish(channel, reviewId);
    },
    async watch(reviewId) {
      await ensureSubscribed();
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
      subscriber?.disconnect();
    },
  };
}
