// Links between Slack accounts and hoop users (`/hoop subscribe`, `/hoop unsubscribe`). A link
// decides who may press Approve, so it is never moved from one person to another silently: every
// refusal says what to do next and is audited as `user.slack_link_refused` with its reason.
import { recordAudit, type AuditAction, type AuditContext } from '../db/audit.js';
import type { Db, Tx } from '../db/client.js';
import { externalIdOf, slackIdentity, userByIdentity } from '../db/identities.js';
import { AppError, ErrorCode } from '../errors.js';
import { normalizeEmail } from './user-fields.js';

/** What Slack told us about the account that ran `/hoop subscribe` (users.info). */
export interface SlackProfile {
  slackUserId: string;
  /** The workspace the account belongs to. */
  teamId?: string;
  email?: string;
  /** `user.is_email_confirmed`: absent is treated as not confirmed. */
  emailConfirmed?: boolean;
  deleted?: boolean;
  isBot?: boolean;
}

export type SlackLinkRefusal =
  | 'slack_account_deactivated'
  | 'bot_account'
  | 'other_workspace'
  | 'no_email'
  | 'email_not_confirmed'
  | 'no_hoop_user'
  | 'hoop_user_deactivated'
  | 'email_linked_to_other_slack_account'
  | 'slack_account_linked_to_other_user';

/** The linked user, as `/hoop subscribe` confirms it. */
export interface LinkedUser {
  id: string;
  email: string;
  groups: string[];
  /** It was linked to this Slack account already; nothing changed. */
  already: boolean;
}

type Refused = { refused: SlackLinkRefusal; message: string; code?: ErrorCode; detail?: Record<string, string> };

function linkedElsewhere(email: string, linkedEmail: string): Refused {
  return {
    refused: 'slack_account_linked_to_other_user',
    code: ErrorCode.Conflict,
    message: `Your Slack account is already linked to the hoop user ${linkedEmail}; nothing was changed. Run \`/hoop unsubscribe\` first, then \`/hoop subscribe\` again.`,
    detail: { email, linkedEmail },
  };
}

/**
 * A link is part of the user a cached API-key authentication carries (its slackUserId), and the
 * cache is checked against User.updatedAt: changing a link changes the user.
 */
async function touchUser(tx: Tx, id: string): Promise<void> {
  await tx.user.update({ where: { id }, data: { updatedAt: new Date() } });
}

export type SlackLinks = ReturnType<typeof createSlackLinks>;

