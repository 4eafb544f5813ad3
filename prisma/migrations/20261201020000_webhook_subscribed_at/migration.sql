-- When an endpoint's current subscription began (created, enabled again, events or connections
-- changed): the sweep re-creates the deliveries of a lost `webhooks.dispatch` job only for events
-- after it. Existing endpoints take their last change, which may be later than the real start but
-- never earlier: an upgrade sends nobody an event it did not subscribe to.
ALTER TABLE "WebhookEndpoint" ADD COLUMN "subscribedAt" TIMESTAMP(3);
UPDATE "WebhookEndpoint" SET "subscribedAt" = "updatedAt";
ALTER TABLE "WebhookEndpoint" ALTER COLUMN "subscribedAt" SET NOT NULL, ALTER COLUMN "subscribedAt" SET DEFAULT CURRENT_TIMESTAMP;
