// The Slack side of a request's one reminder (REVIEW_REMINDER_SEC): a reply in the thread of each
// request message in a channel, and a direct message to each linked reviewer of a pending group who
// has not decided any group of it. Each is a message slot of kind `reminder` (slack-slots.ts), so a
// retried job never posts one twice.
import { reminderDm, reminderReply, safeReminder } from '../../bot/reminder-blocks.js';
import { toReviewView } from '../../db/review-views.js';
import type { Clock } from '../../core/ports.js';
import type { Db } from '../../db/client.js';
import { getReview } from '../../db/reviews.js';
import { linkedUsers } from '../../db/slack-ids.js';
import type { SlackJobs } from './slack-jobs.js';

/** A message target that is a person (their DM with the bot), not a channel. */
const isUserTarget = (target: string) => /^[UW][A-Z0-9_]+$/.test(target);

/** `slack.remind` over the Slack jobs' message slots; `clock` counts "expires in N min". */
export function createSlackReminder({ db, jobs, clock }: { db: Db; jobs: SlackJobs; clock?: Clock }) {
  return async function remind(reviewId: string): Promise<void> {
    const review = await getReview(db, reviewId);
    const now = clock?.now() ?? new Date();
    // Decided, or past its deadline (its expiry not yet written), since the reminder was planned
    // (its job delayed by an outage): it would only mislead.
    if (review.status !== 'PENDING' || review.expiresAt.getTime() <= now.getTime()) return;
    const view = toReviewView(review);
    // The reviewers' own DMs get a direct message below, not a thread reply too.
    const inChannels = (await jobs.postedRequests(reviewId)).filter((m) => !isUserTarget(m.target));
    for (const m of inChannels) await jobs.postOnce(review, m.target, 'reminder', reminderReply(view, now), () => safeReminder(view, now), { channel: m.channel, ts: m.ts });
    const pending = review.groups.filter((g) => g.status === 'PENDING').map((g) => g.group);
    const decided = new Set(review.groups.map((g) => g.reviewerId).filter(Boolean));
    const reviewers = (await linkedUsers(db, { groups: pending })).filter((u) => u.id !== review.requesterId && !decided.has(u.id));
    for (const u of reviewers) await jobs.postOnce(review, u.slackUserId, 'reminder', reminderDm(view, now), () => safeReminder(view, now));
  };
}
