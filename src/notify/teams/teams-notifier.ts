// The Microsoft Teams channel: one card per (request, event), posted to the connection's Workflows
// URL or TEAMS_WEBHOOK_URL. A Workflows post can be neither edited nor looked up afterwards, so
// every event is a card of its own and ChannelMessage rows record which cards arrived: a retried job
// never posts one twice once its first post is known to have been accepted.
//
// A Workflows webhook offers no idempotency key. When a post times out (or the process stops
// between the POST and marking it posted), nobody can know whether Teams took it; the job posts it
// again, so a duplicate card is possible then, and only then. Dropping it instead could lose the
// announcement of a request, which is worse.
import { z } from 'zod';
import type { Clock } from '../../core/ports.js';
import type { ReviewStatus, Transition } from '../../core/review-state.js';
import { claimPost, markPosted, postedKinds, releasePost, targetOf, unfinishedPosts, type PostKey } from '../../db/channel-posts.js';
import type { Db } from '../../db/client.js';
import type { OutboxEntry } from '../../db/outbox.js';
import { getReview } from '../../db/reviews.js';
import { AppError, ErrorCode } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { restrictsOutput } from '../../contracts/review-view.js';
import { toReviewView } from '../../db/review-views.js';
import { eventOf, NOTICE_EVENTS, PermanentFailure, PREVIEW_EVENT, REMINDER_EVENT, RetryLater, type NewRequest, type Notifier, type ReconcileContext, type ReviewEventType } from '../channel.js';
import { channelOn } from '../registry.js';
import { teamsCard } from './teams-card.js';
import { postToTeams, type FetchLike } from './teams-client.js';
import { PAGE, pages } from '../../db/pages.js';

export const TEAMS_POST_EVENT = 'teams.post-event';

export interface TeamsNotifierOptions {
  db: Db;
  /** TEAMS_WEBHOOK_URL: where connections without their own teamsWebhookUrl post. */
  defaultWebhookUrl?: string;
  /** The web app's base URL (PUBLIC_URL). */
  publicUrl: string;
  log: Logger;
  fetch?: FetchLike;
  /** How long a post waits for Teams (15 s by default). */
  timeoutMs?: number;
  clock?: Clock;
  /** On for connections without plugins (TEAMS_WEBHOOK_URL is set); else only for those listing teams. */
  byDefault?: boolean;
}

const payloadSchema = z.object({
  reviewId: z.string().uuid(),
  event: z.enum(NOTICE_EVENTS),
  /** review.group_approved: how many groups had approved after this decision. */
  step: z.number().int().positive().optional(),
});
type Payload = z.infer<typeof payloadSchema>;

/** The ChannelMessage kind of an event: group approvals are several events of one type. */
const kindOf = (p: Payload) => (p.event === 'review.group_approved' ? `${p.event}.${p.step ?? 1}` : p.event);

/** One job per (request, event): its id makes a second enqueue of the same event a no-op. */
function entry(p: Payload, jobIdPrefix = 'teams'): OutboxEntry {
  return { name: TEAMS_POST_EVENT, payload: { ...p }, jobId: `${jobIdPrefix}-${kindOf(p)}-${p.reviewId}`, reviewId: p.reviewId };
}

/** Requests the sweep looks at: those that moved in the last day. */
const RECONCILE_WINDOW_MS = 24 * 3600_000;
/** An event this fresh is still being posted by its own job: the sweep leaves it alone. */
const RECONCILE_GRACE_MS = 60_000;
const DECIDED: readonly ReviewStatus[] = ['APPROVED', 'RUNNING', 'EXECUTED', 'FAILED'];
/** An access request approved: its window open, or closed since. */
const GRANTED: readonly ReviewStatus[] = ['GRANTED', 'ENDED'];

interface ReconcileRow {
  id: string;
  status: ReviewStatus;
  autoApproved: boolean;
  createdAt: Date;
  expiresAt: Date;
  decidedAt: Date | null;
  finishedAt: Date | null;
  connection: { teamsWebhookUrl: string | null };
  groups: { status: string; decidedAt: Date | null }[];
  /** An access request's window ('command' when absent). */
  kind?: string;
  accessEndsAt?: Date | null;
  accessRevokedAt?: Date | null;
}

