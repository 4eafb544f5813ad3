// The Slack side effects of a review, run as jobs: idempotent (every message has a slot claimed in
// PostgreSQL before it is posted and completed with its channel and ts after) and always rendered
// from the current state.
import { correctionNotice } from '../../bot/suggest-modal.js';
import { ErrorCode as SlackErrorCode, WebClient, type WebAPIPlatformError, type WebAPIRateLimitedError } from '@slack/web-api';
import { requesterNotice, resultMessage, reviewMessage, safeResultMessage, safeReviewMessage, withheldResultMessage, type SlackMessage } from '../../bot/review-blocks.js';
import type { Db } from '../../db/client.js';
import { externalIdOf } from '../../db/identities.js';
import { getReview, type ReviewRow } from '../../db/reviews.js';
import { stateKey, type RequesterOutcome } from '../../core/review-state.js';
import type { Logger } from '../../logger.js';
import { canUseConnection } from '../../core/access.js';
import { restrictsOutput, withoutSamples } from '../../contracts/review-view.js';
import { toReviewView } from '../../db/review-views.js';
import { createSlackSlots, SLACK_ROWS, type SlotKey } from '../../db/slack-slots.js';
import { PermanentFailure, RetryLater } from '../channel.js';
import { findPosted, hoopMetadata } from './slack-find.js';
import { linkedUsers } from '../../db/slack-ids.js';

export interface SlackJobsOptions {
  db: Db;
  client: WebClient;
  defaultChannel?: string;
  /** PUBLIC_URL: request messages link to the request's page in the web app. */
  publicUrl?: string;
  log: Logger;
  /**
   * How long a claim on a message holds without renewal before another job may take it over
   * (its holder died or hangs): longer than two Slack calls (the post and its fallback rendering).
   * Default: twice the client's timeout and two seconds.
   */
  claimTtlMs?: number;
}

/** Another job is posting this message right now: look again shortly (it will be recorded by then). */
export class SlackPostInProgress extends RetryLater {
  constructor(message: string) {
    super(2, message);
  }
}

/** Slack asked us to wait: Retry-After is honoured exactly. */
export class SlackRateLimited extends RetryLater {
  constructor(retryAfterSec: number) {
    super(retryAfterSec, `Slack rate limit: retry after ${retryAfterSec}s`);
  }
}

/** Slack said no in a way a retry cannot fix (unknown channel, bad token...). */
export class SlackPermanentError extends PermanentFailure {
  constructor(
    readonly slackError: string,
    /** Slack's explanation, e.g. "must be less than 3001 characters [json-pointer:/blocks/2/text/text]". */
    readonly details: string[] = [],
  ) {
    super(`Slack refused: ${slackError}${details.length ? ` (${details.join('; ')})` : ''}`);
  }
}

// Slack refused what we rendered: a last, minimal rendering is tried once before giving up.
const RENDERING_REFUSED = new Set(['invalid_blocks', 'msg_blocks_too_long', 'msg_too_long', 'invalid_arguments']);

// Errors that no retry can fix; anything else (5xx, network, timeouts) is retried with backoff.
const PERMANENT = new Set([
  'channel_not_found', 'not_in_channel', 'is_archived', 'invalid_auth', 'not_authed', 'account_inactive', 'token_revoked',
  'user_not_found', 'cant_update_message', 'message_not_found', 'invalid_blocks', 'msg_too_long', 'no_text', 'missing_scope',
  'restricted_action', 'user_disabled', 'team_access_not_granted', 'ekm_access_denied', 'msg_blocks_too_long', 'invalid_arguments',
  // views.publish: the app's Home tab is switched off in its settings.
  'not_enabled',
]);

/** After this long, Slack will not act on a post we gave up waiting for (no more late copies). */
const LATE_COPY_WINDOW_MS = 5 * 60_000;

/** How long a job waits for Slack's answer by default (SLACK_TIMEOUT_MS). */
export const SLACK_TIMEOUT_MS = 15_000;

