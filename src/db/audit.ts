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

/** Appends several audit events by the same actor in one statement, inside the caller's transaction. */
export async function recordAuditMany(tx: Tx, ctx: AuditContext, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await tx.auditEvent.createMany({
    data: entries.map((e) => ({
      reviewId: e.reviewId,
      actorId: ctx.actorId,
      actor: ctx.actor,
      action: e.action,
      source: ctx.source,
      detail: e.detail,
      ip: ctx.ip ?? null,
      userAgent: ctx.userAgent?.slice(0, 512) ?? null,
    })),
  });
}
