-- A Slack message slot is claimed (status 'posting') before chat.postMessage and completed with
-- its channel and ts after Slack answers, so two jobs never both post it and an unknown outcome
-- (timeout, 5xx, a crash) is searched for in Slack instead of posted again.
DROP INDEX "SlackMessage_reviewId_target_kind_key";

ALTER TABLE "SlackMessage"
    ADD COLUMN "threadTs" TEXT NOT NULL DEFAULT '',
    ADD COLUMN "copy" INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN "status" TEXT NOT NULL DEFAULT 'posted',
    ADD COLUMN "claimToken" TEXT,
    ADD COLUMN "claimedAt" TIMESTAMP(3),
    ADD COLUMN "firstSentAt" TIMESTAMP(3),
    ADD COLUMN "searchAgain" BOOLEAN NOT NULL DEFAULT false,
    ALTER COLUMN "channel" DROP NOT NULL,
    ALTER COLUMN "ts" DROP NOT NULL;

-- Every existing row was written after Slack answered: it is posted. New rows say so themselves.
ALTER TABLE "SlackMessage" ALTER COLUMN "status" DROP DEFAULT;

-- A result reply sits in the thread of the request message of the same review and target.
UPDATE "SlackMessage" AS r
SET "threadTs" = q."ts"
FROM "SlackMessage" AS q
WHERE r."kind" = 'result' AND q."kind" = 'request' AND q."reviewId" = r."reviewId" AND q."target" = r."target";

ALTER TABLE "SlackMessage" ADD CONSTRAINT "SlackMessage_status_check"
    CHECK ("status" = 'posting' OR ("status" = 'posted' AND "channel" IS NOT NULL AND "ts" IS NOT NULL));

CREATE UNIQUE INDEX "SlackMessage_reviewId_target_kind_threadTs_copy_key" ON "SlackMessage"("reviewId", "target", "kind", "threadTs", "copy");
