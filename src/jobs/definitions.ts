import { z } from 'zod';
import { CHANNEL_NAMES, NOTICE_EVENTS, REVIEW_EVENTS, type ChannelName } from '../notify/channel.js';

const reviewId = z.string().uuid();
const event = z.enum(REVIEW_EVENTS);

/** Every job the gateway runs, with the payload schema checked at enqueue and at pick-up. */
export const JOB_SCHEMAS = {
  'review.expire': z.object({ reviewId }),
  'review.execute': z.object({ reviewId }),
  // At an access window's end: records that it ended and tells the channels (the window is closed by its end time already).
  'review.end-access': z.object({ reviewId }),
  // Once per write request: measures what it would change (issue 14) and has the channels show it.
  'review.preview': z.object({ reviewId }),
  // Once per request, at REVIEW_REMINDER_SEC: plans the reminder on the connection's channels.
  'review.remind': z.object({ reviewId }),
  'slack.post-review': z.object({ reviewId }),
  'slack.update-review': z.object({ reviewId }),
  'slack.post-result': z.object({ reviewId }),
  'slack.notify-requester': z.object({ reviewId, outcome: z.enum(['rejected', 'expired', 'granted', 'revoked', 'ended']) }),
  'slack.remind': z.object({ reviewId }),
  // A request changed: the Home tab of each person concerned is republished (one job per person).
  'slack.refresh-homes': z.object({ reviewId }),
  'slack.publish-home': z.object({ userId: z.string().uuid() }),
  'slack.notify-admins': z.object({ noticeId: z.string().min(1).max(200), text: z.string().min(1).max(3000) }),
  // step: which group approval of a request this is (several are events of one type).
  'teams.post-event': z.object({ reviewId, event: z.enum(NOTICE_EVENTS), step: z.number().int().positive().optional() }),
  'webhooks.dispatch': z.object({ reviewId, event }),
  'webhooks.deliver': z.object({ deliveryId: z.string().uuid() }),
} as const;

export type JobName = keyof typeof JOB_SCHEMAS;
export type JobPayload<N extends JobName> = z.infer<(typeof JOB_SCHEMAS)[N]>;

/** The queues: review work, and one per channel, so a channel's outage never holds a review or another channel. */
export type QueueKind = 'reviews' | ChannelName;
export const QUEUE_KINDS: readonly QueueKind[] = ['reviews', ...CHANNEL_NAMES];

/** Which queue a job goes to: a channel's jobs are named `<channel>.<what>`. */
export const QUEUE_OF = Object.fromEntries(Object.keys(JOB_SCHEMAS).map((name) => [name, name.split('.')[0] === 'review' ? 'reviews' : name.split('.')[0]])) as Record<JobName, QueueKind>;

/** Parses a payload for `name`; throws a ZodError naming the bad field. */
export function parsePayload<N extends JobName>(name: N, data: unknown): JobPayload<N> {
  return JOB_SCHEMAS[name].parse(data) as JobPayload<N>;
}

/** How a job run in-process ended: done (or failed for good, logged), or to be retried by BullMQ after delayMs. */
export type LocalOutcome = { done: true } | { done: false; delayMs: number };

/** Runs an immediate job in this process at once, or returns null when it is not taken here. */
export type LocalRunner = (name: JobName, payload: unknown) => Promise<LocalOutcome> | null;
