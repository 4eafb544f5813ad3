// Request limits of the HTTP API, kept in Redis under the queue prefix so every replica counts
// against the same numbers: submits per API key, failed authentications per client IP (and per IP
// and presented key prefix), and long-polls open at once per API key.
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { LimitsConfig } from '../config.js';
import { AppError, ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { keyPrefix } from '../service/user-fields.js';

// A fixed window: the first hit starts it, so the counter and its expiry are set together.
const HIT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

const PEEK = `
local out = {}
for _, k in ipairs(KEYS) do
  out[#out + 1] = tonumber(redis.call('GET', k) or '0')
  out[#out + 1] = redis.call('PTTL', k)
end
return out`;

// A lease per open long-poll, scored by when it lapses: a replica that dies holding leases frees
// them by their deadline, not never. Redis's clock is used so replicas' clocks need not agree.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[1]) then return {0, held} end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return {1, held + 1}`;

export interface RequestLimits {
  /** Counts a request (not a read run at once) by user `userId`; RateLimited (429) beyond the window's share. */
  hitSubmit(userId: string): Promise<void>;
  /** Counts a command of any kind by user `userId`; RateLimited (429) beyond the window's share. */
  hitCommand(userId: string): Promise<void>;
  /** RateLimited while `ip` (or `ip` with this key prefix) has failed authentication too often. */
  checkAuthBlocked(ip: string, token: string | undefined): Promise<void>;
  /** Counts a failed authentication of `ip` and of `ip` with the presented key's prefix. */
  recordAuthFailure(ip: string, token: string | undefined): Promise<void>;
  /** Takes one of user `userId`'s long-poll slots for at most `ttlMs`; returns its release. */
  acquireLongPoll(userId: string, ttlMs: number): Promise<() => Promise<void>>;
  readonly config: LimitsConfig;
}

// API keys are `hoop_` + random; the first 9 characters are the prefix the database stores too.
// One client retrying a wrong key is then blocked before it uses up its IP's budget, so the
// colleagues behind the same NAT keep working; a client spraying keys meets the per-IP limit.
function prefixId(token: string | undefined): string {
  return token ? createHash('sha256').update(`hoop-prefix:${keyPrefix(token)}`).digest('hex').slice(0, 16) : 'none';
}

/** How long the limits are skipped after Redis failed to answer one. */
const SKIP_AFTER_FAILURE_MS = 5000;

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Limits over a Redis connection. A Redis that does not answer lets requests through (logged):
 * the limits protect capacity, and refusing every request would turn a Redis outage into an API
 * outage. After a failure the limits are skipped for a few seconds, so a Redis that hangs (rather
 * than refuses) costs one request a command timeout, not every request.
 */
export function createRequestLimits(redis: Redis, prefix: string, config: LimitsConfig, log: Logger): RequestLimits {
  const windowMs = config.windowSec * 1000;
  const key = (...parts: string[]) => [prefix, 'limit', ...parts].join(':');
  let lastWarning = 0;
  let skipUntil = 0;
  const skipping = () => Date.now() < skipUntil;
  const failOpen = (what: string, err: unknown) => {
    skipUntil = Date.now() + SKIP_AFTER_FAILURE_MS;
    if (Date.now() - lastWarning > 10_000) {
      lastWarning = Date.now();
      log.warn({ err: (err as Error).message, limit: what }, 'request limits unavailable (Redis); letting requests through');
    }
  };
  const limited = (message: string, retryMs: number) =>
    new AppError(ErrorCode.RateLimited, message, { retryAfterSec: seconds(retryMs) });

  /** Counts one hit of `userId` on the counter `what`; RateLimited beyond `max` per window (0: off). */
  async function hitPerUser(what: string, userId: string, max: number, message: (ttlMs: number) => string): Promise<void> {
    if (max <= 0 || skipping()) return;
    let n: number, ttl: number;
    try {
      [n, ttl] = (await redis.eval(HIT, 1, key(what, userId), windowMs)) as [number, number];
    } catch (err) {
      return failOpen(what, err);
    }
    if (n > max) throw limited(message(ttl), ttl);
  }

  return {
    config,
    hitSubmit: (userId) =>
      hitPerUser('submit', userId, config.submitsPerUser, (ttl) => `Too many requests from your account: at most ${config.submitsPerUser} per ${config.windowSec} s are accepted (reads that run at once are not counted here), whichever of your API keys sends them. Try again in ${seconds(ttl)} s.`),
    hitCommand: (userId) =>
      hitPerUser('command', userId, config.commandsPerUser, (ttl) => `Too many commands from your account: at most ${config.commandsPerUser} per ${config.windowSec} s are accepted (reads included), whichever of your API keys sends them. Try again in ${seconds(ttl)} s.`),
    async checkAuthBlocked(ip, token) {
      if ((config.authFailuresPerIp <= 0 && config.authFailuresPerKey <= 0) || skipping()) return;
      let r: number[];
      try {
        r = (await redis.eval(PEEK, 2, key('auth-ip', ip), key('auth-key', ip, prefixId(token)))) as number[];
      } catch (err) {
        return failOpen('auth', err);
      }
      const [ipCount, ipTtl, keyCount, keyTtl] = r;
      if (config.authFailuresPerKey > 0 && keyCount >= config.authFailuresPerKey) {
        throw limited(`Too many failed authentications with this API key from ${ip}: wait ${seconds(keyTtl)} s, and check the key (hoop login, or ask an admin for a new one).`, keyTtl);
      }
      if (config.authFailuresPerIp > 0 && ipCount >= config.authFailuresPerIp) {
        throw limited(`Too many failed authentications from ${ip}: every request from it is refused for ${seconds(ipTtl)} s.`, ipTtl);
      }
    },
    async recordAuthFailure(ip, token) {
      if (skipping()) return;
      try {
        await Promise.all([
          config.authFailuresPerIp > 0 ? redis.eval(HIT, 1, key('auth-ip', ip), windowMs) : null,
          config.authFailuresPerKey > 0 ? redis.eval(HIT, 1, key('auth-key', ip, prefixId(token)), windowMs) : null,
        ]);
      } catch (err) {
        failOpen('auth', err);
      }
    },
    async acquireLongPoll(userId, ttlMs) {
      const max = config.longPollsPerUser;
      if (max <= 0 || skipping()) return async () => {};
      const set = key('long-polls', userId);
      const lease = randomUUID();
      let granted: number;
      try {
        [granted] = (await redis.eval(ACQUIRE, 1, set, max, lease, Math.ceil(ttlMs))) as [number, number];
      } catch (err) {
        failOpen('long-poll', err);
        return async () => {};
      }
      if (!granted) {
        throw limited(`You already have ${max} waiting requests (?wait=) open; at most ${max} are allowed at once per person, whichever keys they use. Wait for one to end, or ask without ?wait.`, 2000);
      }
      return async () => {
        await redis.zrem(set, lease).catch((err) => failOpen('long-poll', err));
      };
    },
  };
}
