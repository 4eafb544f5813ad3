// Slack as a channel: the request message to the channel and each linked reviewer's DM, updated in
// place as the request moves, the result in each message's thread and to the requester, and the
// sweep's repair of what a lost job left (src/notify/slack/slack-jobs.ts does the posting).
import { stateKey, type RequesterOutcome, type ReviewStatus, type Transition } from '../../core/review-state.js';
import type { Db } from '../../db/client.js';
import { SLACK_ROWS } from '../../db/slack-slots.js';
import type { OutboxEntry } from '../../db/outbox.js';
import { PAGE, pages } from '../../db/pages.js';
import { channelOn } from '../registry.js';
import { PermanentFailure, type NewRequest, type Notifier, type ReconcileContext } from '../channel.js';
import { slackStateKey, type SlackJobs } from './slack-jobs.js';
import type { createHomeJobs } from './slack-home.js';

/** The Slack notifier over its job handlers (absent in a process that only plans jobs). */
export function createSlackNotifier({ db, jobs, home, remind, notifyAdmins }: { db: Db; jobs?: SlackJobs; home?: ReturnType<typeof createHomeJobs>; remind?: (reviewId: string) => Promise<void>; notifyAdmins?: (text: string) => Promise<number> }): Notifier {
  return {
    channel: 'slack',
    jobsOfNewRequest,
    jobsOf: slackJobsOf,
    jobsOfAdminNotice: (notice) => [{ name: 'slack.notify-admins', payload: { noticeId: notice.id, text: notice.text }, jobId: `admins-${notice.id}` }],
    jobsOfReminder: (reviewId) => [{ name: 'slack.remind', payload: { reviewId }, jobId: `slack-remind-${reviewId}` }],
    // The request message (and its DMs) shows the preview once measured.
    jobsOfPreview: (reviewId) => [{ name: 'slack.update-review', payload: { reviewId }, jobId: `update-${reviewId}-preview` }],
    async run(name, payload) {
      if (!jobs || !home || !remind || !notifyAdmins) throw new PermanentFailure(`${name}: Slack is switched off in this process`);
      if (name === 'slack.publish-home') return home.publishHome(String(payload.userId));
      if (name === 'slack.notify-admins') return void (await notifyAdmins(String(payload.text)));
      const reviewId = String(payload.reviewId);
      if (name === 'slack.post-review') await jobs.postReview(reviewId);
      else if (name === 'slack.update-review') await jobs.updateReview(reviewId);
      else if (name === 'slack.post-result') await jobs.postResult(reviewId);
      else if (name === 'slack.notify-requester') await jobs.notifyRequester(reviewId, payload.outcome as Exclude<RequesterOutcome, 'approved'>);
      else if (name === 'slack.remind') await remind(reviewId);
      else if (name === 'slack.refresh-homes') await home.refreshHomes(reviewId);
      else throw new PermanentFailure(`${name} is not a Slack job`);
    },
    reconcile: (ctx) => reconcileSlack(db, ctx),
  };
}

/** A new request is posted; an auto-approved one too, so reviewers see what ran on their connection (its result goes in the thread). */
function jobsOfNewRequest(request: NewRequest): OutboxEntry[] {
  if (request.status !== 'PENDING' && !request.autoApproved) return [];
  const post: OutboxEntry = { name: 'slack.post-review', payload: { reviewId: request.reviewId }, jobId: `post-${request.reviewId}` };
  // A new request waits for its reviewers: it joins their Home tabs (and its requester's).
  return request.status === 'PENDING' ? [post, refreshHomes(request.reviewId, 'new')] : [post];
}

/** The Home tabs of the people concerned by a request, republished once per state it reaches. */
const refreshHomes = (reviewId: string, state: string): OutboxEntry => ({ name: 'slack.refresh-homes', payload: { reviewId }, jobId: `homes-${reviewId}-${state}` });

/** The Slack jobs of a transition (one update job per state reached: the same state twice is one job). */
export function slackJobsOf(reviewId: string, t: Transition): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  const state = stateKey(t.next);
  for (const effect of t.effects) {
    if (effect.type === 'update-messages') {
      out.push({ name: 'slack.update-review', payload: { reviewId }, jobId: `update-${reviewId}-${state}` });
      out.push(refreshHomes(reviewId, state));
    } else if (effect.type === 'notify-requester' && effect.outcome !== 'approved') {
      out.push({ name: 'slack.notify-requester', payload: { reviewId, outcome: effect.outcome }, jobId: `notify-${reviewId}-${effect.outcome}` });
    }
  }
  // A finished run's result goes to the thread of the request.
  if (t.next.status === 'EXECUTED' || t.next.status === 'FAILED') {
    out.push({ name: 'slack.post-result', payload: { reviewId }, jobId: `result-${reviewId}` });
  }
  return out;
}

/** The requester's direct messages a job may leave unfinished (a result's is repaired with the result). */
const REQUESTER_NOTICES = ['rejected', 'expired', 'granted', 'revoked', 'ended'] as const satisfies readonly RequesterOutcome[];

