import type { AuditContext, SlackIds } from '../db/audit.js';

/**
 * The audit context of a Slack request: who (the hoop user once known, else `slack:U123`), from
 * where; the Slack user, workspace and channel go into every event's detail, linked user or not.
 */
export function slackCtx(slack: SlackIds, user?: { id: string; email: string }, custom?: Record<string, unknown>): AuditContext {
  return {
    actorId: user?.id ?? null,
    actor: user?.email ?? `slack:${slack.userId}`,
    source: 'slack',
    ip: (custom?.ip as string) ?? null,
    userAgent: (custom?.userAgent as string) ?? null,
    slack,
  };
}

/** The Slack ids of an interaction (a click or a modal's submission): its user, their team, and the channel when there is one. */
export function interactionIds(body: { user: { id: string; team_id?: string }; team?: { id: string } | null }, channelId?: string | null): SlackIds {
  return { userId: body.user.id, teamId: body.team?.id ?? body.user.team_id ?? null, channelId: channelId ?? null };
}
