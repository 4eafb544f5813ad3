// What /metrics reads at scrape time besides the counters: BullMQ queue depth and lag from Redis,
// the number of pending requests from the state database. A scrape never hangs and never hammers:
// every Redis read is bounded by a short timeout over a connection that fails fast, and the
// database count is shared by concurrent scrapes and reused for a few seconds.
import { QueueKeys } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Db } from '../db/client.js';
import { queueNames } from '../jobs/queues.js';
import { renderMetrics, setPendingRequests, setQueueReading, type QueueReading } from '../metrics.js';
import { withTimeout } from '../with-timeout.js';

export interface MetricsSourcesOptions {
  db: Db;
  /** A connection without an offline queue (commands fail at once while Redis is away). */
  redis: Redis;
  queuePrefix: string;
  /** Bound of each Redis read (default 500 ms). */
  redisTimeoutMs?: number;
  /** Bound of the database count (default 1 s). */
  databaseTimeoutMs?: number;
  /** How long a count of pending requests is reused (default 5 s). */
  pendingTtlMs?: number;
}

/** The job states counted per queue: LLEN for lists, ZCARD for sorted sets (BullMQ's layout). */
const LISTS = ['wait', 'active', 'paused'] as const;
const SETS = ['delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;

/** Reads one queue's counts and lag; BullMQ's own getters would wait forever on a queue whose Redis went away at start. */
export async function readQueue(redis: Redis, queueName: string, timeoutMs: number, now = Date.now()): Promise<QueueReading> {
  const keys = new QueueKeys().getKeys(queueName);
  try {
    const pipeline = redis.pipeline();
    for (const s of LISTS) pipeline.llen(keys[s]!);
    for (const s of SETS) pipeline.zcard(keys[s]!);
    pipeline.lindex(keys.wait!, -1); // the oldest waiting job: workers take from this end
    pipeline.zrange(keys.delayed!, '0', '0', 'WITHSCORES'); // the delayed job due first
    const replies = await withTimeout(pipeline.exec(), timeoutMs, 'Redis');
    if (!replies) return null;
    const values = replies.map(([err, v]) => {
      if (err) throw err;
      return v;
    });
    const counts: Record<string, number> = {};
    [...LISTS, ...SETS].forEach((s, i) => (counts[s] = Number(values[i])));
    const oldestId = values[LISTS.length + SETS.length] as string | null;
    const firstDelayed = values[LISTS.length + SETS.length + 1] as string[];
    let lagMs = 0;
    // A delayed job past its due time that no worker promoted yet (no worker running) is late too.
    // BullMQ's delayed score is dueTime * 0x1000 + a counter.
    if (firstDelayed.length === 2) lagMs = Math.max(lagMs, now - Math.floor(Number(firstDelayed[1]) / 0x1000));
    if (oldestId) {
      const [timestamp, opts] = await withTimeout(redis.hmget(`${keys['']}${oldestId}`, 'timestamp', 'opts'), timeoutMs, 'Redis');
      const delay = Number((JSON.parse(opts ?? '{}') as { delay?: number }).delay ?? 0);
      if (timestamp) lagMs = Math.max(lagMs, now - (Number(timestamp) + delay));
    }
    return { counts, lagSeconds: Math.max(0, lagMs) / 1000 };
  } catch {
    return null;
  }
}

/** The scrape: refreshes the queue and pending gauges (bounded), then renders every metric. */
export function createMetricsScrape(opts: MetricsSourcesOptions): () => Promise<string> {
  const redisTimeoutMs = opts.redisTimeoutMs ?? 500;
  const databaseTimeoutMs = opts.databaseTimeoutMs ?? 1000;
  const pendingTtlMs = opts.pendingTtlMs ?? 5000;
  const queues = Object.entries(queueNames(opts.queuePrefix));
  let counted: { at: number; count: Promise<number | null> } | undefined;

  function pendingCount(): Promise<number | null> {
    // One count at a time, reused for pendingTtlMs: a burst of scrapes costs the database one query.
    if (counted && Date.now() - counted.at < pendingTtlMs) return counted.count;
    const count = withTimeout(opts.db.review.count({ where: { status: 'PENDING' } }), databaseTimeoutMs, 'the state database').catch(() => null);
    counted = { at: Date.now(), count };
    return count;
  }

  return async () => {
    const [pending, ...readings] = await Promise.all([
      pendingCount(),
      ...queues.map(([, name]) => (opts.redis.status === 'ready' ? readQueue(opts.redis, name, redisTimeoutMs) : Promise.resolve(null))),
    ]);
    setPendingRequests(pending as number | null);
    queues.forEach(([kind], i) => setQueueReading(kind, readings[i] as QueueReading));
    return renderMetrics();
  };
}
