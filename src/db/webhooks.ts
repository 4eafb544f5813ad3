// Custom webhooks in our database: endpoints, deliveries (one per endpoint, review and event) and
// the per-attempt log. The rules (validation, retries, SSRF) live in src/notify/webhooks.
import { recordAudit, SYSTEM_ACTOR } from './audit.js';
import type { Db, Prisma, Tx } from './client.js';
import { isUuid } from './reviews.js';

export type WebhookEndpointRow = Prisma.WebhookEndpointGetPayload<object>;
export type WebhookDeliveryRow = Prisma.WebhookDeliveryGetPayload<object>;


/** One endpoint, or null (also for an id that is not a uuid). */
export function findEndpoint(db: Db | Tx, id: string): Promise<WebhookEndpointRow | null> {
  return isUuid(id) ? db.webhookEndpoint.findUnique({ where: { id } }) : Promise.resolve(null);
}

/** Endpoints ordered by creation (then id), `take` after the cursor. */
export function listEndpoints(db: Db, page: { take: number; after?: { createdAt: Date; id: string } }): Promise<WebhookEndpointRow[]> {
  const a = page.after;
  return db.webhookEndpoint.findMany({
    where: a ? { OR: [{ createdAt: { gt: a.createdAt } }, { createdAt: a.createdAt, id: { gt: a.id } }] } : {},
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: page.take,
  });
}

/** The enabled endpoints subscribed to `event` of a review on `connection`. */
export function subscribedEndpoints(db: Db, event: string, connection: string): Promise<{ id: string }[]> {
  return db.webhookEndpoint.findMany({
    where: { enabled: true, events: { has: event }, OR: [{ connections: { isEmpty: true } }, { connections: { has: connection } }] },
    select: { id: true },
  });
}

/** A page of an endpoint's deliveries, newest first. */
export function listDeliveries(db: Db, endpointId: string, page: { take: number; before?: { createdAt: Date; id: string } }): Promise<WebhookDeliveryRow[]> {
  const b = page.before;
  return db.webhookDelivery.findMany({
    where: { endpointId, ...(b ? { OR: [{ createdAt: { lt: b.createdAt } }, { createdAt: b.createdAt, id: { lt: b.id } }] } : {}) },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: page.take,
  });
}

/** The last `take` attempts of each of `deliveryIds`, oldest first. */
export function attemptsOf(db: Db, deliveryIds: string[]) {
  return db.webhookAttempt.findMany({ where: { deliveryId: { in: deliveryIds } }, orderBy: { id: 'asc' } });
}

/**
 * Takes attempt `seen + 1` of a due delivery: one conditional update, so of two jobs for the same
 * delivery (a lost job re-enqueued by the sweep, and the original after all) only one sends.
 * `leaseUntil` keeps the sweep away while the attempt runs.
 */
export async function claimAttempt(db: Db, id: string, seen: number, now: Date, leaseUntil: Date): Promise<boolean> {
  const { count } = await db.webhookDelivery.updateMany({
    where: { id, attempts: seen, status: { in: ['pending', 'failed'] }, nextAttemptAt: { lte: now } },
    data: { attempts: seen + 1, nextAttemptAt: leaseUntil },
  });
  return count === 1;
}

/**
 * Puts off attempt `seen + 1` of a due delivery until `until` without making it (its endpoint has
 * every slot taken): the due time moves, so the sweep does not take the delivery for lost.
 */
export async function deferAttempt(db: Db, id: string, seen: number, now: Date, until: Date): Promise<void> {
  await db.webhookDelivery.updateMany({ where: { id, attempts: seen, status: { in: ['pending', 'failed'] }, nextAttemptAt: { lte: now } }, data: { nextAttemptAt: until } });
}

/** Deliveries due before `dueBefore` (their job was lost), a page after the cursor. */
export function lostDeliveries(db: Db, dueBefore: Date, take: number, after?: { nextAttemptAt: Date; id: string }) {
  return db.webhookDelivery.findMany({
    where: {
      status: { in: ['pending', 'failed'] },
      nextAttemptAt: { lt: dueBefore },
      ...(after ? { OR: [{ nextAttemptAt: { gt: after.nextAttemptAt } }, { nextAttemptAt: after.nextAttemptAt, id: { gt: after.id } }] } : {}),
    },
    orderBy: [{ nextAttemptAt: 'asc' }, { id: 'asc' }],
    select: { id: true, attempts: true, nextAttemptAt: true },
    take,
  });
}

