-- The outbox of side effects (see OutboxJob in schema.prisma). Nothing to move: the jobs of reviews
-- decided before this migration are in Redis already, and the sweep re-enqueues what is missing.

-- CreateTable
CREATE TABLE "OutboxJob" (
    "id" BIGSERIAL NOT NULL,
    "queuePrefix" TEXT NOT NULL,
    "reviewId" UUID,
    "name" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "jobId" TEXT NOT NULL,
    "dueAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "leaseUntil" TIMESTAMP(3),

    CONSTRAINT "OutboxJob_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "OutboxJob_queuePrefix_id_idx" ON "OutboxJob"("queuePrefix", "id");

-- CreateIndex
CREATE INDEX "OutboxJob_reviewId_idx" ON "OutboxJob"("reviewId");
