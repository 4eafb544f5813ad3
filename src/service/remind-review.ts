// The reminder of a request still pending at REVIEW_REMINDER_SEC: once per request, on every
// channel on for its connection. Load → decide (still pending, not yet expired, not reminded yet)
// → one transaction writes the `review.reminded` audit event and the channels' jobs to the outbox
// → after the commit, they are relayed. The job id (remind-<id>) and the audit event make a second
// run (a retry, the sweep's re-plan) a no-op.
import type { Clock } from '../core/ports.js';
import { recordAudit, SYSTEM_ACTOR } from '../db/audit.js';
import type { Db } from '../db/client.js';
import { lockReview } from '../db/reviews.js';
import { AppError, ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { NotifierRegistry } from '../notify/registry.js';
import type { Outbox } from './review-effects.js';

export const REMINDED_ACTION = 'review.reminded';

export interface RemindReviewOptions {
  db: Db;
  outbox: Outbox;
  notifiers: NotifierRegistry;
  clock: Clock;
  log: Logger;
}

/** Why a reminder was not sent, or 'sent'. */
export type RemindOutcome = 'sent' | 'not-pending' | 'expired' | 'already-reminded' | 'gone';

/** `review.remind`: reminds the reviewers of `reviewId` once, if it still waits for them. */
export function createRemindReview({ db, outbox, notifiers, clock, log }: RemindReviewOptions) {
  return async function remindReview(reviewId: string): Promise<RemindOutcome> {
    const now = clock.now();
    let outcome: RemindOutcome;
    try {
      outcome = await db.$transaction(async (tx) => {
        // Locked: a vote or the expiry committing meanwhile is seen, and two runs of the job are one.
        const row = await lockReview(tx, reviewId);
        if (row.status !== 'PENDING') return 'not-pending';
        // Due but not yet flipped by the expiry job: a reminder would only announce an expiry.
        if (now.getTime() >= row.expiresAt.getTime()) return 'expired';
        if (await tx.auditEvent.findFirst({ where: { reviewId, action: REMINDED_ACTION }, select: { id: true } })) return 'already-reminded';
        const entries = notifiers.jobsOfReminder(row.connection.plugins, reviewId);
        await recordAudit(tx, SYSTEM_ACTOR, REMINDED_ACTION, reviewId, {
          expiresAt: row.expiresAt.toISOString(),
          pendingGroups: row.groups.filter((g) => g.status === 'PENDING').map((g) => g.group),
          channels: [...new Set(entries.map((e) => e.name.split('.')[0]))],
        });
        await outbox.write(tx, reviewId, entries);
        return 'sent';
      });
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.NotFound) return 'gone';
      throw error;
    }
    if (outcome === 'sent') await outbox.relayReview(reviewId, 300);
    else log.debug({ reviewId, outcome }, 'no reminder sent');
    return outcome;
  };
}
