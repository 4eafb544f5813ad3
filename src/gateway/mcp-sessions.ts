// MCP sessions of /mcp, kept in Redis under the queue prefix so that any replica behind a load
// balancer serves any session (no sticky routing), bound to the person who opened them, ended
// after MCP_SESSION_IDLE_SEC without a request, at most MCP_SESSIONS_PER_USER per person.
//
// A session carries no authority: every request still authenticates with its own bearer key, and
// who acts comes only from that key. A session remembers what the initialize request said of the
// client (its clientInfo name and version), so later requests are audited with it.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { McpConfig } from '../config.js';
import type { Logger } from '../logger.js';

export interface McpClientInfo {
  name: string;
  version: string;
}

/** What a session id resolves to for the person presenting it. */
export type McpSessionLookup =
  | { found: true; client: McpClientInfo | null }
  /** Unknown, ended, idle too long, or another person's (indistinguishable to the caller). */
  | { found: false }
  /** Redis did not answer: the session cannot be checked. */
  | { found: 'unknown' };

export interface McpSessions {
  /** Opens a session of `userId`; null when Redis does not answer (the client then works without one). */
  open(userId: string, client: McpClientInfo | null): Promise<string | null>;
  /** The session `id` when it is `userId`'s and alive; renews its idle time. */
  touch(id: string, userId: string): Promise<McpSessionLookup>;
  /** Ends `userId`'s session `id` (DELETE /mcp); false when there was none. */
  close(id: string, userId: string): Promise<boolean>;
  readonly config: McpConfig;
}

// Opening: the new session, then the person's oldest ones beyond the bound are ended. The set is
// scored by last use; members whose key expired (idle) are dropped first.
const OPEN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local idle = tonumber(ARGV[3])
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - idle)) do
  redis.call('DEL', ARGV[5] .. gone)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - idle)
redis.call('SET', KEYS[1], ARGV[1], 'PX', idle)
redis.call('ZADD', KEYS[2], now, ARGV[2])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[2], over)
  for i = 1, #popped, 2 do redis.call('DEL', ARGV[5] .. popped[i]) end
end
redis.call('PEXPIRE', KEYS[2], idle)
return 1`;

// Touching: the owner must match; only then is the idle time renewed.
const TOUCH = `
local v = redis.call('GET', KEYS[1])
if not v then return false end
local s = cjson.decode(v)
if s.u ~= ARGV[1] then return false end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return v`;

const CLOSE = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if cjson.decode(v).u ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1`;

/** A session id: 256 random bits, printable ASCII as the specification wants (base64url). */
function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** Session ids are stored hashed: a copy of Redis does not list ids a client is using. */
function hashOf(id: string): string {
  return createHash('sha256').update(`hoop-mcp-session:${id}`).digest('hex');
}

/** Longest session id looked up; ours are 43 characters. */
const MAX_ID_CHARS = 128;

/** Sessions over a fail-fast Redis connection (the one the request limits use). */
export function createMcpSessions(redis: Redis, prefix: string, config: McpConfig, log: Logger): McpSessions {
  const sessionKeyPrefix = `${prefix}:mcp:session:`;
  const userKey = (userId: string) => `${prefix}:mcp:user:${userId}`;
  const idleMs = config.sessionIdleSec * 1000;
  let lastWarning = 0;
  const warn = (err: unknown) => {
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    log.warn({ err: (err as Error).message }, 'MCP sessions unavailable (Redis); serving /mcp without them');
  };
  return {
    config,
    async open(userId, client) {
      const id = newSessionId();
      const h = hashOf(id);
      try {
        await redis.eval(OPEN, 2, sessionKeyPrefix + h, userKey(userId), JSON.stringify({ u: userId, c: client }), h, idleMs, config.sessionsPerUser, sessionKeyPrefix);
        return id;
      } catch (err) {
        warn(err);
        return null;
      }
    },
    async touch(id, userId) {
      if (id.length > MAX_ID_CHARS) return { found: false };
      const h = hashOf(id);
      let v: string | null;
      try {
        v = (await redis.eval(TOUCH, 2, sessionKeyPrefix + h, userKey(userId), userId, h, idleMs)) as string | null;
      } catch (err) {
        warn(err);
        return { found: 'unknown' };
      }
      if (!v) return { found: false };
      const stored = JSON.parse(v) as { c: McpClientInfo | null };
      return { found: true, client: stored.c ?? null };
    },
    async close(id, userId) {
      if (id.length > MAX_ID_CHARS) return false;
      const h = hashOf(id);
      try {
        return (await redis.eval(CLOSE, 2, sessionKeyPrefix + h, userKey(userId), userId, h)) === 1;
      } catch (err) {
        warn(err);
        return false;
      }
    },
  };
}
