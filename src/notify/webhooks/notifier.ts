// The custom webhooks channel. An event of a review is one `webhooks.dispatch` job, which writes one
// delivery per subscribed endpoint and enqueues one `webhooks.deliver` job per delivery: a slow or
// dead receiver holds up its own job only. A failed attempt schedules the next one (schedule.ts)
// by throwing RetryLater; an endpoint failing for a day is disabled and the admins are told.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../core/ports.js';
import type { Transition } from '../../core/review-state.js';
import type { Db } from '../../db/client.js';
import type { OutboxEntry } from '../../db/outbox.js';
import { getReview } from '../../db/reviews.js';
import { claimAttempt, deferAttempt, deliveryWithEndpoint, insertDeliveries, lostDeliveries, markNotSent, recordAttempt, subscribedEndpoints } from '../../db/webhooks.js';
import { isAppError, ErrorCode } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { withTimeout } from '../../with-timeout.js';
import { sharedView } from '../../contracts/review-view.js';
import { toReviewView } from '../../db/review-views.js';
import { eventOf, PermanentFailure, RetryLater, type NewRequest, type Notifier, type ReconcileContext, type ReviewEventType, REVIEW_EVENTS, type AdminNotice } from '../channel.js';
import { DISABLE_AFTER_MS, retryDelayMs } from './schedule.js';
import type { EndpointSlots } from './endpoint-slots.js';
import { repairLostDispatches } from './repair.js';
import { postWebhook } from './send.js';
import { messageId, signatureHeaders } from './signing.js';
import type { ResolveHost } from './ssrf.js';

const DISPATCH_JOB = 'webhooks.dispatch';
const DELIVER_JOB = 'webhooks.deliver';
/** A delivery whose attempt was due this long ago without being made lost its job. */
const LOST_AFTER_MS = 60_000;
const RECONCILE_PAGE = 500;

const dispatchPayload = z.object({ reviewId: z.string().uuid(), event: z.enum(REVIEW_EVENTS) }).strict();
const deliverPayload = z.object({ deliveryId: z.string().uuid() });

export interface WebhookNotifierOptions {
  db: Db;
  /** The time of schedules, rotation windows and the one-day disable rule (tests move one). */
  clock: Clock;
  log: Logger;
  /** Hands a job to the `webhooks` queue (dispatch enqueues one deliver job per delivery). */
  enqueue: (entry: OutboxEntry) => Promise<void>;
  /** WEBHOOK_ALLOW_PRIVATE: private, loopback and link-local destinations are allowed. */
  allowPrivate: boolean;
  /** Tells the admins something (an endpoint disabled); absent: the audit event and the log only. */
  tellAdmins?: (notice: AdminNotice) => Promise<void>;
  /** The resolver of receivers' host names (the system's by default; tests inject one). */
  resolve?: ResolveHost;
  /** How long a receiver has to answer (default 15 s). */
  timeoutMs?: number;
  /** WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT, shared by every process (absent: no cap but the worker's). */
  slots?: EndpointSlots;
  /** The jitter's source (default Math.random). */
  random?: () => number;
  /**
   * The time put in `webhook-timestamp` (default the system clock): receivers compare it with their
   * own clocks to refuse replays, so it is the real time of sending even when a test moves `clock`.
   */
  wallClock?: Clock;
}

/** The jobs of one event of one review (none for an event the channel does not announce). */
function dispatchEntry(reviewId: string, event: ReviewEventType): OutboxEntry {
  return { name: DISPATCH_JOB, payload: { reviewId, event }, jobId: `wh-${event}-${reviewId}`, reviewId };
}

/** The job of attempt `attempt` of a delivery (`suffix` for a replay's or a repair's own job id). */
export function deliverEntry(deliveryId: string, attempt: number, suffix = ''): OutboxEntry {
  return { name: DELIVER_JOB, payload: { deliveryId }, jobId: `whd-${deliveryId}-${attempt}${suffix}` };
}

