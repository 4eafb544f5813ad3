import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { parsePayload, QUEUE_KINDS, QUEUE_OF, type JobName, type JobPayload, type QueueKind } from './definitions.js';
import type { OutboxEntry } from '../db/outbox.js';

export interface EnqueueOptions {
  /** Makes re-enqueueing idempotent: a job with an existing id is not added again. */
  jobId: string;
  delayMs?: number;
}

/** What the rest of the gateway sees of BullMQ: typed, validated enqueueing. */
export interface JobQueue {
  enqueue<N extends JobName>(name: N, payload: JobPayload<N>, options: EnqueueOptions): Promise<void>;
  /**
   * Adds many jobs in one round trip per queue (BullMQ addBulk); each payload is checked first.
   * Optional: a queue without it gets one enqueue per job.
   */
  enqueueMany?(jobs: readonly { name: JobName; payload: unknown; options: EnqueueOptions }[]): Promise<void>;
  /** Removes a delayed job (e.g. the expiry of a decided review); no-op when absent. */
  remove(name: JobName, jobId: string): Promise<void>;
  close(): Promise<void>;
}

// A channel's outage delays messages: retry for about an hour (2 s doubling, capped by attempts).
const CHANNEL_DEFAULTS: JobsOptions = { attempts: 12, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 7 * 86_400 } };
const DEFAULTS: Record<QueueKind, JobsOptions> = {
  reviews: { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 7 * 86_400 } },
  slack: CHANNEL_DEFAULTS,
  teams: CHANNEL_DEFAULTS,
  // A delivery keeps its own schedule (hours apart) and is one job per attempt: BullMQ's retries
  // only cover a state database or Redis that failed the job itself.
  webhooks: CHANNEL_DEFAULTS,
};

/**
 * Jobs that only refresh a view (the Slack Home tab) yield to those that announce, update or decide
 * a request: BullMQ runs jobs without a priority before prioritized ones, so after a burst of a
 * thousand expiries the request messages are updated first and the Home tabs after.
 */
const LOW_PRIORITY: ReadonlySet<string> = new Set<JobName>(['slack.refresh-homes', 'slack.publish-home']);
const optionsOf = (name: JobName): JobsOptions => ({ ...DEFAULTS[QUEUE_OF[name]], ...(LOW_PRIORITY.has(name) ? { priority: 10 } : {}) });

/** Queue names under the configured prefix; workers use the same. */
export function queueNames(prefix: string): Record<QueueKind, string> {
  return Object.fromEntries(QUEUE_KINDS.map((k) => [k, `${prefix}-${k}`])) as Record<QueueKind, string>;
}

/** BullMQ job ids may not contain ':' nor be integers. */
function safeJobId(id: string): string {
  return id.replaceAll(':', '_');
}

/** Enqueues an outbox entry (a channel's or a repair's job): delayed until its dueAt, counted from `nowMs`. */
export function enqueueEntry(jobs: Pick<JobQueue, 'enqueue'>, e: OutboxEntry, nowMs = Date.now()): Promise<void> {
  return jobs.enqueue(e.name as JobName, e.payload as never, { jobId: e.jobId, delayMs: e.dueAt ? Math.max(0, e.dueAt.getTime() - nowMs) : undefined });
}

/** Typed queues over one Redis connection. */
export function createJobQueue(connection: Redis, prefix: string): JobQueue {
  const names = queueNames(prefix);
  const queues = Object.fromEntries(QUEUE_KINDS.map((k) => [k, new Queue(names[k], { connection })])) as Record<QueueKind, Queue>;
  // Connection errors are the shared connection's to report (the gateway logs them); a queue
  // without a listener would print each one to stderr while Redis is away.
  for (const queue of Object.values(queues)) queue.on('error', () => {});
  return {
    async enqueue(name, payload, options) {
      const data = parsePayload(name, payload);
      const kind = QUEUE_OF[name];
      await queues[kind].add(name, data, { ...optionsOf(name), jobId: safeJobId(options.jobId), delay: options.delayMs });
    },
    async enqueueMany(jobs) {
      const byQueue = Object.fromEntries(QUEUE_KINDS.map((k) => [k, [] as Parameters<Queue['addBulk']>[0]])) as Record<QueueKind, Parameters<Queue['addBulk']>[0]>;
      for (const j of jobs) {
        const kind = QUEUE_OF[j.name];
        byQueue[kind].push({ name: j.name, data: parsePayload(j.name, j.payload), opts: { ...optionsOf(j.name), jobId: safeJobId(j.options.jobId), delay: j.options.delayMs } });
      }
      await Promise.all(QUEUE_KINDS.filter((k) => byQueue[k].length).map((k) => queues[k].addBulk(byQueue[k])));
    },
    async remove(name, jobId) {
      await queues[QUEUE_OF[name]].remove(safeJobId(jobId));
    },
    async close() {
      await Promise.all(Object.values(queues).map((q) => q.close()));
    },
  };
}
