-- The review lists read newest first (ORDER BY createdAt DESC, id DESC), all of them or one requester's.
-- CreateIndex
CREATE INDEX "Review_createdAt_id_idx" ON "Review"("createdAt", "id");
-- CreateIndex
CREATE INDEX "Review_requesterId_createdAt_idx" ON "Review"("requesterId", "createdAt");
