// The one writer of audit events: every INSERT into "AuditEvent" is built here, from one column
// list and one serialisation of the context (recordAudit, recordAuditMany, and the raw statements
// of reads in read-audit.ts). The table's trigger stamps each row with its transaction id; the
// chainer (audit-chain.ts) links it into the hash chain once that transaction has ended, and is
// nudged after every write here.
import type { AuditAction } from '../core/audit-actions.js';
import { nudgeAuditChain } from './audit-chain-nudge.js';
import type { Prisma, Tx } from './client.js';

export type { AuditAction };

/** Through what an action came: the API (a key), the hoop CLI, Slack, Teams, the web app, an agent over MCP, or the gateway itself. */
export const AUDIT_SOURCES = ['api', 'cli', 'slack', 'teams', 'web', 'mcp', 'system'] as const;
export type AuditSource = (typeof AUDIT_SOURCES)[number];

/** Where an action came from: who, through what, from which address. */
export interface AuditContext {
  actorId: string | null;
  /** A readable name for the actor: an email, `slack:U123`, or `system`. */
  actor: string;
  source: AuditSource;
  ip?: string | null;
  userAgent?: string | null;
  /** After single sign-on: the identity provider's issuer and the person's subject there, kept in every event's detail. */
  idp?: { issuer: string | null; subject: string } | null;
  /**
   * The MCP client an agent acts through, as that client names itself (its initialize clientInfo,
   * relayed by `hoop mcp` in the Hoop-Mcp-Client header): a label like the User-Agent, never who acts.
   */
  client?: { name: string; version: string } | null;
  /** An action from Slack: the clicker's Slack user and workspace, and the channel when Slack says it; kept in the event's detail. */
  slack?: SlackIds | null;
}

/** Who acted in Slack, and where: the user, their workspace (team) and the channel of the click or command. */
export interface SlackIds {
  userId: string;
  teamId: string | null;
  channelId?: string | null;
}

/**
 * The event's detail, with the actor's IdP identity when they signed in through SSO, the MCP
 * client they acted through, and the Slack user, workspace and channel of an action from Slack
 * (the address and User-Agent have columns of their own).
 */
export function detailOf(ctx: AuditContext, detail: Prisma.InputJsonValue | undefined): Prisma.InputJsonValue | undefined {
  const extra: Record<string, Prisma.InputJsonValue> = {};
  if (ctx.idp) extra.idp = { issuer: ctx.idp.issuer, subject: ctx.idp.subject };
  if (ctx.client) extra.client = { name: ctx.client.name, version: ctx.client.version };
  if (ctx.slack) extra.slack = { userId: ctx.slack.userId, teamId: ctx.slack.teamId, ...(ctx.slack.channelId ? { channelId: ctx.slack.channelId } : {}) };
  if (Object.keys(extra).length === 0) return detail;
  if (detail === undefined || detail === null) return extra;
  if (typeof detail === 'object' && !Array.isArray(detail)) return { ...(detail as Record<string, Prisma.InputJsonValue>), ...extra };
  return { value: detail, ...extra };
}

export const SYSTEM_ACTOR: AuditContext = { actorId: null, actor: 'system', source: 'system' };

/**
 * The columns every audit INSERT names, in this order; createdAt is always the database's UTC now
 * (Prisma stores DateTime as timestamp(3) without time zone, in UTC). The chain columns (txid,
 * chainSeq, prevHash, hash, chainHorizon) are never written by an INSERT: the trigger stamps txid
 * and the chainer fills the rest.
 */
export const AUDIT_INSERT_COLUMNS = '"reviewId", "actorId", "actor", "action", "source", "detail", "ip", "userAgent", "createdAt"';
/** The value of "createdAt" in every audit INSERT. */
export const AUDIT_CREATED_AT = "timezone('UTC', now())";

/** The row of one event as statement parameters, in AUDIT_INSERT_COLUMNS' order (createdAt aside): reviewId, actorId, actor, action, source, detail (JSON text or null), ip, userAgent. */
export function auditParams(ctx: AuditContext, action: AuditAction, reviewId: string | null, detail: Prisma.InputJsonValue | undefined): [string | null, string | null, string, AuditAction, string, string | null, string | null, string | null] {
  const d = detailOf(ctx, detail);
  return [reviewId, ctx.actorId, ctx.actor, action, ctx.source, d === undefined ? null : JSON.stringify(d), ctx.ip ?? null, ctx.userAgent?.slice(0, 512) ?? null];
}

const INSERT_ONE = `INSERT INTO "AuditEvent" (${AUDIT_INSERT_COLUMNS})
VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::jsonb, $7, $8, ${AUDIT_CREATED_AT})`;

/** The statement that writes one event from auditParams' eight values (read-audit.ts uses it too). */
export function insertOneAuditSql(): string {
  return INSERT_ONE;
}

/** Appends one audit event inside the caller's transaction. */
export async function recordAudit(
  tx: Tx,
  ctx: AuditContext,
  action: AuditAction,
  reviewId: string | null,
  detail?: Prisma.InputJsonValue,
): Promise<void> {
  await tx.$executeRawUnsafe(INSERT_ONE, ...auditParams(ctx, action, reviewId, detail));
  nudgeAuditChain();
}

/** One audit event of many written at once (see recordAuditMany). */
export interface AuditEntry {
  action: AuditAction;
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
  const rows = entries.map((e) => auditParams(ctx, e.action, e.reviewId, e.detail));
  const [, actorId, actor, , source, , ip, userAgent] = rows[0]!;
  await tx.$executeRawUnsafe(
    `INSERT INTO "AuditEvent" (${AUDIT_INSERT_COLUMNS})
     SELECT e."reviewId", $1::uuid, $2, e."action", $3, e."detail"::jsonb, $4, $5, ${AUDIT_CREATED_AT}
       FROM unnest($6::uuid[], $7::text[], $8::text[]) AS e("reviewId", "action", "detail")`,
    actorId,
    actor,
    source,
    ip,
    userAgent,
    rows.map((r) => r[0]),
    rows.map((r) => r[3]),
    rows.map((r) => r[5]),
  );
  nudgeAuditChain();
}
