-- A person's accounts on other systems are rows of one table (provider, externalId) instead of a
-- column per provider: Slack's User."slackUserId" moves here, Teams and OpenID accounts follow.
-- Both unique keys keep what the column's unique index gave: one Slack account links one hoop user,
-- and a hoop user has at most one account per provider.
CREATE TABLE "Identity" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "provider" TEXT NOT NULL,
    "externalId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Identity_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "Identity_provider_externalId_key" ON "Identity"("provider", "externalId");
CREATE UNIQUE INDEX "Identity_userId_provider_key" ON "Identity"("userId", "provider");

ALTER TABLE "Identity" ADD CONSTRAINT "Identity_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Every existing link moves; the link's own date is not known, the user's last change is the
-- nearest one we have. gen_random_uuid() is built in from PostgreSQL 13.
INSERT INTO "Identity" ("id", "userId", "provider", "externalId", "createdAt")
SELECT gen_random_uuid(), "id", 'slack', "slackUserId", "updatedAt"
FROM "User"
WHERE "slackUserId" IS NOT NULL;

DROP INDEX "User_slackUserId_key";
ALTER TABLE "User" DROP COLUMN "slackUserId";
