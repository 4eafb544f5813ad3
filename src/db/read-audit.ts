// The audit of a read that runs without review: the one write to our own database a read needs.
// `start` is written (durably) while the target runs the read, and only when the API key, its user
// and the connection are still as the caller's cached copies say — so a read made with a revoked
// key, a deactivated or regrouped user, or a connection whose policy changed returns nothing (the
// caller starts over with fresh state). `finish` adds rows, duration and outcome; it commits
// before the result is returned, without waiting for the disk (see README, "Reads").
import type pg from 'pg';
import type { AuditContext } from './audit.js';

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
  outputTruncated: boolean;
  commandTags: string[];
  error: string | null;
  reviewId?: string;
}

const START = `
INSERT INTO "AuditEvent" ("actorId", "actor", "action", "source", "detail", "ip", "userAgent", "createdAt")
SELECT $1::uuid, $2, 'read.started', $3, $4::jsonb, $5, $6, timezone('UTC', now())
 WHERE EXISTS (SELECT 1 FROM "Connection" c WHERE c.id = $7::uuid AND c."updatedAt" = $8::timestamp(3))
   AND ($9::uuid IS NULL OR EXISTS (
        SELECT 1 FROM "ApiKey" k JOIN "User" u ON u.id = k."userId"
         WHERE k.id = $9::uuid AND k."userId" = $1::uuid AND k."revokedAt" IS NULL AND u.active AND u."updatedAt" = $10::timestamp(3)))`;

const FINISH = `
INSERT INTO "AuditEvent" ("reviewId", "actorId", "actor", "action", "source", "detail", "ip", "userAgent", "createdAt")
VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::jsonb, $7, $8, timezone('UTC', now()))`;

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
        s.ctx.actorId,
        s.ctx.actor,
        s.ctx.source,
        JSON.stringify(detail),
        s.ctx.ip ?? null,
        s.ctx.userAgent?.slice(0, 512) ?? null,
        s.connection.id,
        utc(s.connection.updatedAt),
        s.key?.id ?? null,
        s.key ? utc(s.key.userUpdatedAt) : null,
      ]);
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
        outputTruncated: f.outputTruncated,
        commandTags: f.commandTags,
        error: f.error,
      };
      const action = f.outcome === 'executed' ? 'read.executed' : f.outcome === 'held' ? 'read.held' : f.outcome === 'discarded' ? 'read.discarded' : 'read.failed';
      await quickPool.query(FINISH, [f.reviewId ?? null, f.ctx.actorId, f.ctx.actor, action, f.ctx.source, JSON.stringify(detail), f.ctx.ip ?? null, f.ctx.userAgent?.slice(0, 512) ?? null]);
    },
  };
}

export type ReadAudit = ReturnType<typeof createReadAudit>;
