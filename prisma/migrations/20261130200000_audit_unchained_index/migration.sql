-- The chainer looks for unchained events after every burst of writes: without this index each of
-- its runs read the whole audit table (a million events: a gigabyte, every few seconds). Unchained
-- events are few (those written since the last run), so the index stays small.
CREATE INDEX "AuditEvent_unchained_idx" ON "AuditEvent" ("id") WHERE "chainSeq" IS NULL;