/** A WebClient for jobs: no retries of its own and rate limits surfaced, so BullMQ does both. */
export function createJobSlackClient(token: string, apiUrl?: string, timeoutMs = SLACK_TIMEOUT_MS): WebClient {
  return new WebClient(token, { slackApiUrl: apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: timeoutMs });
}

/** A Slack call with its failures mapped: 429 → SlackRateLimited (a RetryLater), refusals no retry fixes → SlackPermanentError. */
export async function slackCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const e = error as { code?: string };
    if (e.code === SlackErrorCode.RateLimitedError) throw new SlackRateLimited((error as WebAPIRateLimitedError).retryAfter);
    if (e.code === SlackErrorCode.PlatformError) {
      const data = (error as WebAPIPlatformError).data as WebAPIPlatformError['data'] & { errors?: string[] };
      if (PERMANENT.has(data.error)) throw new SlackPermanentError(data.error, data.errors ?? data.response_metadata?.messages ?? []);
    }
    throw error;
  }
}

export type SlackJobs = ReturnType<typeof createSlackJobs>;

/**
 * What a request message shows, as one key: the review's state, and whether its impact preview
 * (issue 14) has arrived since it was posted — a preview changes the message but not the state.
 */
export function slackStateKey(review: { status: string; groups: readonly { status: string }[]; preview?: unknown }): string {
  const p = review.preview as { state?: string } | null | undefined;
  return p && p.state !== 'pending' ? `${stateKey(review)}-p` : stateKey(review);
}

const fingerprint = slackStateKey;

/** Just what the fingerprint needs: a light query for "did the review change meanwhile?". */
async function currentFingerprint(db: Db, reviewId: string): Promise<string> {
  const r = await db.review.findUniqueOrThrow({ where: { id: reviewId }, select: { status: true, preview: true, groups: { select: { status: true }, orderBy: { group: 'asc' } } } });
  return fingerprint(r);
}

