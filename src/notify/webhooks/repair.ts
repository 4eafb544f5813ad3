// The sweep's repair of lost `webhooks.dispatch` jobs. A dispatch job writes the deliveries of one
// event of a request; when Redis loses it, or it runs out of attempts, those rows never exist and
// the repair of lost deliveries has nothing to re-enqueue. So this repair derives from each recent
// request's state which events it has had (as the use cases planned their dispatch jobs), and writes
// the deliveries missing for the endpoints that were subscribed when each event happened. The
// unique (endpoint, request, event) keeps it idempotent: against the late dispatch job itself, a
// second sweep, and a second gateway sweeping at once.
import type { ReviewStatus } from '../../core/review-state.js';
import type { Db } from '../../db/client.js';
import { PAGE, pages } from '../../db/pages.js';
import type { ReviewEventType } from '../channel.js';
import { channelOn } from '../registry.js';

/** Requests the repair looks at: those that moved in the last day (as the Teams repair). */
export const REPAIR_WINDOW_MS = 24 * 3600_000;
/** An event this fresh is still being dispatched by its own job: the repair leaves it alone. */
export const REPAIR_GRACE_MS = 60_000;

const DECIDED: readonly ReviewStatus[] = ['APPROVED', 'RUNNING', 'EXECUTED', 'FAILED'];
const GRANTED: readonly ReviewStatus[] = ['GRANTED', 'ENDED'];

/** What of a request tells its events. */
export interface EventSource {
  id: string;
  status: ReviewStatus;
  autoApproved: boolean;
  kind: string;
  createdAt: Date;
  expiresAt: Date;
  decidedAt: Date | null;
  finishedAt: Date | null;
  accessEndsAt: Date | null;
  accessRevokedAt: Date | null;
  groups: { status: string; decidedAt: Date | null }[];
}

/**
 * The webhook events a request has had by now, each with when it happened: those its transitions
 * dispatched. A request approved at once (an admin's own, or one without reviewers) was never
 * announced nor approved by a vote, so it has neither review.created nor review.approved.
 */
export function webhookEventsOf(r: EventSource): { event: ReviewEventType; at: Date }[] {
  const out: { event: ReviewEventType; at: Date }[] = [];
  const add = (event: ReviewEventType, at: Date | null) => void (at && out.push({ event, at }));
  if (r.groups.length > 0 && !r.autoApproved) {
    add('review.created', r.createdAt);
    // Groups approved by one vote share their decidedAt: one event. The last approval of a request
    // approved by all is review.approved. A delivery is one per endpoint, request and event, so the
    // first group approval is the one sent (a later dispatch of the same event adds nothing either).
    const times = [...new Set(r.groups.filter((g) => g.status === 'APPROVED' && g.decidedAt).map((g) => g.decidedAt!.getTime()))].sort((a, b) => a - b);
    const decided = DECIDED.includes(r.status) || GRANTED.includes(r.status);
    const steps = decided ? times.slice(0, -1) : times;
    if (steps.length > 0) add('review.group_approved', new Date(steps[0]));
    if (decided && r.kind !== 'access') add('review.approved', r.decidedAt);
  }
  // An access window opens with its last approval, or at once for an admin's own (announced then too).
  if (r.kind === 'access' && GRANTED.includes(r.status)) add('review.access_granted', r.decidedAt);
  if (r.kind === 'access' && r.status === 'ENDED') {
    if (r.accessRevokedAt) add('review.access_revoked', r.accessRevokedAt);
    else add('review.access_ended', r.accessEndsAt);
  }
  if (r.status === 'REJECTED') add('review.rejected', r.decidedAt);
  if (r.status === 'EXPIRED') add('review.expired', r.decidedAt ?? r.expiresAt);
  if (r.status === 'EXECUTED') add('review.executed', r.finishedAt);
  if (r.status === 'FAILED') add('review.failed', r.finishedAt);
  return out;
}

/** Writes the deliveries of `event` of a request to `endpointIds` (and enqueues them); how many. */
export type WriteDeliveries = (reviewId: string, event: ReviewEventType, endpointIds: string[]) => Promise<number>;

/**
 * Writes the deliveries lost dispatch jobs left unwritten, for events between a day and a minute
 * before `now`; returns how many. Each endpoint gets only events after its `subscribedAt`: one
 * created (or enabled again, or subscribed to other events) later is sent nothing from before.
 */
export async function repairLostDispatches(db: Db, now: Date, write: WriteDeliveries): Promise<number> {
  const endpoints = await db.webhookEndpoint.findMany({ where: { enabled: true }, select: { id: true, events: true, connections: true, subscribedAt: true } });
  if (endpoints.length === 0) return 0;
  const due = now.getTime() - REPAIR_GRACE_MS;
  // Nothing older than the window, nor than every endpoint's subscription: most sweeps read little.
  const since = new Date(Math.max(now.getTime() - REPAIR_WINDOW_MS, Math.min(...endpoints.map((e) => e.subscribedAt.getTime()))));
  if (since.getTime() > due) return 0;
  let written = 0;
  for await (const rows of pages((after) =>
    db.review.findMany({
      // An access window ends (or is revoked) long after it was asked for.
      where: { connection: channelOn('webhooks'), OR: [{ createdAt: { gte: since } }, { decidedAt: { gte: since } }, { finishedAt: { gte: since } }, { accessEndsAt: { gte: since } }, { accessRevokedAt: { gte: since } }], ...after },
      ...PAGE,
      select: { id: true, status: true, autoApproved: true, kind: true, createdAt: true, expiresAt: true, decidedAt: true, finishedAt: true, accessEndsAt: true, accessRevokedAt: true, connection: { select: { name: true } }, groups: { select: { status: true, decidedAt: true } } },
    }),
  )) {
    // By endpoint and request: the unique (endpointId, reviewId, event) index answers it.
    const have = await db.webhookDelivery.findMany({ where: { endpointId: { in: endpoints.map((e) => e.id) }, reviewId: { in: rows.map((r) => r.id) } }, select: { endpointId: true, reviewId: true, event: true } });
    const delivered = new Set(have.map((d) => `${d.endpointId} ${d.reviewId} ${d.event}`));
    for (const r of rows) {
      for (const { event, at } of webhookEventsOf({ ...r, status: r.status as ReviewStatus })) {
        if (at < since || at.getTime() > due) continue;
        const missing = endpoints
          .filter((e) => e.events.includes(event) && (e.connections.length === 0 || e.connections.includes(r.connection.name)) && e.subscribedAt <= at && !delivered.has(`${e.id} ${r.id} ${event}`))
          .map((e) => e.id);
        if (missing.length > 0) written += await write(r.id, event, missing);
      }
    }
  }
  return written;
}
