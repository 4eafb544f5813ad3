import { z } from 'zod';

const reviewId = z.string().uuid();

/** Every job the gateway runs, with the payload schema checked at enqueue and at pick-up. */
export const JOB_SCHEMAS = {
  'review.expire': z.object({ reviewId }),
  'review.execute': z.object({ reviewId }),
  'slack.post-review': z.object({ reviewId }),
  'slack.update-review': z.object({ reviewId }),
  'slack.post-result': z.object({ reviewId }),
  'slack.notify-requester': z.object({ reviewId, outcome: z.enum(['rejected', 'expired']) }),
} as const;

export type JobName = keyof typeof JOB_SCHEMAS;
export type JobPayload<N extends JobName> = z.infer<(typeof JOB_SCHEMAS)[N]>;

/** Which queue a job goes to: review work and Slack calls are separate, so Slack never blocks a review. */
export const QUEUE_OF: Record<JobName, 'reviews' | 'slack'> = {
  'review.expire': 'reviews',
  'review.execute': 'reviews',
  'slack.post-review': 'slack',
  'slack.update-review': 'slack',
  'slack.post-result': 'slack',
  'slack.notify-requester': 'slack',
};

/** Parses a payload for `name`; throws a ZodError naming the bad field. */
export function parsePayload<N extends JobName>(name: N, data: unknown): JobPayload<N> {
  return JOB_SCHEMAS[name].parse(data) as JobPayload<N>;
}

/** How a job run in-process ended: done (or failed for good, logged), or to be retried by BullMQ after delayMs. */
export type LocalOutcome = { done: true } | { done: false; delayMs: number };

/** Runs an immediate job in this process at once, or returns null when it is not taken here. */
export type LocalRunner = (name: JobName, payload: unknown) => Promise<LocalOutcome> | null;