/** Slack links over the database. */
export function createSlackLinks(db: Db) {
  async function refuse(r: Refused, profile: SlackProfile, ctx: AuditContext): Promise<never> {
    await db.$transaction((tx) => recordAudit(tx, ctx, 'user.slack_link_refused', null, { reason: r.refused, slackUserId: profile.slackUserId, ...r.detail }));
    throw new AppError(r.code ?? ErrorCode.Forbidden, r.message, { details: { reason: r.refused, ...r.detail } });
  }

  /** Why Slack's own view of the account rules a link out, or null. */
  function profileProblem(p: SlackProfile, installedTeamId: string): Refused | null {
    if (p.deleted) return { refused: 'slack_account_deactivated', message: 'This Slack account is deactivated, so it cannot be linked to a hoop user.' };
    if (p.isBot) return { refused: 'bot_account', message: 'Bot accounts cannot subscribe: only people approve requests.' };
    if (p.teamId && p.teamId !== installedTeamId) {
      return { refused: 'other_workspace', message: 'Your Slack account belongs to another workspace than the one hoop is installed in; ask a hoop admin to add you to that workspace, then run `/hoop subscribe` there.' };
    }
    if (!p.email) {
      return { refused: 'no_email', code: ErrorCode.NotFound, message: 'Slack did not share an email address for your account, so it cannot be matched to a hoop user. Ask an admin to check the app\'s users:read.email scope.' };
    }
    if (p.emailConfirmed !== true) {
      return {
        refused: 'email_not_confirmed',
        message: `Slack has not confirmed the email address on your profile (${normalizeEmail(p.email)}), so it cannot prove you are that hoop user. Confirm it in Slack (Slack sends a confirmation link to that address), then run \`/hoop subscribe\` again.`,
        detail: { email: normalizeEmail(p.email) },
      };
    }
    return null;
  }

  /**
   * Links the Slack account to the hoop user with the same email (compared lower-case). Refuses,
   * and audits, when Slack did not confirm the email, the account is a bot, deactivated or from
   * another workspace, the hoop user is linked to another Slack account (details carry
   * `previousSlackUserId`, whom the caller should tell), or this Slack account is linked to
   * another hoop user.
   */
  async function linkSlackUser(profile: SlackProfile, installedTeamId: string, ctx: AuditContext): Promise<LinkedUser> {
    const problem = profileProblem(profile, installedTeamId);
    if (problem) return refuse(problem, profile, ctx);
    const email = normalizeEmail(profile.email!);
    const { slackUserId } = profile;
    const outcome = await db.$transaction(async (tx): Promise<LinkedUser | Refused> => {
      const user = await tx.user.findUnique({ where: { email }, include: slackIdentity });
      if (!user) {
        return { refused: 'no_hoop_user', code: ErrorCode.NotFound, message: `No hoop user has the email ${email}. Ask an admin to create one (hoop admin create user ${email} --groups ...), then run /hoop subscribe again.`, detail: { email } };
      }
      const linked = { id: user.id, email: user.email, groups: user.groups };
      if (!user.active) return { refused: 'hoop_user_deactivated', message: `The hoop user ${email} is deactivated; ask a hoop admin to reactivate it, then run \`/hoop subscribe\` again.`, detail: { email } };
      const current = externalIdOf(user);
      if (current === slackUserId) return { ...linked, already: true };
      if (current) {
        return {
          refused: 'email_linked_to_other_slack_account',
          message: `The hoop user ${email} is already linked to another Slack account; nothing was changed. If that account is yours too, run \`/hoop unsubscribe\` there first; otherwise ask a hoop admin to look into it. The holder of that account has been told.`,
          detail: { email, previousSlackUserId: current },
        };
      }
      const holder = await userByIdentity(tx, 'slack', slackUserId);
      if (holder) return linkedElsewhere(email, holder.email);
      // ON CONFLICT DO NOTHING on both unique keys: of two subscribes racing for one hoop user, or
      // for one Slack account, one inserts and the other waits for it and inserts nothing.
      const { count } = await tx.identity.createMany({ data: [{ userId: user.id, provider: 'slack', externalId: slackUserId }], skipDuplicates: true });
      if (count === 0) {
        const winner = await userByIdentity(tx, 'slack', slackUserId);
        if (winner?.id === user.id) return { ...linked, already: true };
        if (winner) return linkedElsewhere(email, winner.email);
        return { refused: 'email_linked_to_other_slack_account', message: `The hoop user ${email} was just linked to another Slack account; nothing was changed.`, detail: { email } };
      }
      await touchUser(tx, user.id);
      await recordAudit(tx, { ...ctx, actorId: user.id, actor: email }, 'user.slack_linked', null, { slackUserId });
      return { ...linked, already: false };
    });
    if ('refused' in outcome) return refuse(outcome, profile, ctx);
    return outcome;
  }

  /** Unlinks the Slack account; false when it was not linked. */
  async function unlinkSlackUser(slackUserId: string, ctx: AuditContext): Promise<boolean> {
    return db.$transaction(async (tx) => {
      const user = await userByIdentity(tx, 'slack', slackUserId);
      if (!user) return false;
      // Conditional, so of two unsubscribes at once only one deletes and audits.
      const { count } = await tx.identity.deleteMany({ where: { provider: 'slack', externalId: slackUserId, userId: user.id } });
      if (count === 0) return false;
      await touchUser(tx, user.id);
      await recordAudit(tx, { ...ctx, actorId: user.id, actor: user.email }, 'user.slack_unlinked', null, { slackUserId });
      return true;
    });
  }

  /** Audits a Slack request refused before any use case ran (another workspace, ...). */
  async function recordSlackRefusal(action: AuditAction, ctx: AuditContext, detail: Record<string, string | null>): Promise<void> {
    await db.$transaction((tx) => recordAudit(tx, ctx, action, null, detail));
  }

  return { linkSlackUser, unlinkSlackUser, recordSlackRefusal };
}
