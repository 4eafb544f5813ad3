-- Just-in-Time access (issue 13): an access request is a review of kind 'access' that, once every
-- reviewer group approved it, is GRANTED: its requester's commands on its connection run without a
-- per-command review until accessEndsAt (or until it is revoked), then it is ENDED.
ALTER TYPE "ReviewStatus" ADD VALUE 'GRANTED';
ALTER TYPE "ReviewStatus" ADD VALUE 'ENDED';

ALTER TABLE "Connection" ADD COLUMN "accessMode" TEXT NOT NULL DEFAULT 'command';
ALTER TABLE "Connection" ADD COLUMN "maxAccessSec" INTEGER NOT NULL DEFAULT 3600;
ALTER TABLE "Connection" ADD COLUMN "jitAgents" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "Connection" ADD CONSTRAINT "Connection_access_check" CHECK (
  "accessMode" IN ('command', 'jit', 'both') AND "maxAccessSec" BETWEEN 60 AND 604800
);

ALTER TABLE "Review" ADD COLUMN "kind" TEXT NOT NULL DEFAULT 'command';
ALTER TABLE "Review" ADD COLUMN "accessSec" INTEGER;
ALTER TABLE "Review" ADD COLUMN "accessEndsAt" TIMESTAMP(3);
ALTER TABLE "Review" ADD COLUMN "accessRevokedAt" TIMESTAMP(3);
ALTER TABLE "Review" ADD COLUMN "accessRevokedById" UUID;
ALTER TABLE "Review" ADD COLUMN "grantId" UUID;

ALTER TABLE "Review" ADD CONSTRAINT "Review_accessRevokedById_fkey" FOREIGN KEY ("accessRevokedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Review" ADD CONSTRAINT "Review_grantId_fkey" FOREIGN KEY ("grantId") REFERENCES "Review"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- No writer can make an access request that runs input, nor a command that carries a window.
ALTER TABLE "Review" ADD CONSTRAINT "Review_kind_check" CHECK (
  ("kind" = 'command' AND "accessSec" IS NULL AND "accessEndsAt" IS NULL AND "accessRevokedAt" IS NULL)
  OR ("kind" = 'access' AND "input" = '' AND "accessSec" > 0 AND "grantId" IS NULL)
);

-- The open windows of a requester on a connection (every command of theirs asks), and the sweep's
-- windows to end. Partial on kind (not on the new statuses: a value added by ALTER TYPE cannot be
-- used in the transaction that adds it).
CREATE INDEX "Review_access_idx" ON "Review" ("requesterId", "connectionId", "accessEndsAt") WHERE "kind" = 'access';
