-- The audit trail becomes a hash chain (src/db/audit-chain.ts). Each event records the id of the
-- transaction that wrote it; the chainer links events in once their transactions have ended, and
-- fills chainSeq, prevHash, hash and chainHorizon exactly once.
ALTER TABLE "AuditEvent"
  ADD COLUMN "txid" xid8 NOT NULL DEFAULT pg_current_xact_id(),
  ADD COLUMN "chainSeq" BIGINT,
  ADD COLUMN "prevHash" TEXT,
  ADD COLUMN "hash" TEXT,
  ADD COLUMN "chainHorizon" xid8;

CREATE UNIQUE INDEX "AuditEvent_chainSeq_key" ON "AuditEvent"("chainSeq");

-- Events written before this migration carry this migration's transaction id: once it has
-- committed they are chained like any other.

-- INSERT: the row says which transaction wrote it, whatever the writer sent, and arrives unchained.
CREATE FUNCTION audit_event_stamp() RETURNS trigger AS $$
BEGIN
  NEW."txid" := pg_current_xact_id();
  IF NEW."chainSeq" IS NOT NULL OR NEW."prevHash" IS NOT NULL OR NEW."hash" IS NOT NULL OR NEW."chainHorizon" IS NOT NULL THEN
    RAISE EXCEPTION 'AuditEvent: a new event cannot carry chain columns; the chainer sets them'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_stamp
  BEFORE INSERT ON "AuditEvent"
  FOR EACH ROW EXECUTE FUNCTION audit_event_stamp();

-- UPDATE: only the chainer's, once: the chain columns from NULL to values, nothing else changed.
CREATE OR REPLACE FUNCTION audit_event_is_append_only() RETURNS trigger AS $$
BEGIN
  -- Nested: OLD and NEW do not exist in the statement-level TRUNCATE trigger.
  IF TG_OP = 'UPDATE' THEN
    IF OLD."chainSeq" IS NULL AND OLD."prevHash" IS NULL AND OLD."hash" IS NULL AND OLD."chainHorizon" IS NULL
     AND NEW."chainSeq" IS NOT NULL AND NEW."prevHash" IS NOT NULL AND NEW."hash" IS NOT NULL AND NEW."chainHorizon" IS NOT NULL
     AND (NEW."id", NEW."reviewId", NEW."actorId", NEW."actor", NEW."action", NEW."source", NEW."detail", NEW."ip", NEW."userAgent", NEW."createdAt", NEW."txid")
         IS NOT DISTINCT FROM
         (OLD."id", OLD."reviewId", OLD."actorId", OLD."actor", OLD."action", OLD."source", OLD."detail", OLD."ip", OLD."userAgent", OLD."createdAt", OLD."txid")
    THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'AuditEvent is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_no_truncate
  BEFORE TRUNCATE ON "AuditEvent"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_event_is_append_only();
