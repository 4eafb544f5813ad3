-- Microsoft Teams: a connection may post to its own Workflows webhook URL instead of TEAMS_WEBHOOK_URL.
-- The URL carries a signature (sig=) that grants posting to the channel: it is a secret, like "url".
ALTER TABLE "Connection" ADD COLUMN "teamsWebhookUrl" TEXT;

-- What was posted where, for every channel that cannot edit or look up what it posted (Teams
-- Workflows, and later others): a row is claimed ('posting') before the post and marked 'posted'
-- after, so a retried job never posts a card whose first post is known to have arrived.
-- "target" is a sha256 of the destination (never the URL itself: it carries a secret).
CREATE TABLE "ChannelPost" (
    "id" UUID NOT NULL,
    "reviewId" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "claimedAt" TIMESTAMP(3),
    "postedAt" TIMESTAMP(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ChannelPost_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "ChannelPost_status_check" CHECK ("status" = 'posting' OR ("status" = 'posted' AND "postedAt" IS NOT NULL))
);

CREATE UNIQUE INDEX "ChannelPost_reviewId_channel_target_kind_key" ON "ChannelPost"("reviewId", "channel", "target", "kind");

ALTER TABLE "ChannelPost" ADD CONSTRAINT "ChannelPost_reviewId_fkey" FOREIGN KEY ("reviewId") REFERENCES "Review"("id") ON DELETE CASCADE ON UPDATE CASCADE;
