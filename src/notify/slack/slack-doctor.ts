// The Slack part of `hoop admin doctor`: is Slack configured, does it accept the bot token, is the
// bot in every channel the gateway posts to, and which reviewers have not linked their Slack
// account. Every Slack answer, error or silence becomes a check; nothing here throws for Slack.
import { ErrorCode as SlackErrorCode, type WebClient, type WebAPIPlatformError } from '@slack/web-api';
import type { SlackConfig } from '../../config.js';
import { check, type DoctorCheck } from '../../contracts/doctor.js';
import type { Db } from '../../db/client.js';
import { externalIdOf, slackIdentity } from '../../db/identities.js';
import { channelOnFor, type DoctorConnection } from '../doctor-connection.js';

export interface SlackDoctorOptions {
  slack?: SlackConfig;
  slackOffReason?: string;
  client?: WebClient;
  db: Db;
  connections: DoctorConnection[];
}

const TOKEN_REFUSED = new Set(['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive', 'no_permission']);
const TOKEN_FIX = 'Set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-...) of the installed app (api.slack.com/apps > your app > OAuth & Permissions; reinstall the app if it was removed) and restart the gateway.';
/** Channels checked at once: a few, so a long list neither takes long nor meets Slack's rate limit. */
const PARALLEL = 4;

/** Slack's error code of a failed call (`channel_not_found`), or null for a network error or timeout. */
function slackError(error: unknown): string | null {
  const e = error as { code?: string; data?: WebAPIPlatformError['data'] };
  if (e.code === SlackErrorCode.PlatformError) return e.data?.error ?? 'unknown_error';
  if (e.code === SlackErrorCode.RateLimitedError) return 'ratelimited';
  return null;
}

const why = (error: unknown) => slackError(error) ?? (error as Error).message;

// Slack channel names are lower-case; ids (C0123ABC) are not. A name works for posting but not for
// reading a channel's history, which the exactly-once posting needs.
const looksLikeName = (channel: string) => channel.startsWith('#') || /[a-z]/.test(channel);

/** The Slack checks. */
export async function slackChecks({ slack, slackOffReason, client, db, connections }: SlackDoctorOptions): Promise<DoctorCheck[]> {
  const listing = connections.filter((c) => c.plugins.includes('slack'));
  if (!slack || !client) {
    const reason = slackOffReason ?? 'SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set';
    if (listing.length === 0) return [check('slack', 'configured', 'ok', `Slack is off (${reason}); no connection lists it.`)];
    const names = listing.map((c) => c.name).join(', ');
    return [
      check('slack', 'configured', 'fail', `Slack is off (${reason}), yet ${listing.length === 1 ? 'connection' : 'connections'} ${names} ${listing.length === 1 ? 'lists' : 'list'} the slack plugin: their requests reach nobody in Slack.`, `Set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (README, Slack) and restart the gateway, or drop slack from their plugins: hoop admin create connection ${listing[0].name} --overwrite --plugin '' (every channel configured; or name the ones you want)`),
    ];
  }
  const out: DoctorCheck[] = [check('slack', 'configured', 'ok', 'Slack is on (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set).')];
  const on = connections.filter((c) => channelOnFor(c, 'slack', true));
  const auth = await authCheck(client, slack);
  out.push(auth.check);
  if (auth.ok) out.push(...(await channelChecks(client, slack, on)));
  else out.push(check('slack', 'channels', 'warn', 'Channels not checked: Slack must accept the token first.', 'Fix the token (above), then run hoop admin doctor again.'));
  // A connection with review mode none asks nobody: its reviewers need no link.
  out.push(...(await unlinkedReviewers(db, on.filter((c) => c.reviewMode !== 'none'))));
  return out;
}

async function authCheck(client: WebClient, slack: SlackConfig): Promise<{ ok: boolean; check: DoctorCheck }> {
  try {
    const a = await client.auth.test();
    if (slack.teamId && a.team_id && a.team_id !== slack.teamId) {
      return { ok: false, check: check('slack', 'auth', 'fail', `The bot token belongs to workspace ${a.team ?? ''} (${a.team_id}), but SLACK_TEAM_ID is ${slack.teamId}: every click and /hoop command is refused as coming from another workspace.`, `Set SLACK_TEAM_ID=${a.team_id} (or unset it), or use the token of the app installed in ${slack.teamId}, and restart the gateway.`) };
    }
    return { ok: true, check: check('slack', 'auth', 'ok', `Slack accepts the token: bot @${a.user ?? '?'} (${a.user_id ?? '?'}) in workspace ${a.team ?? '?'} (${a.team_id ?? '?'}).`) };
  } catch (error) {
    const code = slackError(error);
    if (code && TOKEN_REFUSED.has(code)) return { ok: false, check: check('slack', 'auth', 'fail', `Slack refused the bot token (${code}): nothing can be posted.`, TOKEN_FIX) };
    const fix = code === 'ratelimited' ? 'Wait a minute and run hoop admin doctor again.' : 'Check that the gateway reaches Slack (https://slack.com, or SLACK_API_URL) and run hoop admin doctor again.';
    return { ok: false, check: check('slack', 'auth', 'fail', `Slack did not answer auth.test (${why(error)}).`, fix) };
  }
}