/** What the Slack reconciliation needs of a review. */
interface ReconcileRow {
  id: string;
  status: ReviewStatus;
  preview: unknown;
  finishedAt: Date | null;
  groups: { status: string }[];
  channelMessages: { kind: string; state: string | null; status: string; messageRef: string | null; parentRef: string; claimToken: string | null; claimedAt: Date | null; searchAgain: boolean }[];
}

/**
 * Slack, eventually right: a pending request never posted (its job lost with a Redis flush or an
 * outage at submit) is posted; a request message (every copy of it) that shows an older state than
 * its review gets an update, a request message without its thread reply gets one, and a message
 * whose post was left unfinished (its job failed or its process died after claiming it) is
 * finished by a repair that looks for it in Slack first. Repairs get their own job ids (one per 10
 * minutes) so a failed original job does not block them.
 */
async function reconcileSlack(db: Db, ctx: ReconcileContext): Promise<void> {
  // An existing job id makes this a no-op.
  for await (const page of pages((after) => db.review.findMany({ where: { status: 'PENDING', channelMessages: { none: { ...SLACK_ROWS, kind: 'request' } }, connection: channelOn('slack'), ...after }, ...PAGE, select: { id: true } }))) {
    for (const r of page) await ctx.enqueue({ name: 'slack.post-review', payload: { reviewId: r.id }, jobId: `post-${r.id}` });
  }
  const since = new Date(ctx.now.getTime() - 24 * 3600_000);
  for await (const page of pages((after) => db.review.findMany({
    // An access window is decided when granted and changes again when it ends, maybe days later.
    where: { OR: [{ status: 'PENDING' }, { decidedAt: { gte: since } }, { status: 'GRANTED' }, { accessEndsAt: { gte: since } }, { accessRevokedAt: { gte: since } }], channelMessages: { some: SLACK_ROWS }, ...after },
    ...PAGE,
    select: {
      id: true,
      status: true,
      finishedAt: true,
      preview: true,
      groups: { select: { status: true }, orderBy: { group: 'asc' } },
      channelMessages: { where: SLACK_ROWS, select: { kind: true, state: true, status: true, messageRef: true, parentRef: true, claimToken: true, claimedAt: true, searchAgain: true } },
    },
  }))) await reconcilePage(page, ctx);
}

async function reconcilePage(reviews: ReconcileRow[], { now, enqueue }: ReconcileContext): Promise<void> {
  const slot = Math.floor(now.getTime() / 600_000);
  // An unfinished post whose claim was released (its attempt failed; claimedAt is then when it
  // may be tried again, after Slack's Retry-After) or not renewed for a while (its process may be
  // gone) gets a repair job; the repair waits while the claim is alive and takes it over once
  // stale, so a repair enqueued early costs a few polls, never a second post.
  const abandoned = (m: { status: string; claimToken: string | null; claimedAt: Date | null }) =>
    m.status === 'posting' &&
    (m.claimedAt === null || (m.claimToken === null ? m.claimedAt.getTime() <= now.getTime() : m.claimedAt.getTime() < now.getTime() - 5_000));
  for (const r of reviews) {
    const key = slackStateKey(r);
    const requests = r.channelMessages.filter((m) => m.kind === 'request');
    const posted = requests.filter((m) => m.status === 'posted');
    // searchAgain: a late copy of the message may have appeared; the update looks for it.
    if (posted.some((m) => m.state !== key || m.searchAgain)) {
      await enqueue({ name: 'slack.update-review', payload: { reviewId: r.id }, jobId: `repair-update-${r.id}-${key}-${slot}` });
    }
    if (requests.some(abandoned)) await enqueue({ name: 'slack.post-review', payload: { reviewId: r.id }, jobId: `repair-post-${r.id}-${slot}` });
    // A result finished moments ago is still being posted by its own job: repair only what is late.
    const late = r.finishedAt !== null && r.finishedAt.getTime() < now.getTime() - 15_000;
    const results = r.channelMessages.filter((m) => m.kind === 'result' && m.status === 'posted');
    const unanswered = posted.some((q) => !results.some((m) => m.parentRef === q.messageRef));
    const unfinished = r.channelMessages.some((m) => (m.kind === 'result' || m.kind === 'requester-result') && abandoned(m));
    if ((r.status === 'EXECUTED' || r.status === 'FAILED') && ((late && unanswered) || unfinished)) {
      await enqueue({ name: 'slack.post-result', payload: { reviewId: r.id }, jobId: `repair-result-${r.id}-${slot}` });
    }
    // A reminder left unfinished (its job out of attempts in a Slack outage) while the request still
    // waits: the repair posts what is missing (each target's slot makes it once).
    if (r.status === 'PENDING' && r.channelMessages.some((m) => m.kind === 'reminder' && abandoned(m))) {
      await enqueue({ name: 'slack.remind', payload: { reviewId: r.id }, jobId: `repair-remind-${r.id}-${slot}` });
    }
    for (const outcome of REQUESTER_NOTICES) {
      if (r.channelMessages.some((m) => m.kind === `requester-${outcome}` && abandoned(m))) {
        await enqueue({ name: 'slack.notify-requester', payload: { reviewId: r.id, outcome }, jobId: `repair-notify-${r.id}-${outcome}-${slot}` });
      }
    }
  }
}
