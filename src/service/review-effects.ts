// What happens after a review's transition is committed: the change is published and its effects
// are enqueued as jobs. Never before the commit, so a rolled-back decision has no effects.
import { stateKey, type Transition } from '../core/review-state.js';
import type { JobQueue } from '../jobs/queues.js';
import type { Logger } from '../logger.js';
import type { ReviewEvents } from './review-events.js';

export interface EffectsOptions {
  jobs: JobQueue;
  events: ReviewEvents;
  log: Logger;
  slackEnabled: boolean;
}

export type AfterCommit = (reviewId: string, t: Transition) => Promise<void>;

/** The after-commit step shared by every use case. */
export function createAfterCommit({ jobs, events, log, slackEnabled }: EffectsOptions): AfterCommit {
  return async (reviewId, t) => {
    // Enqueue failures are logged, not thrown: the decision is committed; the sweep re-enqueues
    // executions of approved reviews and expiries of pending ones.
    const tasks: Promise<unknown>[] = [events.publish(reviewId)];
    // One update job per state the review reaches: re-enqueueing the same state is a no-op.
    const state = stateKey(t.next);
    for (const effect of t.effects) {
      if (effect.type === 'execute') {
        tasks.push(jobs.enqueue('review.execute', { reviewId }, { jobId: `execute-${reviewId}` }));
      } else if (effect.type === 'update-messages' && slackEnabled) {
        tasks.push(jobs.enqueue('slack.update-review', { reviewId }, { jobId: `update-${reviewId}-${state}` }));
      } else if (effect.type === 'notify-requester' && effect.outcome !== 'approved' && slackEnabled) {
        tasks.push(jobs.enqueue('slack.notify-requester', { reviewId, outcome: effect.outcome }, { jobId: `notify-${reviewId}-${effect.outcome}` }));
      }
    }
    const results = await Promise.allSettled(tasks);
    for (const r of results) {
      if (r.status === 'rejected') log.error({ err: r.reason, reviewId }, 'could not enqueue a side effect after commit');
    }
  };
}
