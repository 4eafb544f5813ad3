-- Analytics group requests by the pattern of their command (src/sql/fingerprint.ts). Requests made
-- before this column existed keep NULL and are counted as "(not fingerprinted)".
-- AlterTable
ALTER TABLE "Review" ADD COLUMN "fingerprint" TEXT;
