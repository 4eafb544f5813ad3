-- Channels per connection (issue 10): empty means every channel configured on the gateway, which is
-- what every existing connection had (Slack when configured).
ALTER TABLE "Connection" ADD COLUMN "plugins" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
ALTER TABLE "Connection" ADD CONSTRAINT "Connection_plugins_known" CHECK ("plugins" <@ ARRAY['slack', 'teams', 'webhooks']::TEXT[]);
