-- Impact preview and bounded execution (issue 14). A connection says how a write request's effect
-- is measured before anyone is asked (auto: a dry run in a transaction that is always rolled back,
-- where that is safe, else the planner's estimate; estimate: the estimate only; off), the dry
-- run's time and lock limits, and how far a run may exceed the measured rows before it is rolled
-- back. A review keeps what was measured (preview) and, from its last approval, the bound its run
-- is held to (rowBound); each approval keeps the input's sha256 it approved and its row limit.
ALTER TABLE "Connection" ADD COLUMN "previewMode" TEXT NOT NULL DEFAULT 'auto';
ALTER TABLE "Connection" ADD COLUMN "previewTimeoutMs" INTEGER NOT NULL DEFAULT 2000;
ALTER TABLE "Connection" ADD COLUMN "previewLockTimeoutMs" INTEGER NOT NULL DEFAULT 200;
ALTER TABLE "Connection" ADD COLUMN "rowTolerancePct" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "Connection" ADD CONSTRAINT "Connection_preview_check" CHECK (
  "previewMode" IN ('auto', 'estimate', 'off')
  AND "previewTimeoutMs" BETWEEN 100 AND 60000
  AND "previewLockTimeoutMs" BETWEEN 10 AND 10000
  AND "rowTolerancePct" BETWEEN 0 AND 1000
);

ALTER TABLE "Review" ADD COLUMN "preview" JSONB;
ALTER TABLE "Review" ADD COLUMN "rowBound" JSONB;

ALTER TABLE "ReviewGroup" ADD COLUMN "inputSha256" TEXT;
ALTER TABLE "ReviewGroup" ADD COLUMN "maxRows" INTEGER;
ALTER TABLE "ReviewGroup" ADD CONSTRAINT "ReviewGroup_maxRows_check" CHECK ("maxRows" IS NULL OR "maxRows" >= 0);
