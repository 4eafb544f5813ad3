import type { Redis } from 'ioredis';

/**
 * Remembers ids for a while in Redis, so every replica agrees: resolves true the first time an id
 * is offered within `ttlSec`, false after (SET NX with an expiry, one round trip, atomic).
 */
export function createSeenOnce(redis: Redis, namespace: string): (id: string, ttlSec: number) => Promise<boolean> {
  return async (id, ttlSec) => (await redis.set(`${namespace}:${id}`, '1', 'EX', Math.max(1, Math.ceil(ttlSec)), 'NX')) === 'OK';
}

/** A short claim on some work, shared by every replica: `take` is true for one taker at a time. */
export interface Claims {
  take(id: string, ttlSec: number): Promise<boolean>;
  /** Gives the claim back (its work failed, so another may try at once). */
  release(id: string): Promise<void>;
}

/** Claims in Redis under `namespace`; a claim whose holder died lapses after its ttl. */
export function createClaims(redis: Redis, namespace: string): Claims {
  const take = createSeenOnce(redis, namespace);
  return {
    take,
    async release(id) {
      await redis.del(`${namespace}:${id}`);
    },
  };
}
