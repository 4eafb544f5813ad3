import type { Redis } from 'ioredis';

/**
 * Remembers ids for a while in Redis, so every replica agrees: resolves true the first time an id
 * is offered within `ttlSec`, false after (SET NX with an expiry, one round trip, atomic).
 */
export function createSeenOnce(redis: Redis, namespace: string): (id: string, ttlSec: number) => Promise<boolean> {
  return async (id, ttlSec) => (await redis.set(`${namespace}:${id}`, '1', 'EX', Math.max(1, Math.ceil(ttlSec)), 'NX')) === 'OK';
}
