// The app's Home tab: built for one person from what they may see (db/home-reviews.ts), published
// with views.publish when they open it (the Bolt listener) and whenever a request of theirs, or one
// waiting for them, changes (the jobs below).
//
// A change fans out in two steps: `slack.refresh-homes` {reviewId} names the people concerned (the
// requester and the linked members of the request's groups) and adds one `slack.publish-home`
// {userId} each, whose id is per person and per short time slot and which is due at the slot's end.
// A burst of changes (a thousand expiries at once) thus costs each person one views.publish per
// slot, rendered after the burst; views.publish is Tier 4 (100+ per minute per workspace) and a 429
// puts the job back after Slack's Retry-After.
import type { WebClient } from '@slack/web-api';
import { homeView, type HomeView } from '../../bot/home-blocks.js';
import { toReviewListView } from '../../db/review-views.js';
import type { Clock } from '../../core/ports.js';
import type { Db } from '../../db/client.js';
import { loadHomeReviews } from '../../db/home-reviews.js';
import type { OutboxEntry } from '../../db/outbox.js';
import { linkedUsers, viewerBySlackId, viewerByUserId, type SlackViewer } from '../../db/slack-ids.js';
import type { Logger } from '../../logger.js';
import { slackCall, SlackPermanentError } from './slack-jobs.js';

/** The length of a Home refresh slot: changes within one are published together. */
export const HOME_SLOT_MS = 2000;

/** Builds Home views from the database. */
export function createHomeBuilder({ db, clock }: { db: Db; clock?: Clock }) {
  const now = () => clock?.now() ?? new Date();

  async function viewOf(viewer: SlackViewer | null): Promise<HomeView> {
    const at = now();
    if (!viewer) return homeView({ kind: 'not-linked' }, at);
    if (!viewer.active) return homeView({ kind: 'deactivated', email: viewer.email }, at);
    const h = await loadHomeReviews(db, viewer, at);
    return homeView(
      {
        kind: 'linked',
        email: viewer.email,
        waiting: h.waiting.map((w) => ({ review: toReviewListView(w.review), groups: w.groups })),
        waitingTotal: h.waitingTotal,
        mine: h.mine.map(toReviewListView),
        mineTotal: h.mineTotal,
      },
      at,
    );
  }

  return {
    /** The Home of the person with Slack account `slackUserId` (a note to link it when it is not). */
    bySlackId: async (slackUserId: string) => viewOf(await viewerBySlackId(db, slackUserId)),
    /** The Home of hoop user `userId` and where it goes; null when they have no linked Slack account. */
    async byUserId(userId: string): Promise<{ slackUserId: string; view: HomeView } | null> {
      const viewer = await viewerByUserId(db, userId);
      return viewer ? { slackUserId: viewer.slackUserId, view: await viewOf(viewer) } : null;
    },
  };
}

export type HomeBuilder = ReturnType<typeof createHomeBuilder>;

/** The job that republishes `userId`'s Home after the changes of the current slot. */
export function publishHomeEntry(userId: string, nowMs: number): OutboxEntry {
  const slot = Math.floor(nowMs / HOME_SLOT_MS);
  return { name: 'slack.publish-home', payload: { userId }, jobId: `home-${userId}-${slot}`, dueAt: new Date((slot + 1) * HOME_SLOT_MS) };
}

export interface HomeJobsOptions {
  db: Db;
  client: WebClient;
  builder: HomeBuilder;
  log: Logger;
  /** Adds a job to the queue (idempotent by job id). */
  enqueue?: (entry: OutboxEntry) => Promise<void>;
}

/** The Home jobs of the Slack channel. */
export function createHomeJobs({ db, client, builder, log, enqueue }: HomeJobsOptions) {
  /** `slack.refresh-homes`: one publish job per person concerned by the request. */
  async function refreshHomes(reviewId: string): Promise<void> {
    const review = await db.review.findUnique({ where: { id: reviewId }, select: { requesterId: true, groups: { select: { group: true } } } });
    if (!review || !enqueue) return;
    // Every group, not only those still pending: who just decided sees the request leave their list.
    const people = await linkedUsers(db, { userIds: [review.requesterId], groups: review.groups.map((g) => g.group) });
    const now = Date.now();
    for (const p of people) await enqueue(publishHomeEntry(p.id, now));
  }

  /** `slack.publish-home`: the person's Home as it is now. */
  async function publishHome(userId: string): Promise<void> {
    const home = await builder.byUserId(userId);
    if (!home) return;
    try {
      await slackCall(() => client.views.publish({ user_id: home.slackUserId, view: home.view as never }));
    } catch (error) {
      // The Home tab switched off in the app's settings, or the account gone: nothing to show it in.
      if (error instanceof SlackPermanentError && ['not_enabled', 'user_not_found'].includes(error.slackError)) {
        log.warn({ userId, slackError: error.slackError }, 'Slack did not take a Home tab view (turn on the Home tab in the app settings: see manifest.yml)');
        return;
      }
      throw error;
    }
  }

  return { refreshHomes, publishHome };
}
