// Custom webhooks in our database: endpoints, deliveries (one per endpoint, review and event) and
// the per-attempt log. The rules (validation, retries, SSRF) live in src/notify/webhooks.
import type { Db, Prisma, Tx } from './client.js';

export type WebhookEndpointRow = Prisma.WebhookEndpointGetPayload<object>;
export type WebhookDeliveryRow = Prisma.WebhookDeliveryGetPayload<object>;

export const isUuidLike = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

/** One endpoint, or null (also for an id that is not a uuid). */
export function findEndpoint(db: Db | Tx, id: string): Promise<WebhookEndpointRow | null> {
  return isUuidLike(id) ? db.webhookEndpoint.findUnique({ where: { id } }) : Promise.resolve(null);
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
