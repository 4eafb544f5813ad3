import type { AuditContext } from '../db/audit.js';

/** The audit context of a Slack request: who (the hoop user once known), from where. */
export function slackCtx(slackUserId: string, user?: { id: string; email: string }, custom?: Record<string, unknown>): AuditContext {
  return {
    actorId: user?.id ?? null,
    actor: user?.email ?? `slack:${slackUserId}`,
    source: 'slack',
    ip: (custom?.ip as string) ?? null,
    userAgent: (custom?.userAgent as string) ?? null,
  };
}