/** Each channel the gateway posts to: SLACK_CHANNEL and the Slack connections' own channels. */
async function channelChecks(client: WebClient, slack: SlackConfig, on: DoctorConnection[]): Promise<DoctorCheck[]> {
  const users = new Map<string, string[]>();
  const add = (channel: string, user: string) => users.set(channel, [...(users.get(channel) ?? []), user]);
  if (slack.defaultChannel) add(slack.defaultChannel, 'SLACK_CHANNEL');
  const out: DoctorCheck[] = [];
  for (const c of on) {
    const channel = c.slackChannel ?? slack.defaultChannel;
    if (channel) add(channel, `connection ${c.name}`);
    else {
      out.push(check('slack', `channel: ${c.name}`, 'warn', `Connection ${c.name} has no Slack channel and SLACK_CHANNEL is not set: its requests reach only subscribed reviewers by DM.`, `hoop admin create connection ${c.name} --overwrite --channel C0123ABCD (the channel's ID), or set SLACK_CHANNEL`));
    }
  }
  const entries = [...users.entries()];
  for (let i = 0; i < entries.length; i += PARALLEL) {
    out.push(...(await Promise.all(entries.slice(i, i + PARALLEL).map(([channel, by]) => oneChannel(client, channel, by)))));
  }
  return out;
}

async function oneChannel(client: WebClient, channel: string, usedBy: string[]): Promise<DoctorCheck> {
  const name = `channel ${channel}`;
  const setBy = `set by ${usedBy.join(', ')}`;
  const where = usedBy.map((u) => (u === 'SLACK_CHANNEL' ? 'SLACK_CHANNEL=C0123ABCD' : `hoop admin create connection ${u.replace(/^connection /, '')} --overwrite --channel C0123ABCD`)).join('; ');
  try {
    const res = await client.conversations.info({ channel: channel.replace(/^#/, '') });
    const ch = res.channel ?? {};
    const shown = ch.name ? `#${ch.name}` : channel;
    if (ch.is_archived) return check('slack', name, 'fail', `${shown} (${setBy}) is archived: nothing can be posted there.`, `Unarchive ${shown}, or point to another channel: ${where}`);
    if (ch.is_member === false) return check('slack', name, 'fail', `The bot is not a member of ${shown} (${setBy}): it cannot find its earlier messages there, and cannot post at all if the channel is private.`, `In Slack, in ${shown}: /invite @hoop`);
    return check('slack', name, 'ok', `${shown} (${setBy}) exists and the bot is a member.`);
  } catch (error) {
    const code = slackError(error);
    if (code === 'channel_not_found') {
      const hint = looksLikeName(channel) ? ` "${channel}" looks like a channel name: the gateway needs the channel's ID (channel details, at the bottom).` : '';
      return check('slack', name, 'fail', `Slack knows no channel ${channel} (${setBy}) that the bot can see: it does not exist, or it is private and the bot is not in it.${hint}`, `In Slack, in that channel: /invite @hoop; or set the right channel ID: ${where}`);
    }
    if (code === 'not_in_channel') return check('slack', name, 'fail', `The bot is not a member of ${channel} (${setBy}).`, `In Slack, in that channel: /invite @hoop`);
    if (code === 'missing_scope') return check('slack', name, 'fail', `The Slack app may not read channel details (missing_scope), so ${channel} cannot be checked.`, 'Add the channels:read and groups:read bot scopes (manifest.yml) at api.slack.com/apps, reinstall the app, and run hoop admin doctor again.');
    return check('slack', name, 'warn', `Could not check ${channel} (${setBy}): ${why(error)}.`, 'Run hoop admin doctor again in a minute.');
  }
}

/** Per connection, the active reviewers who have not run /hoop subscribe: they get no DM and cannot click. */
async function unlinkedReviewers(db: Db, on: DoctorConnection[]): Promise<DoctorCheck[]> {
  const groups = [...new Set(on.flatMap((c) => c.reviewers))];
  if (groups.length === 0) return [];
  const people = await db.user.findMany({ where: { active: true, groups: { hasSome: groups } }, select: { email: true, groups: true, ...slackIdentity }, orderBy: { email: 'asc' } });
  const out: DoctorCheck[] = [];
  for (const c of on) {
    if (c.reviewers.length === 0) continue;
    const reviewers = people.filter((p) => p.groups.some((g) => c.reviewers.includes(g)));
    const unlinked = reviewers.filter((p) => !externalIdOf(p));
    const name = `reviewers linked: ${c.name}`;
    if (unlinked.length === 0) {
      if (reviewers.length) out.push(check('slack', name, 'ok', `Every reviewer of ${c.name} (${reviewers.length}) has linked Slack.`));
      else out.push(check('slack', name, 'warn', `No active user is in ${c.reviewers.join(', ')}, the reviewer groups of ${c.name}: nobody is told of its requests, and nobody can approve them.`, `hoop admin create user EMAIL --groups ${c.reviewers[0]} (or hoop admin update user EMAIL --groups ...)`));
      continue;
    }
    const list = unlinked.map((p) => `${p.email} (${p.groups.filter((g) => c.reviewers.includes(g)).join(', ')})`).join(', ');
    out.push(check('slack', name, 'warn', `${unlinked.length} of ${reviewers.length} reviewers of ${c.name} have not linked Slack, so they get no DM and cannot click Approve or Reject: ${list}.`, 'Each of them runs /hoop subscribe in Slack.'));
  }
  return out;
}