/** The webhooks channel as a Notifier. */
export function createWebhookNotifier(options: WebhookNotifierOptions): Notifier {
  const { db, clock, log, enqueue, allowPrivate } = options;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const wallClock = options.wallClock ?? { now: () => new Date() };

  /** The request, or PermanentFailure when it does not exist. */
  async function loadReview(reviewId: string) {
    try {
      return await getReview(db, reviewId);
    } catch (error) {
      if (isAppError(error, ErrorCode.NotFound)) throw new PermanentFailure(`review ${reviewId} does not exist`);
      throw error;
    }
  }

  /** Writes the deliveries of `event` to `endpointIds` and enqueues those not attempted yet; how many. */
  async function writeDeliveries(review: Awaited<ReturnType<typeof getReview>>, event: ReviewEventType, endpointIds: string[], enqueueTo: (e: OutboxEntry) => Promise<void>): Promise<number> {
    const now = clock.now();
    // The review as it stands when the event is dispatched (a moment after it happened), as
    // GET /api/reviews/:id shows it: output masked as stored, never the connection URL.
    // As in a Slack channel and a Teams card: the result of a connection restricted to some groups
    // is not sent where others may read it (members of those groups read it with hoop get review).
    const data = sharedView(toReviewView(review), review.connection);
    const body = { type: event, timestamp: now.toISOString(), data };
    // Also the deliveries of an earlier run of this job that stopped before enqueueing them (job ids dedupe).
    const ids = await insertDeliveries(db, endpointIds, review.id, event, body, now);
    for (const id of ids) await enqueueTo(deliverEntry(id, 1));
    return ids.length;
  }

  async function dispatch(reviewId: string, event: ReviewEventType): Promise<void> {
    // Most gateways have no endpoint for most events: one look at the (small) endpoint table first,
    // before the request is read.
    if (!(await db.webhookEndpoint.findFirst({ where: { enabled: true, events: { has: event } }, select: { id: true } }))) return;
    const review = await loadReview(reviewId);
    const endpoints = await subscribedEndpoints(db, event, review.connection.name);
    if (endpoints.length === 0) return;
    await writeDeliveries(review, event, endpoints.map((e) => e.id), enqueue);
  }

  async function deliver(deliveryId: string): Promise<void> {
    const d = await deliveryWithEndpoint(db, deliveryId);
    // Gone with its endpoint, done, or finished without a further attempt: nothing to do.
    if (!d || d.status === 'succeeded' || d.status === 'gave_up' || !d.nextAttemptAt) return;
    // Only a replay puts an attempted delivery back to pending (a failed one stays failed while on
    // its schedule): a replay is one more attempt, without a schedule of its own.
    const replay = d.status === 'pending' && d.attempts > 0;
    const now = clock.now();
    if (d.nextAttemptAt > now) throw new RetryLater(Math.ceil((d.nextAttemptAt.getTime() - now.getTime()) / 1000), `delivery ${d.id} is due at ${d.nextAttemptAt.toISOString()}`);
    const ep = d.endpoint;
    if (!ep.enabled) {
      await markNotSent(db, d.id, `not sent: the endpoint is disabled${ep.disabledReason ? ` (${ep.disabledReason})` : ''}`);
      return;
    }
    // At most slots.max attempts at once per endpoint, counted across every gateway process: a
    // hanging receiver with many deliveries due holds a few of the worker's 50 slots, not all of
    // them. Over the cap the delivery waits a moment without spending an attempt; its due time moves
    // with it, so the sweep does not take it for lost and enqueue it again.
    const slot = await takeSlot(ep.id);
    if (slot === 'full') {
      const waitMs = 1000 + Math.round(2000 * (options.random ?? Math.random)());
      await deferAttempt(db, d.id, d.attempts, now, new Date(now.getTime() + waitMs));
      throw new RetryLater(waitMs / 1000, `webhook ${ep.id} has ${options.slots!.max} deliveries in flight; delivery ${d.id} waits`);
    }
    try {
      await sendAttempt(d, now, replay);
    } finally {
      await slot?.release();
    }
  }

  /**
   * A slot of the endpoint for one attempt; null without a cap, or when Redis does not answer: the
   * cap keeps endpoints fair, it is not worth holding deliveries back while Redis is away.
   */
  async function takeSlot(endpointId: string): Promise<{ release(): Promise<void> } | 'full' | null> {
    const slots = options.slots;
    if (!slots) return null;
    const holder = randomUUID();
    try {
      if (!(await withTimeout(slots.acquire(endpointId, holder, timeoutMs + LOST_AFTER_MS), 1000, 'Redis'))) return 'full';
    } catch (error) {
      log.warn({ webhookId: endpointId, err: (error as Error).message }, 'could not count the deliveries in flight of a webhook endpoint; sending without the cap');
      return null;
    }
    return { release: () => slots.release(endpointId, holder).catch(() => {}) };
  }

  async function sendAttempt(d: NonNullable<Awaited<ReturnType<typeof deliveryWithEndpoint>>>, now: Date, replay: boolean): Promise<void> {
    const ep = d.endpoint;
    if (!(await claimAttempt(db, d.id, d.attempts, now, new Date(now.getTime() + timeoutMs + LOST_AFTER_MS)))) return;
    const attempt = d.attempts + 1;
    // jsonb keeps keys in its own order; the envelope is written type first for people reading it.
    // The same row gives the same text on every attempt and replay.
    const { type, timestamp, data } = d.payload as Record<string, unknown>;
    const body = JSON.stringify({ type, timestamp, data });
    const previousValid = ep.previousSecret && ep.previousSecretExpiresAt && ep.previousSecretExpiresAt > now;
    const secrets = previousValid ? [ep.secret, ep.previousSecret!] : [ep.secret];
    const result = await postWebhook(ep.url, signatureHeaders(secrets, messageId(d.id), wallClock.now(), body), body, { allowPrivate, timeoutMs, resolve: options.resolve });
    const at = clock.now();
    const delay = result.ok || replay ? null : retryDelayMs(attempt, options.random);
    const status = result.ok ? 'succeeded' : delay === null && !replay ? 'gave_up' : 'failed';
    const next = delay === null ? null : new Date(at.getTime() + delay);
    const disabled = await recordAttempt(db, { deliveryId: d.id, endpointId: ep.id, attempt, result, status, next, at, disableAfterMs: DISABLE_AFTER_MS });
    if (disabled) {
      // The host only: a URL's path or query may carry the receiver's token.
      const host = new URL(ep.url).host;
      log.warn({ webhookId: ep.id, host, reason: disabled }, 'webhook endpoint disabled: its deliveries failed for a day');
      const text = `Webhook endpoint ${ep.id} (${host}) was disabled: its deliveries failed for a day (${disabled}). \`hoop admin webhook deliveries ${ep.id}\` shows the errors; once the receiver works, enable it again with \`hoop admin webhook enable ${ep.id}\`.`;
      await options.tellAdmins?.({ id: `webhook-disabled-${ep.id}-${at.getTime()}`, text: text.slice(0, 3000) }).catch((err: Error) => log.warn({ webhookId: ep.id, err: err.message }, 'could not tell the admins that a webhook endpoint was disabled'));
    }
    if (!result.ok) log.info({ webhookId: ep.id, deliveryId: d.id, attempt, status, error: result.error }, 'webhook delivery failed');
    if (delay !== null && !disabled) throw new RetryLater(Math.ceil(delay / 1000), `webhook delivery ${d.id} attempt ${attempt} failed (${result.error}); next in ${Math.round(delay / 1000)} s`);
  }

  async function reconcile(ctx: ReconcileContext): Promise<void> {
    // First the deliveries lost dispatch jobs never wrote (enqueued as they are written), then the
    // jobs lost of deliveries that exist.
    const repaired = await repairLostDispatches(db, ctx.now, async (reviewId, event, endpointIds) => {
      let review;
      try {
        review = await loadReview(reviewId);
      } catch (error) {
        // Deleted since it was read: nothing to send.
        if (error instanceof PermanentFailure) return 0;
        throw error;
      }
      return writeDeliveries(review, event, endpointIds, ctx.enqueue);
    });
    if (repaired > 0) log.info({ deliveries: repaired }, 'wrote the webhook deliveries of lost dispatch jobs');
    const dueBefore = new Date(ctx.now.getTime() - LOST_AFTER_MS);
    // Repairs get job ids per minute: the lost job's own id may still be taken by a finished job.
    const slot = `-r${Math.floor(ctx.now.getTime() / 60_000)}`;
    let after: { nextAttemptAt: Date; id: string } | undefined;
    for (;;) {
      const page = await lostDeliveries(db, dueBefore, RECONCILE_PAGE, after);
      for (const d of page) await ctx.enqueue(deliverEntry(d.id, d.attempts + 1, slot));
      if (page.length < RECONCILE_PAGE) return;
      const last = page[page.length - 1];
      after = { nextAttemptAt: last.nextAttemptAt!, id: last.id };
    }
  }

  return {
    channel: 'webhooks',
    jobsOfNewRequest: (r: NewRequest) => (r.status === 'PENDING' ? [dispatchEntry(r.reviewId, 'review.created')] : []),
    jobsOf(reviewId: string, t: Transition) {
      const event = eventOf(t);
      return event ? [dispatchEntry(reviewId, event)] : [];
    },
    async run(name, payload) {
      if (name === DISPATCH_JOB) {
        const p = dispatchPayload.safeParse(payload);
        if (!p.success) throw new PermanentFailure(`bad ${name} payload: ${p.error.message}`);
        return dispatch(p.data.reviewId, p.data.event);
      }
      if (name === DELIVER_JOB) {
        const p = deliverPayload.safeParse(payload);
        if (!p.success) throw new PermanentFailure(`bad ${name} payload: ${p.error.message}`);
        return deliver(p.data.deliveryId);
      }
      throw new PermanentFailure(`the webhooks channel has no job ${name}`);
    },
    reconcile,
  };
}
