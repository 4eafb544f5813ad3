-- What a run records on the target before its input is sent, so its outcome can be learnt after
-- its process stopped. Existing rows keep NULL: their outcome was never recorded.
ALTER TABLE "Review" ADD COLUMN "runTracking" TEXT,
ADD COLUMN "runBackendPid" TEXT,
ADD COLUMN "runBackendStart" TEXT,
ADD COLUMN "runXid" TEXT;
