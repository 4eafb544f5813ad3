-- What was posted where becomes one channel-neutral table: Slack's SlackMessage is renamed
-- ChannelMessage (its rows keep their ids, with channel 'slack'), and Teams' ChannelPost rows move
-- into it (channel 'teams' as they were), so every channel's messages are rows of one table.
-- Slack's own names become generic ones:
--   "channel" (the Slack channel id)  -> "conversationRef"
--   "ts"                              -> "messageRef"
--   "threadTs" (the parent's ts)      -> "parentRef"
-- and "channel" now names the channel that posted ('slack', 'teams').
ALTER TABLE "SlackMessage" RENAME TO "ChannelMessage";
ALTER TABLE "ChannelMessage" RENAME CONSTRAINT "SlackMessage_pkey" TO "ChannelMessage_pkey";
ALTER TABLE "ChannelMessage" RENAME CONSTRAINT "SlackMessage_reviewId_fkey" TO "ChannelMessage_reviewId_fkey";
ALTER TABLE "ChannelMessage" DROP CONSTRAINT "SlackMessage_status_check";
DROP INDEX "SlackMessage_reviewId_target_kind_threadTs_copy_key";
DROP INDEX "SlackMessage_channel_ts_idx";

ALTER TABLE "ChannelMessage" RENAME COLUMN "channel" TO "conversationRef";
ALTER TABLE "ChannelMessage" RENAME COLUMN "ts" TO "messageRef";
ALTER TABLE "ChannelMessage" RENAME COLUMN "threadTs" TO "parentRef";

-- Every row so far is Slack's; new rows name their channel themselves.
ALTER TABLE "ChannelMessage"
    ADD COLUMN "channel" TEXT NOT NULL DEFAULT 'slack',
    ADD COLUMN "attempts" INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN "postedAt" TIMESTAMP(3);
ALTER TABLE "ChannelMessage" ALTER COLUMN "channel" DROP DEFAULT;

-- Teams' posts: no thread, no copies, no message references (a Workflows webhook returns none).
INSERT INTO "ChannelMessage" ("id", "reviewId", "channel", "target", "kind", "parentRef", "copy", "status", "claimedAt", "postedAt", "attempts", "createdAt")
SELECT "id", "reviewId", "channel", "target", "kind", '', 0, "status", "claimedAt", "postedAt", "attempts", "createdAt"
FROM "ChannelPost";

DROP TABLE "ChannelPost";

-- A posted message is complete: Slack's has its place (channel and ts), any other its time.
ALTER TABLE "ChannelMessage" ADD CONSTRAINT "ChannelMessage_status_check" CHECK (
    "status" = 'posting'
    OR ("status" = 'posted' AND CASE WHEN "channel" = 'slack' THEN "conversationRef" IS NOT NULL AND "messageRef" IS NOT NULL ELSE "postedAt" IS NOT NULL END)
);

CREATE UNIQUE INDEX "ChannelMessage_reviewId_channel_target_kind_parentRef_copy_key" ON "ChannelMessage"("reviewId", "channel", "target", "kind", "parentRef", "copy");
CREATE INDEX "ChannelMessage_channel_conversationRef_messageRef_idx" ON "ChannelMessage"("channel", "conversationRef", "messageRef");