/**
 * Writes one delivery per endpoint (none twice: unique per endpoint, review and event) and returns
 * the ids of those not yet attempted, including ones an earlier, interrupted dispatch wrote.
 */
export async function insertDeliveries(db: Db, endpointIds: string[], reviewId: string, event: string, payload: object, now: Date): Promise<string[]> {
  await db.webhookDelivery.createMany({
    data: endpointIds.map((endpointId) => ({ endpointId, reviewId, event, payload, status: 'pending', nextAttemptAt: now })),
    skipDuplicates: true,
  });
  const fresh = await db.webhookDelivery.findMany({ where: { reviewId, event, status: 'pending', attempts: 0, endpointId: { in: endpointIds } }, select: { id: true } });
  return fresh.map((d) => d.id);
}

/** A delivery with its endpoint, or null. */
export function deliveryWithEndpoint(db: Db, id: string) {
  return db.webhookDelivery.findUnique({ where: { id }, include: { endpoint: true } });
}

/** Ends a delivery without an attempt (its endpoint is disabled). */
export async function markNotSent(db: Db, id: string, lastError: string): Promise<void> {
  await db.webhookDelivery.update({ where: { id }, data: { status: 'failed', nextAttemptAt: null, lastError } });
}

export interface AttemptRecord {
  deliveryId: string;
  endpointId: string;
  attempt: number;
  result: { ok: boolean; statusCode: number | null; durationMs: number; error: string | null; responseExcerpt: string | null };
  /** The delivery's status after it. */
  status: string;
  next: Date | null;
  at: Date;
  /** An endpoint failing without a success for this long is disabled. */
  disableAfterMs: number;
}

/**
 * Writes an attempt's outcome in one transaction: the log row, the delivery, the endpoint's
 * failing-since mark, and, when its failures have lasted `disableAfterMs`, the endpoint disabled
 * (once: a conditional update) with its remaining schedule dropped and an audit event. Returns the
 * reason when this attempt disabled the endpoint.
 */
export function recordAttempt(db: Db, a: AttemptRecord): Promise<string | null> {
  const r = a.result;
  return db.$transaction(async (tx) => {
    await tx.webhookAttempt.create({ data: { deliveryId: a.deliveryId, attempt: a.attempt, statusCode: r.statusCode, durationMs: r.durationMs, error: r.error, responseExcerpt: r.responseExcerpt, createdAt: a.at } });
    await tx.webhookDelivery.update({
      where: { id: a.deliveryId },
      data: { status: a.status, nextAttemptAt: a.next, lastStatusCode: r.statusCode, lastDurationMs: r.durationMs, lastError: r.error, responseExcerpt: r.responseExcerpt },
    });
    if (r.ok) {
      await tx.webhookEndpoint.updateMany({ where: { id: a.endpointId, failingSince: { not: null } }, data: { failingSince: null } });
      return null;
    }
    await tx.webhookEndpoint.updateMany({ where: { id: a.endpointId, failingSince: null }, data: { failingSince: a.at } });
    const ep = await tx.webhookEndpoint.findUniqueOrThrow({ where: { id: a.endpointId }, select: { enabled: true, failingSince: true } });
    if (!ep.enabled || !ep.failingSince || a.at.getTime() - ep.failingSince.getTime() < a.disableAfterMs) return null;
    const reason = `every delivery failed from ${ep.failingSince.toISOString()} to ${a.at.toISOString()} (last: ${r.error})`.slice(0, 500);
    const { count } = await tx.webhookEndpoint.updateMany({ where: { id: a.endpointId, enabled: true }, data: { enabled: false, disabledAt: a.at, disabledReason: reason } });
    if (count === 0) return null;
    // The rest of its schedule is dropped with it: enabling the endpoint again starts afresh.
    await tx.webhookDelivery.updateMany({ where: { endpointId: a.endpointId, status: { in: ['pending', 'failed'] } }, data: { status: 'failed', nextAttemptAt: null } });
    await recordAudit(tx, SYSTEM_ACTOR, 'webhook.disabled', null, { webhookId: a.endpointId, reason });
    return reason;
  });
}
