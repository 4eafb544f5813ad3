// The channels this gateway has configured, built once by the composition root: each channel
// registers here and nowhere else.
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../core/ports.js';
import type { OutboxEntry } from '../db/outbox.js';
import type { AdminNotice, Notifier } from './channel.js';
import { createSlackAdminNotice } from './slack/slack-admin-notice.js';
import { createHomeBuilder, createHomeJobs } from './slack/slack-home.js';
import { createSlackReminder } from './slack/slack-reminder.js';
import { createNotifierRegistry, type NotifierRegistry } from './registry.js';
import { createJobSlackClient, createSlackJobs } from './slack/slack-jobs.js';
import { createSlackNotifier } from './slack/slack-notifier.js';
import { createTeamsNotifier } from './teams/teams-notifier.js';
import type { EndpointSlots } from './webhooks/endpoint-slots.js';
import { createWebhookNotifier } from './webhooks/notifier.js';

export interface ConfiguredNotifiersOptions {
  config: Config;
  db: Db;
  log: Logger;
  /** The time of schedules, reminders' "expires in" and webhook retries. */
  clock: Clock;
  /**
   * Hands a job to its queue at once: a channel's job that plans more (webhook dispatch fans out
   * one delivery per endpoint, the Slack Home refresh one publish per person).
   */
  enqueue: (entry: OutboxEntry) => Promise<void>;
  /** This process runs jobs (a process that only plans them needs no clients). */
  runsJobs: boolean;
  /** The in-flight slots of webhook endpoints, shared by every process (absent: no per-endpoint cap). */
  webhookSlots?: EndpointSlots;
}

/** The registry of every channel configured in `config`. */
export function createConfiguredNotifiers({ config, db, log, clock, enqueue, runsJobs, webhookSlots }: ConfiguredNotifiersOptions): NotifierRegistry {
  const notifiers: Notifier[] = [];
  if (config.slack) {
    const slack = config.slack;
    const client = runsJobs ? createJobSlackClient(slack.botToken, slack.apiUrl, slack.timeoutMs) : undefined;
    const jobs = client ? createSlackJobs({ db, client, defaultChannel: slack.defaultChannel, publicUrl: config.publicUrl, log, claimTtlMs: 2 * slack.timeoutMs + 2000 }) : undefined;
    const home = client ? createHomeJobs({ db, client, builder: createHomeBuilder({ db, clock }), log, enqueue }) : undefined;
    const remind = jobs ? createSlackReminder({ db, jobs, clock }) : undefined;
    const notifyAdmins = client ? createSlackAdminNotice({ db, client }) : undefined;
    notifiers.push(createSlackNotifier({ db, jobs, home, remind, notifyAdmins }));
  }
  // Teams can always serve a connection that lists it with its own Workflows URL; with
  // TEAMS_WEBHOOK_URL it is on for every connection that lists no plugins too.
  const teamsByDefault = Boolean(config.teamsWebhookUrl);
  notifiers.push(createTeamsNotifier({ db, defaultWebhookUrl: config.teamsWebhookUrl, publicUrl: config.publicUrl, log, byDefault: teamsByDefault, clock }));
  // Signed webhooks: always on; a request of a connection no endpoint subscribes to costs one
  // dispatch job that finds none.
  // A disabled endpoint is news for the admins, on every channel that can tell them.
  const tellAdmins = async (notice: AdminNotice) => {
    for (const e of registry.jobsOfAdminNotice(notice)) await enqueue(e);
  };
  notifiers.push(createWebhookNotifier({ db, clock, log, enqueue, allowPrivate: config.webhooks.allowPrivate, tellAdmins, slots: webhookSlots }));
  const defaults = notifiers.map((n) => n.channel).filter((c) => c !== 'teams' || teamsByDefault);
  const registry = createNotifierRegistry(notifiers, defaults);
  return registry;
}
