// The audit of a read that runs without review: the one write to our own database a read needs.
// `start` is written (durably) while the target runs the read, and only when the API key, its user
// and the connection are still as the caller's cached copies say — so a read made with a revoked
// key, a deactivated or regrouped user, or a connection whose policy changed returns nothing (the
// caller starts over with fresh state). `finish` adds rows, duration and outcome; it commits
// before the result is returned, without waiting for the disk (see README, "Reads").
import type pg from 'pg';
import { AUDIT_CREATED_AT, AUDIT_INSERT_COLUMNS, auditParams, insertOneAuditSql, type AuditContext } from './audit.js';
import { nudgeAuditChain } from './audit-chain-nudge.js';

export interface ReadStart {
  readId: string;
  ctx: AuditContext;
  /** The key and the user's version the caller authenticated with (a cached copy); absent: not checked. */
  key?: { id: string; userUpdatedAt: Date };
  connection: { id: string; name: string; updatedAt: Date };
  input: string;
  reason: string | null;
  tables: string[];
}

export interface ReadFinish {
  readId: string;
  ctx: AuditContext;
  connection: string;
  /** held: the target's check objected and the command became request `reviewId`. */
  outcome: 'executed' | 'failed' | 'held' | 'discarded';
  rows: number | null;
  durationMs: number;
  outputBytes: number;
  /** sha256 hex of the output as returned to the caller (a read's output is not stored). */
  outputSha256: string | null;
  /** What the target reported as affected (a read changes nothing: null or 0). */
  rowsAffected: number | null;
  outputTruncated: boolean;
  commandTags: string[];
  error: string | null;
  reviewId?: string;
}

// $1..$8 are auditParams' values, as in every audit INSERT (src/db/audit.ts).
const START = `
INSERT INTO "AuditEvent" (${AUDIT_INSERT_COLUMNS})
SELECT $1::uuid, $2::uuid, $3, $4, $5, $6::jsonb, $7, $8, ${AUDIT_CREATED_AT}
 WHERE EXISTS (SELECT 1 FROM "Connection" c WHERE c.id = $9::uuid AND c."updatedAt" = $10::timestamp(3))
   AND ($11::uuid IS NULL OR EXISTS (
        SELECT 1 FROM "ApiKey" k JOIN "User" u ON u.id = k."userId"
         WHERE k.id = $11::uuid AND k."userId" = $2::uuid AND k."revokedAt" IS NULL AND u.active AND u."updatedAt" = $12::timestamp(3)))`;

const FINISH = insertOneAuditSql();

// Prisma stores DateTime as timestamp(3) without time zone, in UTC (so are these events' createdAt,
// whatever the session's time zone).
const utc = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/**
 * Over the state database's own pool (`pool`) and one whose sessions commit without waiting for
 * the disk (`quickPool`, synchronous_commit off).
 */
export function createReadAudit(pool: pg.Pool, quickPool: pg.Pool) {
  return {
    /** Records the read; false when the key, user or connection changed since they were cached (nothing written). */
    async start(s: ReadStart): Promise<boolean> {
      const detail = { readId: s.readId, connection: s.connection.name, input: s.input, reason: s.reason, tables: s.tables, inputBytes: Buffer.byteLength(s.input) };
      const r = await pool.query(START, [
        ...auditParams(s.ctx, 'read.started', null, detail),
        s.connection.id,
        utc(s.connection.updatedAt),
        s.key?.id ?? null,
        s.key ? utc(s.key.userUpdatedAt) : null,
      ]);
      if (r.rowCount === 1) nudgeAuditChain();
      return r.rowCount === 1;
    },
    /** Records how the read ended. */
    async finish(f: ReadFinish): Promise<void> {
      const detail = {
        readId: f.readId,
        connection: f.connection,
        outcome: f.outcome,
        rows: f.rows,
        durationMs: Math.round(f.durationMs * 100) / 100,
        outputBytes: f.outputBytes,
        outputSha256: f.outputSha256,
        rowsAffected: f.rowsAffected,
        outputTruncated: f.outputTruncated,
        commandTags: f.commandTags,
        error: f.error,
      };
      const action = f.outcome === 'executed' ? 'read.executed' : f.outcome === 'held' ? 'read.held' : f.outcome === 'discarded' ? 'read.discarded' : 'read.failed';
      await quickPool.query(FINISH, auditParams(f.ctx, action, f.reviewId ?? null, detail));
      nudgeAuditChain();
    },
  };
}

export type ReadAudit = ReturnType<typeof createReadAudit>;
