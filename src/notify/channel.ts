// One notification design for every channel (Slack, Microsoft Teams, signed webhooks, ...): a
// channel is a Notifier. The use cases never name a channel: a transition's jobs are asked of the
// notifiers that are on for the review's connection (registry.ts), written to the outbox in the
// transition's transaction, and run by one generic worker per channel queue.
import type { Transition } from '../core/review-state.js';
import type { OutboxEntry } from '../db/outbox.js';

export const CHANNEL_NAMES = ['slack', 'teams', 'webhooks'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

/** What happened to a request, in the words every channel uses (and the webhook event types). */
export const REVIEW_EVENTS = [
  'review.created',
  'review.group_approved',
  'review.approved',
  'review.rejected',
  'review.expired',
  'review.executed',
  'review.failed',
  // An access request's window (Just-in-Time access): opened, closed on time, closed early.
  'review.access_granted',
  'review.access_ended',
  'review.access_revoked',
] as const;
export type ReviewEventType = (typeof REVIEW_EVENTS)[number];

/**
 * A reminder to the reviewers of a request still pending (REVIEW_REMINDER_SEC): not a transition,
 * so not one of REVIEW_EVENTS, which are also the webhook event types.
 */
export const REMINDER_EVENT = 'review.reminder';
/** A request's impact preview arrived (issue 14): not a transition either, nor a webhook event. */
export const PREVIEW_EVENT = 'review.previewed';
/** What the channels post about: the events, the reminder and the preview. */
export const NOTICE_EVENTS = [...REVIEW_EVENTS, REMINDER_EVENT, PREVIEW_EVENT] as const;
export type NoticeEvent = (typeof NOTICE_EVENTS)[number];

/** The event a transition is, for the channels; null for one they do not announce (a run starting). */
export function eventOf(t: Transition): ReviewEventType | null {
  return (REVIEW_EVENTS as readonly string[]).includes(t.action) ? (t.action as ReviewEventType) : null;
}

/** A channel's job asks to run again after `retryAfterSec` without spending an attempt (429 Retry-After, a post held by another job). */
export class RetryLater extends Error {
  constructor(
    readonly retryAfterSec: number,
    message: string,
  ) {
    super(message);
  }
}

/** A channel's job failed in a way no retry can fix (a refused URL, a bad token): it is not retried. */
export class PermanentFailure extends Error {}

/** A new request as the notifiers see it at submit. */
export interface NewRequest {
  reviewId: string;
  /** PENDING (to be announced to its reviewers), or auto-approved (shown so reviewers see what ran). */
  status: 'PENDING' | 'APPROVED';
  autoApproved: boolean;
}

/** Something the gateway's admins must hear of; `id` makes telling it twice one job. */
export interface AdminNotice {
  id: string;
  text: string;
}

/** What the sweep gives a notifier to repair what lost jobs left undone. */
export interface ReconcileContext {
  now: Date;
  /** Enqueues a repair job (idempotent by job id; give repairs ids per time slot). */
  enqueue(entry: OutboxEntry): Promise<void>;
}

/** One channel. Every method is optional but `channel` and `run`. */
export interface Notifier {
  readonly channel: ChannelName;
  /** The jobs a new request causes on this channel (announce it). */
  jobsOfNewRequest?(request: NewRequest): OutboxEntry[];
  /** The jobs a transition causes (update what was posted, publish the result, tell the requester). */
  jobsOf?(reviewId: string, t: Transition): OutboxEntry[];
  /** The jobs of the one reminder of a request still pending (written with its `review.reminded` audit event). */
  jobsOfReminder?(reviewId: string): OutboxEntry[];
  /** The jobs that show a request's impact preview, once measured. */
  jobsOfPreview?(reviewId: string): OutboxEntry[];
  /** The jobs that tell the gateway's admins something (a webhook endpoint disabled). */
  jobsOfAdminNotice?(notice: AdminNotice): OutboxEntry[];
  /** Runs one of this channel's jobs (its names start with `<channel>.`). Throws RetryLater/PermanentFailure as above. */
  run(name: string, payload: Record<string, unknown>): Promise<void>;
  /** The sweep: re-enqueues what lost jobs or stopped processes left undone on this channel. */
  reconcile?(ctx: ReconcileContext): Promise<void>;
  /** Stops timers and closes clients. */
  close?(): Promise<void>;
}
