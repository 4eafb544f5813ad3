import type { Prisma, Tx } from './client.js';

/** Where an action came from: who, through what, from which address. */
export interface AuditContext {
  actorId: string | null;
  /** A readable name for the actor: an email, `slack:U123`, or `system`. */
  actor: string;
  source: 'api' | 'slack' | 'system' | 'cli' | 'web';
  ip?: string | null;
  userAgent?: string | null;
}

export const SYSTEM_ACTOR: AuditContext = { actorId: null, actor: 'system', source: 'system' };

/** Appends one audit event inside the caller's transaction. */
export async function recordAudit(
  tx: Tx,
  ctx: AuditContext,
  action: string,
  reviewId: string | null,
  detail?: Prisma.InputJsonValue,
): Promise<void> {
  await tx.auditEvent.create({
    data: {
      reviewId,
      actorId: ctx.actorId,
      actor: ctx.actor,
      action,
      source: ctx.source,
      detail,
      ip: ctx.ip ?? null,
      userAgent: ctx.userAgent?.slice(0, 512) ?? null,
    },
  });
}

/** One audit event of many written at once (see recordAuditMany). */
export interface AuditEntry {
  action: string;
  reviewId: string | null;
  detail?: Prisma.InputJsonValue;
}

/**
 * Appends several audit events by the same actor inside the caller's transaction, in one statement
 * over arrays (a burst of expiries writes thousands; createMany of 1,000 took seconds). JSON goes
 * as text, cast by PostgreSQL: the driver adapter's jsonb[] handling was the slow part.
 */
export async function recordAuditMany(tx: Tx, ctx: AuditContext, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO "AuditEvent" ("reviewId", "actorId", "actor", "action", "source", "detail", "ip", "userAgent", "createdAt")
    SELECT e."reviewId", ${ctx.actorId}::uuid, ${ctx.actor}, e."action", ${ctx.source}, e."detail"::jsonb, ${ctx.ip ?? null}, ${ctx.userAgent?.slice(0, 512) ?? null}, timezone('UTC', now())
    FROM unnest(${entries.map((e) => e.reviewId)}::uuid[], ${entries.map((e) => e.action)}::text[], ${entries.map((e) => (e.detail === undefined ? null : JSON.stringify(e.detail)))}::text[])
      AS e("reviewId", "action", "detail")`;
}
