-- Analytics (src/db/analytics*.ts) read a range of requests by createdAt, and each group's decision
-- time since its request was made. Indexes that hold every column those statements read let
-- PostgreSQL answer from the index alone (index-only scans) instead of the wide request rows, and
-- a copy of the request's time on each group row spares the join of the two tables.

-- Review: by createdAt, carrying what the analytics read. status and decidedAt were indexed
-- already ("Review_status_expiresAt_idx"), so updates of them were not HOT before either.
-- Partial on a condition every row meets (createdAt is NOT NULL), because Prisma cannot express
-- INCLUDE and leaves partial indexes alone: declared in schema.prisma, `migrate diff` would call
-- it drift. Every analytics query bounds createdAt, which implies the condition.
CREATE INDEX "Review_analytics_idx" ON "Review"("createdAt")
  INCLUDE ("status", "decidedAt", "autoApproved", "requesterId", "connectionId", "fingerprint")
  WHERE "createdAt" IS NOT NULL;

-- ReviewGroup.requestedAt: its review's createdAt, kept by triggers whatever the writer sends.
ALTER TABLE "ReviewGroup" ADD COLUMN "requestedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
UPDATE "ReviewGroup" g SET "requestedAt" = r."createdAt" FROM "Review" r WHERE r."id" = g."reviewId";

-- A missing review leaves the value alone: the foreign key refuses the row with its usual error.
CREATE FUNCTION review_group_requested_at() RETURNS trigger AS $$
DECLARE
  created TIMESTAMP(3);
BEGIN
  SELECT r."createdAt" INTO created FROM "Review" r WHERE r."id" = NEW."reviewId";
  IF FOUND THEN
    NEW."requestedAt" := created;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER review_group_requested_at
  BEFORE INSERT OR UPDATE OF "reviewId", "requestedAt" ON "ReviewGroup"
  FOR EACH ROW EXECUTE FUNCTION review_group_requested_at();

-- A request's time is not changed by the gateway, but a restore or a hand-made fix may change it.
CREATE FUNCTION review_created_at_to_groups() RETURNS trigger AS $$
BEGIN
  UPDATE "ReviewGroup" SET "requestedAt" = NEW."createdAt" WHERE "reviewId" = NEW."id";
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER review_created_at_to_groups
  AFTER UPDATE OF "createdAt" ON "Review"
  FOR EACH ROW WHEN (OLD."createdAt" IS DISTINCT FROM NEW."createdAt")
  EXECUTE FUNCTION review_created_at_to_groups();

-- Partial for the same reason as "Review_analytics_idx".
CREATE INDEX "ReviewGroup_analytics_idx" ON "ReviewGroup"("requestedAt")
  INCLUDE ("group", "decidedAt", "reviewId")
  WHERE "requestedAt" IS NOT NULL;
