-- Corrections (issue 14): a reviewer's "Suggest a change" rejects a request and makes a new one,
-- on the requester's behalf, with the corrected command. The new request names the one it corrects,
-- who suggested the change and why, and when its requester accepted it (it never runs before).
ALTER TABLE "Review" ADD COLUMN "acceptedAt" TIMESTAMP(3),
ADD COLUMN "correctionOfId" UUID,
ADD COLUMN "suggestComment" TEXT,
ADD COLUMN "suggestedById" UUID;

ALTER TABLE "Review" ADD CONSTRAINT "Review_correctionOfId_fkey" FOREIGN KEY ("correctionOfId") REFERENCES "Review"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Review" ADD CONSTRAINT "Review_suggestedById_fkey" FOREIGN KEY ("suggestedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;
