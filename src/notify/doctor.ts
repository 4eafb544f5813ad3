// `hoop admin doctor`: why notifications may not arrive, as checks a person can act on. Each
// channel's part lives with the channel (slack/, teams/, webhooks/); this file gathers what they
// share (the connections), runs them, and checks what no channel owns. A part that throws (Slack
// unreachable, a query failing) becomes a check of its own: the doctor reports, it never fails.
import type { WebClient } from '@slack/web-api';
import type { Config } from '../config.js';
import { check, type DoctorCheck, type DoctorReport } from '../contracts/doctor.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import type { DoctorConnection } from './doctor-connection.js';
import { createJobSlackClient } from './slack/slack-jobs.js';
import { slackChecks } from './slack/slack-doctor.js';
import { teamsChecks } from './teams/teams-doctor.js';
import { webhookChecks } from './webhooks/webhooks-doctor.js';

export interface DoctorOptions {
  config: Config;
  db: Db;
  /** The Slack client of the checks (default: the job client with a short timeout). */
  slackClient?: WebClient;
  clock?: Clock;
}

/** How long one Slack call of the doctor may take: it answers a person waiting at a terminal. */
export const DOCTOR_SLACK_TIMEOUT_MS = 5000;

/** Runs `part`; a throw becomes a warning of `channel` instead of failing the whole report. */
async function guarded(channel: string, part: () => Promise<DoctorCheck[]>): Promise<DoctorCheck[]> {
  try {
    return await part();
  } catch (error) {
    return [check(channel, 'doctor', 'warn', `Could not check ${channel}: ${(error as Error).message}`, 'Look at the gateway log, then run hoop admin doctor again.')];
  }
}

/** The checks no channel owns: connections that run commands without review, PUBLIC_URL, no channel at all. */
export function generalChecks(config: Pick<Config, 'slack' | 'teamsWebhookUrl' | 'publicUrl'>, connections: DoctorConnection[], enabledWebhooks = 0): DoctorCheck[] {
  const out: DoctorCheck[] = [];
  for (const c of connections) {
    if (c.reviewMode === 'none') {
      out.push(check('general', `review: ${c.name}`, 'warn', `Connection ${c.name} has review mode "none": every command runs without review, so nobody is notified.`, `hoop admin create connection ${c.name} --overwrite --review-mode writes`));
    } else if (c.reviewers.length === 0) {
      out.push(check('general', `review: ${c.name}`, 'warn', `Connection ${c.name} has no reviewer groups: its commands run without review, so nobody is notified.`, `hoop admin create connection ${c.name} --overwrite --reviewers dba-team`));
    }
  }
  const teamsOn = Boolean(config.teamsWebhookUrl) || connections.some((c) => c.plugins.includes('teams') && c.teamsWebhookUrlSet);
  if (teamsOn && isLocalUrl(config.publicUrl)) {
    out.push(check('general', 'PUBLIC_URL', 'warn', `PUBLIC_URL is ${config.publicUrl} (the default): the Approve, Reject and Open buttons of Teams cards open a page only this machine can reach.`, 'Set PUBLIC_URL=https://<where people open hoop> and restart the gateway.'));
  }
  if (!config.slack && !teamsOn && enabledWebhooks === 0) {
    out.push(check('general', 'channels', 'warn', 'No channel is configured (no Slack, no Teams, no enabled webhook endpoint): reviewers learn of requests only by asking (hoop admin get reviews --status pending).', 'Set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or TEAMS_WEBHOOK_URL, or hoop admin create webhook (see the README, Channels).'));
  }
  return out;
}

function isLocalUrl(url: string): boolean {
  try {
    return ['localhost', '127.0.0.1', '[::1]', '0.0.0.0'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** The doctor: a function answering the report, each call checking afresh. */
export function createDoctor({ config, db, slackClient, clock }: DoctorOptions): () => Promise<DoctorReport> {
  const slack = config.slack;
  const client = slack ? (slackClient ?? createJobSlackClient(slack.botToken, slack.apiUrl, Math.min(slack.timeoutMs, DOCTOR_SLACK_TIMEOUT_MS))) : undefined;
  return async () => {
    const now = clock?.now() ?? new Date();
    const rows = await db.connection.findMany({
      orderBy: { name: 'asc' },
      select: { id: true, name: true, reviewers: true, reviewMode: true, plugins: true, slackChannel: true, teamsWebhookUrl: true },
    });
    const connections: DoctorConnection[] = rows.map(({ teamsWebhookUrl, ...c }) => ({ ...c, teamsWebhookUrlSet: teamsWebhookUrl !== null }));
    const parts = await Promise.all([
      guarded('slack', () => slackChecks({ slack, slackOffReason: config.slackOffReason, client, db, connections })),
      guarded('teams', () => teamsChecks({ defaultUrlSet: Boolean(config.teamsWebhookUrl), db, connections, now })),
      guarded('webhooks', () => webhookChecks({ db, connections, now })),
      guarded('general', async () => generalChecks(config, connections, await db.webhookEndpoint.count({ where: { enabled: true } }))),
    ]);
    return { checks: parts.flat() };
  };
}
