// The in-flight slots of webhook endpoints in Redis, so that every gateway process counts the same
// attempts: one sorted set per endpoint, a member per attempt scored with the end of its lease. A
// process that stops mid-attempt does not keep its slot: the lease (the send's own bound and a
// margin) lapses and the next acquire drops it. Time is Redis's own (TIME), not each process's.
import type { Redis } from 'ioredis';
import type { EndpointSlots } from '../notify/webhooks/endpoint-slots.js';

// KEYS[1] the endpoint's set; ARGV: the most at once, the holder, the lease in ms.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1`;

/** Endpoint slots in Redis under `<prefix>:webhook-slots:<endpointId>`, at most `max` per endpoint. */
export function createRedisEndpointSlots(redis: Redis, prefix: string, max: number): EndpointSlots {
  const key = (endpointId: string) => `${prefix}:webhook-slots:${endpointId}`;
  return {
    max,
    async acquire(endpointId, holder, leaseMs) {
      return (await redis.eval(ACQUIRE, 1, key(endpointId), max, holder, Math.ceil(leaseMs))) === 1;
    },
    async release(endpointId, holder) {
      await redis.zrem(key(endpointId), holder);
    },
  };
}
