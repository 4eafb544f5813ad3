// `/hoop subscribe | unsubscribe | help`. Subscribing links a Slack account to the hoop user with
// the same email; Slack's own view of the account (confirmed email, not a bot, not deactivated,
// this workspace) decides whether that email can be trusted.
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { isAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AdminService } from '../service/admin-service.js';
import type { SlackProfile } from '../service/slack-links.js';
import { slackCtx } from './slack-context.js';
import { cutLabel, fitFallbackText } from './slack-limits.js';

const HELP = [
  '*hoop* — approvals for production database commands.',
  '• `/hoop subscribe` — link your Slack account to your hoop user (same email) to receive and decide requests.',
  '• `/hoop unsubscribe` — stop receiving requests here.',
  '• `/hoop help` — this message.',
  'Requests arrive as messages with *Approve* and *Reject* buttons, one pair per reviewer group.',
].join('\n');

export interface HoopCommandOptions {
  admin: AdminService;
  log: Logger;
  /** The workspace the app is installed in (SLACK_TEAM_ID, or auth.test's team_id). */
  installedTeam: () => Promise<string>;
}

async function readProfile(client: WebClient, slackUserId: string): Promise<SlackProfile> {
  const { user } = await client.users.info({ user: slackUserId });
  return {
    slackUserId,
    teamId: user?.team_id,
    email: user?.profile?.email,
    emailConfirmed: user?.is_email_confirmed,
    deleted: user?.deleted,
    isBot: user?.is_bot,
  };
}

/** Registers `/hoop` on `app`. */
export function registerHoopCommand(app: App, { admin, log, installedTeam }: HoopCommandOptions): void {
  app.command('/hoop', async ({ command, ack, client, context }) => {
    const [sub = 'help'] = command.text.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const ctx = slackCtx({ userId: command.user_id, teamId: command.team_id ?? null, channelId: command.channel_id ?? null }, undefined, context);
    const reply = (text: string) => ack({ response_type: 'ephemeral', text: fitFallbackText(text) });
    if (sub === 'help') return reply(HELP);
    if (sub === 'unsubscribe') {
      const done = await admin.unlinkSlackUser(command.user_id, ctx);
      return reply(done ? 'Unsubscribed: you will no longer receive hoop requests here. `/hoop subscribe` links you again.' : 'You were not subscribed.');
    }
    if (sub !== 'subscribe') return reply(`Unknown command \`${cutLabel(sub, 100)}\`. Try \`/hoop help\`.`);
    let profile: SlackProfile;
    let team: string;
    try {
      [profile, team] = await Promise.all([readProfile(client, command.user_id), installedTeam()]);
    } catch (error) {
      log.warn({ err: error }, 'users.info or auth.test failed during /hoop subscribe');
      return reply('Could not read your Slack profile just now; nothing was changed. Try `/hoop subscribe` again in a minute.');
    }
    try {
      const user = await admin.linkSlackUser(profile, team, ctx);
      const groups = user.groups.length ? user.groups.join(', ') : 'no groups yet';
      if (user.already) return reply(`You are already subscribed as *${user.email}* (${groups}); nothing changed.`);
      return reply(`Subscribed as *${user.email}* (${groups}). Requests for your groups will arrive here with Approve and Reject buttons.`);
    } catch (error) {
      if (!isAppError(error)) throw error;
      await reply(error.userMessage);
      // The person whose link someone tried to take over hears of it (after the 3-second ack).
      const previous = error.details?.previousSlackUserId;
      if (typeof previous === 'string') {
        const text = `:warning: <@${command.user_id}> tried to link their Slack account to your hoop user ${String(error.details?.email ?? '')} with \`/hoop subscribe\`. It was refused; your link is unchanged. If you did not expect this, tell your hoop admin.`;
        await client.chat.postMessage({ channel: previous, text }).catch((err) => log.warn({ err, previous }, 'could not tell the holder of a Slack link about a refused takeover'));
      }
    }
  });
}