/** The cards a request should have caused by now, with when each became due. */
export function expectedEvents(r: Omit<ReconcileRow, 'connection'>): { payload: Payload; at: Date }[] {
  // A command that ran without review (a read, no reviewer groups) is not shown on Teams at all.
  if (r.groups.length === 0) return [];
  const out: { payload: Payload; at: Date }[] = [];
  const add = (event: ReviewEventType, at: Date | null, step?: number) => at && out.push({ payload: { reviewId: r.id, event, ...(step ? { step } : {}) }, at });
  if (!r.autoApproved) {
    add('review.created', r.createdAt);
    // Groups approved by one vote share their decidedAt: one event. The last one of an approved
    // request is review.approved, not a group approval.
    const times = [...new Set(r.groups.filter((g) => g.status === 'APPROVED' && g.decidedAt).map((g) => g.decidedAt!.getTime()))].sort((a, b) => a - b);
    const decided = DECIDED.includes(r.status) || GRANTED.includes(r.status);
    const steps = decided ? times.slice(0, -1) : times;
    for (const t of steps) add('review.group_approved', new Date(t), r.groups.filter((g) => g.status === 'APPROVED' && g.decidedAt!.getTime() <= t).length);
    // An access request's last approval is its grant.
    if (decided) add(r.kind === 'access' ? 'review.access_granted' : 'review.approved', r.decidedAt);
  } else if (r.kind === 'access' && GRANTED.includes(r.status)) {
    // An admin's own window is not announced, but its grant is.
    add('review.access_granted', r.decidedAt);
  }
  if (r.kind === 'access' && r.status === 'ENDED') {
    if (r.accessRevokedAt) add('review.access_revoked', r.accessRevokedAt);
    else add('review.access_ended', r.accessEndsAt ?? null);
  }
  if (r.status === 'REJECTED') add('review.rejected', r.decidedAt);
  if (r.status === 'EXPIRED') add('review.expired', r.decidedAt ?? r.expiresAt);
  if (r.status === 'EXECUTED') add('review.executed', r.finishedAt);
  if (r.status === 'FAILED') add('review.failed', r.finishedAt);
  return out;
}

