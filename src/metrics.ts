// The process's Prometheus metrics: one registry, every metric defined here, and small functions
// the rest of the gateway calls to record (observeDecision, observeExecution, ...). Labels are
// bounded by construction: route patterns, statuses, outcomes, dialects, queue kinds, channels —
// never an id, a URL, a user or a connection name.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Dialect } from './sql/types.js';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** The Content-Type of the text registry.metrics() returns. */
export const METRICS_CONTENT_TYPE = registry.contentType;

/** The route label of a request no route matched: one label, whatever the URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Seconds: from a point read (milliseconds) to a long command (minutes). */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Seconds from a request to its decision: people decide in minutes or hours. */
const DECISION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 43_200, 86_400];

const httpDuration = new Histogram({
  name: 'hoop_http_request_duration_seconds',
  help: 'HTTP requests by method, route pattern (unmatched for no route) and status; _count is the number of requests. A long-poll (?wait=) lasts as long as it waits.',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: DURATION_BUCKETS,
  registers: [registry],
});

const decisions = new Counter({
  name: 'hoop_decisions_total',
  help: 'Review transitions committed by this process, by outcome: approved, rejected, expired (decisions on a pending request), executed, failed (ends of a run).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

const decisionTime = new Histogram({
  name: 'hoop_decision_seconds',
  help: 'Time from a request to its decision (approved, rejected or expired), observed where the decision is committed.',
  labelNames: ['outcome'] as const,
  buckets: DECISION_BUCKETS,
  registers: [registry],
});

const executionDuration = new Histogram({
  name: 'hoop_execution_duration_seconds',
  help: 'Runs of requests on their target database, by dialect (postgres, mysql) and outcome (executed, failed).',
  labelNames: ['dialect', 'outcome'] as const,
  buckets: DURATION_BUCKETS,
  registers: [registry],
});

const reads = new Counter({
  name: 'hoop_reads_total',
  help: 'Reads answered without review, by dialect and outcome.',
  labelNames: ['dialect', 'outcome'] as const,
  registers: [registry],
});

const readDuration = new Histogram({
  name: 'hoop_read_duration_seconds',
  help: 'Reads answered without review, from their arrival to their answer, by dialect and outcome.',
  labelNames: ['dialect', 'outcome'] as const,
  buckets: DURATION_BUCKETS,
  registers: [registry],
});

const deliveryFailures = new Counter({
  name: 'hoop_delivery_failures_total',
  help: 'Failed attempts to deliver a message to a chat channel (slack), retried or given up on; a rate limit honoured is not a failure.',
  labelNames: ['channel'] as const,
  registers: [registry],
});

const liveStreamsCut = new Counter({
  name: 'hoop_live_streams_cut_total',
  help: 'Web app live streams the gateway cut because their client stopped reading (more than 1 MiB waited unsent); the page reconnects and re-reads.',
  registers: [registry],
});

const queueJobs = new Gauge({
  name: 'hoop_queue_jobs',
  help: 'Jobs per BullMQ queue (reviews, slack) and state, read from Redis at scrape time.',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
});

const queueLag = new Gauge({
  name: 'hoop_queue_lag_seconds',
  help: 'How long the most overdue job of a queue has been ready to run without being taken (0 when none waits); for a job retried after a delay, counted from its first due time.',
  labelNames: ['queue'] as const,
  registers: [registry],
});

const queueUp = new Gauge({
  name: 'hoop_queue_up',
  help: '1 when the queue could be read from Redis at this scrape, 0 when not (its hoop_queue_jobs and hoop_queue_lag_seconds are then absent).',
  labelNames: ['queue'] as const,
  registers: [registry],
});

const pendingRequests = new Gauge({
  name: 'hoop_pending_requests',
  help: 'Requests waiting for a decision (status PENDING), counted in the state database at most every few seconds.',
  registers: [registry],
});

const databaseUp = new Gauge({
  name: 'hoop_state_database_up',
  help: '1 when the state database answered the last count of pending requests, 0 when not (hoop_pending_requests then keeps its last count).',
  registers: [registry],
});

export type DecisionOutcome = 'approved' | 'rejected' | 'expired' | 'executed' | 'failed';
export type { Dialect };

/** One HTTP request answered; `route` is the route's pattern (e.g. /api/reviews/:id) or UNMATCHED_ROUTE. */
export function observeHttpRequest(method: string, route: string, status: number, seconds: number): void {
  httpDuration.observe({ method, route, status: String(status) }, seconds);
}

/**
 * A committed review transition. For a decision on a pending request (approved, rejected,
 * expired), `requestedAt` and `decidedAt` give the time it took.
 */
export function observeDecision(outcome: DecisionOutcome, requestedAt?: Date, decidedAt?: Date): void {
  decisions.inc({ outcome });
  if (requestedAt && decidedAt && (outcome === 'approved' || outcome === 'rejected' || outcome === 'expired')) {
    decisionTime.observe({ outcome }, Math.max(0, (decidedAt.getTime() - requestedAt.getTime()) / 1000));
  }
}

/** One run of a request on its target. */
export function observeExecution(dialect: Dialect, outcome: 'executed' | 'failed', seconds: number): void {
  executionDuration.observe({ dialect, outcome }, seconds);
}

/** One read answered without review (the fast read path records these). */
export function observeRead(dialect: Dialect, outcome: 'ok' | 'error' | 'refused', seconds: number): void {
  reads.inc({ dialect, outcome });
  readDuration.observe({ dialect, outcome }, seconds);
}

/** One failed attempt to deliver a message to `channel` (e.g. slack). */
export function countDeliveryFailure(channel: string): void {
  deliveryFailures.inc({ channel });
}

/** What a scrape read of one queue: its job counts by state and its lag, or null when unreadable. */
export type QueueReading = { counts: Record<string, number>; lagSeconds: number } | null;

/** The states each queue last reported, so an unreadable queue's series can be dropped. */
const lastStates = new Map<string, Record<string, number>>();

/** A web app live stream was cut for a client that stopped reading (review-stream.ts). */
export function countLiveStreamCut(): void {
  liveStreamsCut.inc();
}

/** How many live streams this process cut so far (tests read it). */
export async function liveStreamsCutSoFar(): Promise<number> {
  return (await liveStreamsCut.get()).values[0]?.value ?? 0;
}

/** Sets the queue gauges from a scrape's reading; an unreadable queue's values are dropped, not left stale. */
export function setQueueReading(queue: string, reading: QueueReading): void {
  queueUp.set({ queue }, reading ? 1 : 0);
  if (!reading) {
    for (const state of Object.keys(lastStates.get(queue) ?? {})) queueJobs.remove({ queue, state });
    lastStates.delete(queue);
    queueLag.remove({ queue });
    return;
  }
  for (const [state, n] of Object.entries(reading.counts)) queueJobs.set({ queue, state }, n);
  lastStates.set(queue, reading.counts);
  queueLag.set({ queue }, reading.lagSeconds);
}
/** Sets the pending-requests gauge from a count; null (the database did not answer) keeps the last count. */
export function setPendingRequests(count: number | null): void {
  databaseUp.set(count === null ? 0 : 1);
  if (count !== null) pendingRequests.set(count);
}

/** The registry in Prometheus's text format. */
export function renderMetrics(): Promise<string> {
  return registry.metrics();
}