/** The Slack job handlers over the database and a WebClient. */
export function createSlackJobs({ db, client, defaultChannel, publicUrl, log, claimTtlMs }: SlackJobsOptions) {
  const slots = createSlackSlots(db, claimTtlMs ?? 2 * SLACK_TIMEOUT_MS + 2000);

  /**
   * Sends `message`; when Slack refuses its rendering anyway (a limit we did not foresee), sends
   * `fallback` once instead, so a decided request never keeps live buttons and a result always
   * reaches its thread.
   */
  async function sendRendered<T>(reviewId: string, message: SlackMessage, fallback: () => SlackMessage, send: (m: SlackMessage) => Promise<T>): Promise<T> {
    try {
      return await slackCall(() => send(message));
    } catch (error) {
      if (!(error instanceof SlackPermanentError && RENDERING_REFUSED.has(error.slackError))) throw error;
      log.warn({ reviewId, slackError: error.slackError, details: error.details }, 'Slack refused a rendering; sending the minimal one instead');
      return slackCall(() => send(fallback()));
    }
  }

  /**
   * Looks in Slack for the message of `key`, which an earlier attempt may have posted. A search
   * Slack refuses for good (a missing *:history scope, a channel the bot is not in) cannot tell:
   * then the message is posted, and the refusal logged, since a request nobody sees is worse.
   */
  async function lookForPosted(key: SlotKey, since: Date, channel?: string) {
    try {
      return await slackCall(() => findPosted(client, { target: key.target, channel, threadTs: key.threadTs || undefined, metadata: hoopMetadata(key.reviewId, key.kind), since }));
    } catch (error) {
      if (!(error instanceof SlackPermanentError)) throw error;
      log.warn({ reviewId: key.reviewId, target: key.target, kind: key.kind, slackError: error.slackError }, 'cannot look for an earlier post of this Slack message; posting it (a duplicate is possible)');
      return [];
    }
  }

  /**
   * Posts `message` to `target` once. Its slot is claimed in PostgreSQL first, so a second job
   * (a repair by the sweep, a retry) waits instead of posting too. When an earlier attempt's
   * outcome is unknown (a timeout, a 5xx, a process killed between Slack's answer and the record),
   * Slack is searched for the message by its metadata and the one found is adopted.
   * `thread`: the parent of a thread reply. `adoptOnly`: the target is gone (unsubscribed): an
   * earlier post found is adopted, else the slot is dropped and nothing is sent.
   */
  async function postOnce(review: ReviewRow, target: string, kind: string, message: SlackMessage, fallback: () => SlackMessage, thread?: { channel: string; ts: string }, opts: { adoptOnly?: boolean } = {}): Promise<void> {
    const key: SlotKey = { reviewId: review.id, target, kind, threadTs: thread?.ts ?? '' };
    const claim = await slots.claim(key);
    if (claim.outcome === 'posted') return;
    const busy = () => new SlackPostInProgress(`another job is posting the ${kind} message of ${review.id} to ${target}`);
    if (claim.outcome === 'busy') throw busy();
    const state = kind === 'request' ? slackStateKey(review) : null;
    try {
      if (claim.resumed) {
        const found = await lookForPosted(key, claim.since, thread?.channel);
        if (found.length > 0) {
          log.info({ reviewId: review.id, target, kind, found: found.length }, 'adopted a Slack message an earlier attempt posted');
          // What it shows is not known: null makes the update below (and the sweep) render it anew.
          await slots.record(key, claim, found, null);
          return;
        }
        if (!(await slots.renew(claim.id, claim.token))) throw busy();
      }
      if (opts.adoptOnly) return await slots.forget(claim.id, claim.token);
      const metadata = hoopMetadata(review.id, kind);
      const res = await sendRendered(review.id, message, fallback, (m) =>
        client.chat.postMessage({ channel: target, text: m.text, blocks: m.blocks as never, thread_ts: thread?.ts, unfurl_links: false, metadata }),
      );
      if (!res.channel || !res.ts) throw new Error('Slack answered chat.postMessage without channel or ts');
      // Posted after an attempt of unknown outcome: Slack may yet act on that one too.
      await slots.record(key, claim, [{ channel: res.channel, ts: res.ts }], state, claim.resumed);
    } catch (error) {
      // Whatever happened, the next attempt may take the slot (at once, or after Slack's
      // Retry-After); it searches Slack first.
      // A 429 on a first attempt: Slack refused before acting, so nothing of this message exists.
      const limited = error instanceof SlackRateLimited;
      await slots.release(claim.id, claim.token, limited ? error.retryAfterSec : 0, limited && !claim.resumed).catch(() => {});
      throw error;
    }
  }

  async function reviewTargets(review: ReviewRow): Promise<string[]> {
    const channel = review.connection.slackChannel ?? defaultChannel;
    const targets = channel ? [channel] : [];
    if (review.autoApproved) return targets;
    const members = await linkedUsers(db, { groups: review.groups.map((g) => g.group) });
    return [...targets, ...members.filter((m) => m.id !== review.requesterId).map((m) => m.slackUserId)];
  }

  /** `slack.post-review`: the request message to the channel and to every linked reviewer. */
  async function postReview(reviewId: string): Promise<void> {
    const review = await getReview(db, reviewId);
    const targets = await reviewTargets(review);
    if (targets.length === 0) {
      log.warn({ reviewId }, 'no Slack target for this review: set the connection\'s slackChannel or SLACK_CHANNEL, and have reviewers run /hoop subscribe');
    }
    // A request message may sit in a channel anyone reads: a restricted connection's sample rows stay out of it.
    const view = restrictsOutput(review.connection) ? withoutSamples(toReviewView(review)) : toReviewView(review);
    const message = reviewMessage(view, publicUrl);
    // One after the other: a 429 (or any failure) stops the job before the next call, so Slack's
    // Retry-After is honoured for every target.
    for (const target of targets) await postOnce(review, target, 'request', message, () => safeReviewMessage(view));
    // One read of the request's slots: those left unfinished to someone who is no longer a target,
    // and what the posted ones show.
    const slotsNow = await db.channelMessage.findMany({ where: { ...SLACK_ROWS, reviewId, kind: 'request' }, select: { target: true, status: true, copy: true, state: true } });
    // A post left unfinished to someone who is no longer a target (unsubscribed or deactivated
    // since) may have reached Slack: if so it is adopted (and updated below), else never sent.
    const gone = slotsNow.filter((m) => m.status === 'posting' && m.copy === 0 && !targets.includes(m.target));
    for (const { target } of gone) await postOnce(review, target, 'request', message, () => safeReviewMessage(view), undefined, { adoptOnly: true });
    // The review may have moved on while we posted (a fast approval through the API), and an
    // adopted message shows what an earlier attempt rendered: bring them up to date and give them
    // their thread reply too; both steps are idempotent.
    const now = await currentFingerprint(db, reviewId);
    const shown = gone.length ? await db.channelMessage.findMany({ where: { ...SLACK_ROWS, reviewId, kind: 'request', status: 'posted' }, select: { state: true } }) : slotsNow.filter((m) => m.status === 'posted');
    if (now !== fingerprint(review) || shown.some((m) => m.state !== now)) await updateReview(reviewId);
    if (/^(EXECUTED|FAILED)-/.test(now)) await postResult(reviewId);
  }

  /** `slack.update-review`: every message of the review updated in place to its current state. */
  async function updateReview(reviewId: string): Promise<void> {
    await adoptLateCopies(reviewId);
    // Two updates may run at once and finish out of order; re-render until the state held still.
    for (let round = 0; round < 3; round++) {
      const review = await getReview(db, reviewId);
      const view = restrictsOutput(review.connection) ? withoutSamples(toReviewView(review)) : toReviewView(review);
      const message = reviewMessage(view, publicUrl);
      // Every message of the request, copies included: none may keep live buttons.
      const posted = await postedRequests(reviewId);
      const shown = slackStateKey(review);
      const metadata = hoopMetadata(reviewId, 'request');
      for (const m of posted) {
        // Already showing this state (an earlier job, or the sweep's repair of a burst whose own
        // update waits out Slack's Retry-After): another chat.update would only spend the rate limit.
        if (m.state === shown) continue;
        try {
          await sendRendered(reviewId, message, () => safeReviewMessage(view), (x) => client.chat.update({ channel: m.channel, ts: m.ts, text: x.text, blocks: x.blocks as never, metadata }));
        } catch (error) {
          // Deleted in Slack (by a person, say): nothing is left to update; the others still are.
          if (!(error instanceof SlackPermanentError && error.slackError === 'message_not_found')) throw error;
          log.warn({ reviewId, channel: m.channel, ts: m.ts }, 'a request message was deleted in Slack; not updating it');
        }
        await db.channelMessage.update({ where: { id: m.id }, data: { state: shown } });
      }
      if ((await currentFingerprint(db, reviewId)) === fingerprint(review)) return;
    }
  }

  /**
   * A request message posted after an attempt whose outcome stayed unknown has a twin if Slack
   * acted on that attempt after our search: look again, and record any found as a copy, so it is
   * updated (and answered in its thread) like the others.
   */
  async function adoptLateCopies(reviewId: string): Promise<void> {
    const doubtful = await db.channelMessage.findMany({ where: { ...SLACK_ROWS, reviewId, kind: 'request', status: 'posted', copy: 0, searchAgain: true } });
    for (const m of doubtful) {
      const key: SlotKey = { reviewId, target: m.target, kind: 'request', threadTs: '' };
      const found = await lookForPosted(key, m.firstSentAt ?? m.createdAt, m.conversationRef ?? undefined);
      for (const f of found) await slots.addCopy(key, f, null);
      if (found.length > 1) log.warn({ reviewId, target: m.target, copies: found.length }, 'Slack holds more than one request message here; all are kept up to date');
      // Slack does not act on a request minutes old: a search this late settles it.
      if (Date.now() - (m.firstSentAt ?? m.createdAt).getTime() > LATE_COPY_WINDOW_MS) await db.channelMessage.update({ where: { id: m.id }, data: { searchAgain: false } });
    }
  }

  /** The request messages Slack holds, oldest first. */
  async function postedRequests(reviewId: string) {
    const rows = await db.channelMessage.findMany({ where: { ...SLACK_ROWS, reviewId, kind: 'request', status: 'posted' }, orderBy: [{ createdAt: 'asc' }, { copy: 'asc' }] });
    // Posted Slack rows always have both (a CHECK constraint says so).
    return rows.map((m) => ({ id: m.id, target: m.target, state: m.state, channel: m.conversationRef!, ts: m.messageRef! }));
  }

  /** The requester's Slack id, unless they are deactivated (who is gone gets nothing more). */
  function reachableRequester(review: ReviewRow): string | null {
    return review.requester.active ? externalIdOf(review.requester) : null;
  }

  type Reader = { id: string; email: string; isAdmin: boolean; groups: string[]; active: boolean };

  /**
   * Who can read the thread under a message at `target` may read the result: everyone may, unless
   * the connection has allowed groups. Then only its own, explicitly set channel and the direct
   * messages of people allowed to use it qualify; the gateway-wide default channel, or any other,
   * does not. `reader`: the user whose DM `target` is, if any.
   */
  function mayShowResult(review: ReviewRow, target: string, reader: Reader | undefined): boolean {
    // The DM of someone deactivated since the request was posted gets no result.
    if (reader && !reader.active) return false;
    const connection = review.connection;
    if (!restrictsOutput(connection)) return true;
    if (connection.slackChannel && target === connection.slackChannel) return true;
    return reader !== undefined && canUseConnection(reader, connection);
  }

  /** `slack.post-result`: the outcome as a thread reply under each request message, and a DM to the requester. */
  async function postResult(reviewId: string): Promise<void> {
    const review = await getReview(db, reviewId);
    const view = toReviewView(review);
    const posted = await postedRequests(reviewId);
    // The people whose DMs the request was posted to, in one query.
    const readers = await db.identity.findMany({
      where: { provider: 'slack', externalId: { in: posted.map((m) => m.target) } },
      select: { externalId: true, user: { select: { id: true, email: true, isAdmin: true, groups: true, active: true } } },
    });
    const readerOf = new Map(readers.map((r) => [r.externalId, r.user]));
    for (const m of posted) {
      const message = mayShowResult(review, m.target, readerOf.get(m.target)) ? resultMessage(view) : withheldResultMessage(view);
      await postOnce(review, m.target, 'result', message, () => safeResultMessage(view), { channel: m.channel, ts: m.ts });
    }
    const requesterSlackId = reachableRequester(review);
    if (requesterSlackId && !posted.some((m) => m.target === requesterSlackId)) {
      await postOnce(review, requesterSlackId, 'requester-result', requesterNotice(view), () => safeResultMessage(view));
    }
  }

  /** `slack.notify-requester`: tells a linked requester their request was rejected or expired, or of their access window (granted, revoked, ended). */
  async function notifyRequester(reviewId: string, outcome: Exclude<RequesterOutcome, 'approved'>): Promise<void> {
    const review = await getReview(db, reviewId);
    const requesterSlackId = reachableRequester(review);
    if (!requesterSlackId) return;
    const view = toReviewView(review);
    // Rejected by a suggested change: the requester is told of the correction, with its diff and an Accept button.
    if (outcome === 'rejected' && view.correctedBy) {
      const correction = toReviewView(await getReview(db, view.correctedBy));
      await postOnce(review, requesterSlackId, `requester-${outcome}`, correctionNotice(correction), () => safeResultMessage(view));
      return;
    }
    await postOnce(review, requesterSlackId, `requester-${outcome}`, requesterNotice(view, outcome), () => safeResultMessage(view));
  }

  // postOnce and postedRequests: the slot mechanism, for the reminder (slack-reminder.ts).
  return { postReview, updateReview, postResult, notifyRequester, postOnce, postedRequests };
}