/** The Teams channel as a Notifier. */
export function createTeamsNotifier(options: TeamsNotifierOptions): Notifier {
  const { db, defaultWebhookUrl, publicUrl, log } = options;
  const timeoutMs = options.timeoutMs ?? 15_000;
  // A claim outlives the post's own timeout by a margin: only a stopped process leaves one that old.
  const leaseMs = timeoutMs + 45_000;
  const now = () => options.clock?.now() ?? new Date();

  function jobsOfNewRequest(request: NewRequest): OutboxEntry[] {
    // An auto-approved request is not announced (nothing to decide); its result is posted.
    return request.status === 'PENDING' ? [entry({ reviewId: request.reviewId, event: 'review.created' })] : [];
  }

  function jobsOf(reviewId: string, t: Transition): OutboxEntry[] {
    const event = eventOf(t);
    if (!event || t.next.groups.length === 0) return [];
    const step = event === 'review.group_approved' ? t.next.groups.filter((g) => g.status === 'APPROVED').length : undefined;
    return [entry({ reviewId, event, ...(step ? { step } : {}) })];
  }

  /** The reminder card of a request still pending (REVIEW_REMINDER_SEC), once per request. */
  function jobsOfReminder(reviewId: string): OutboxEntry[] {
    return [entry({ reviewId, event: REMINDER_EVENT })];
  }

  /** A card with a pending request's impact preview, once measured (a Workflows webhook cannot edit the request's card). */
  function jobsOfPreview(reviewId: string): OutboxEntry[] {
    return [entry({ reviewId, event: PREVIEW_EVENT })];
  }

  async function run(name: string, raw: Record<string, unknown>): Promise<void> {
    if (name !== TEAMS_POST_EVENT) throw new PermanentFailure(`The Teams channel has no job named ${name}.`);
    const parsed = payloadSchema.safeParse(raw);
    if (!parsed.success) throw new PermanentFailure(`A ${name} job with a bad payload: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const p = parsed.data;
    let row;
    try {
      row = await getReview(db, p.reviewId);
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.NotFound) {
        log.warn({ reviewId: p.reviewId, event: p.event }, 'Teams: the request is gone; nothing to post');
        return;
      }
      throw error;
    }
    // A reminder that arrives after the decision or the deadline (its job delayed by an outage) would only mislead.
    if ((p.event === REMINDER_EVENT || p.event === PREVIEW_EVENT) && (row.status !== 'PENDING' || row.expiresAt.getTime() <= now().getTime())) {
      log.info({ reviewId: p.reviewId, status: row.status }, `Teams: the request was decided before this card (${p.event}); nothing posted`);
      return;
    }
    const own = await db.connection.findUnique({ where: { id: row.connectionId }, select: { teamsWebhookUrl: true } });
    const url = own?.teamsWebhookUrl ?? defaultWebhookUrl;
    if (!url) {
      log.warn({ reviewId: p.reviewId, event: p.event, connection: row.connection.name }, "Teams: no Workflows URL for this connection; set its teamsWebhookUrl or TEAMS_WEBHOOK_URL. Nothing posted");
      return;
    }
    const key: PostKey = { reviewId: p.reviewId, channel: 'teams', target: targetOf(url), kind: kindOf(p) };
    const claim = await claimPost(db, key, leaseMs);
    if (claim.outcome === 'posted') {
      log.debug({ reviewId: p.reviewId, kind: key.kind }, 'Teams: this card was posted already');
      return;
    }
    if (claim.outcome === 'held') {
      throw new RetryLater(Math.max(1, Math.ceil((leaseMs - claim.heldForMs) / 1000)), `Teams: another attempt is posting the ${key.kind} card of ${p.reviewId}; waiting for it`);
    }
    // A channel anyone in the team can read shows no output of a connection restricted to some groups.
    const card = teamsCard(p.event, toReviewView(row), { publicUrl, step: p.step, withholdOutput: restrictsOutput(row.connection), now: now() });
    try {
      await postToTeams(url, card, { fetch: options.fetch, timeoutMs, now });
    } catch (error) {
      log.debug({ reviewId: p.reviewId, kind: key.kind, err: (error as Error).message }, 'Teams: post failed');
      await releasePost(db, key, claim.attempts).catch((e: Error) => log.warn({ reviewId: p.reviewId, err: e.message }, 'Teams: could not release a claim; the next attempt waits for its lease'));
      throw error;
    }
    await markPosted(db, key);
    log.info({ reviewId: p.reviewId, kind: key.kind, attempts: claim.attempts }, 'Teams: card posted');
  }

  /** Re-enqueues the cards of the last day's requests that no attempt is known to have posted. */
  async function reconcile(ctx: ReconcileContext): Promise<void> {
    const at = ctx.now;
    const since = new Date(at.getTime() - RECONCILE_WINDOW_MS);
    const due = at.getTime() - RECONCILE_GRACE_MS;
    // A repair gets a job id of its own per 10 minutes: the original job id may still be held by
    // BullMQ (a failed job is kept for days), which would make the re-enqueue a no-op.
    const slot = Math.floor(at.getTime() / 600_000);
    for await (const rows of pages((after): Promise<ReconcileRow[]> => db.review.findMany({
      // An access window ends (or is revoked) up to days after its grant.
      where: { readOnly: false, connection: channelOn('teams', options.byDefault ?? true), OR: [{ createdAt: { gte: since } }, { decidedAt: { gte: since } }, { finishedAt: { gte: since } }, { accessEndsAt: { gte: since } }, { accessRevokedAt: { gte: since } }], ...after },
      ...PAGE,
      select: { id: true, status: true, autoApproved: true, createdAt: true, expiresAt: true, decidedAt: true, finishedAt: true, kind: true, accessEndsAt: true, accessRevokedAt: true, connection: { select: { teamsWebhookUrl: true } }, groups: { select: { status: true, decidedAt: true } } },
    }))) {
      const posted = await postedKinds(db, 'teams', rows.map((r) => r.id));
      // A reminder whose attempts all failed (a Teams outage) while the request still waits: posted
      // late rather than never. Its job refuses to post once the request is decided or due.
      const pendingIds = rows.filter((r) => r.status === 'PENDING').map((r) => r.id);
      const reminders = pendingIds.length ? await unfinishedPosts(db, 'teams', REMINDER_EVENT, pendingIds, new Date(due)) : new Set<string>();
      for (const r of rows) {
        if (!(r.connection.teamsWebhookUrl ?? defaultWebhookUrl)) continue;
        if (reminders.has(r.id)) {
          const e = entry({ reviewId: r.id, event: REMINDER_EVENT }, 'repair-teams');
          await ctx.enqueue({ ...e, jobId: `${e.jobId}-${slot}` });
        }
        // As Slack's repair: a request still pending is announced if it never was; the later cards
        // are repaired only where Teams already holds the request (a claim or a card), so turning
        // Teams on never back-fills a day of requests decided before it was on.
        const known = posted.has(r.id);
        for (const { payload, at: when } of expectedEvents(r)) {
          if (!known && !(payload.event === 'review.created' && r.status === 'PENDING')) continue;
          if (when.getTime() > due || posted.get(r.id)?.has(kindOf(payload))) continue;
          const e = entry(payload, 'repair-teams');
          await ctx.enqueue({ ...e, jobId: `${e.jobId}-${slot}` });
        }
      }
    }
  }

  return { channel: 'teams', jobsOfNewRequest, jobsOf, jobsOfReminder, jobsOfPreview, run, reconcile };
}
