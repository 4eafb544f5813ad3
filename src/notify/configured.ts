// The channels this gateway has configured, built once by the composition root: each channel
// registers here and nowhere else.
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../core/ports.js';
import type { OutboxEntry } from '../db/outbox.js';
import type { Notifier } from './channel.js';
import { createHomeBuilder, createHomeJobs } from './slack/slack-home.js';
import { createSlackReminder } from './slack/slack-reminder.js';
import { createNotifierRegistry, type NotifierRegistry } from './registry.js';
import { createJobSlackClient, createSlackJobs } from './slack/slack-jobs.js';
import { createSlackNotifier } from './slack/slack-notifier.js';
import { createTeamsNotifier } from './teams/teams-notifier.js';

export interface ConfiguredNotifiersOptions {
  config: Config;
  db: Db;
  log: Logger;
  /** This process runs jobs (a process that only plans them needs no clients). */
  runsJobs: boolean;
  /** Where reminders count "expires in" from (default: the system clock). */
  clock?: Clock;
  /** Adds a job to the queue: a channel's job that plans more (the Slack Home refresh fans out per person). */
  enqueue?: (entry: OutboxEntry) => Promise<void>;
}

/** The registry of every channel configured in `config`. */
export function createConfiguredNotifiers({ config, db, log, runsJobs, clock, enqueue }: ConfiguredNotifiersOptions): NotifierRegistry {
  const notifiers: Notifier[] = [];
  if (config.slack) {
    const slack = config.slack;
    const client = runsJobs ? createJobSlackClient(slack.botToken, slack.apiUrl, slack.timeoutMs) : undefined;
    const jobs = client ? createSlackJobs({ db, client, defaultChannel: slack.defaultChannel, log, claimTtlMs: 2 * slack.timeoutMs + 2000 }) : undefined;
    const home = client ? createHomeJobs({ db, client, builder: createHomeBuilder({ db, clock }), log, enqueue }) : undefined;
    const remind = jobs ? createSlackReminder({ db, jobs, clock }) : undefined;
    notifiers.push(createSlackNotifier({ db, jobs, home, remind }));
  }
  // Teams can always serve a connection that lists it with its own Workflows URL; with
  // TEAMS_WEBHOOK_URL it is on for every connection that lists no plugins too.
  const teamsByDefault = Boolean(config.teamsWebhookUrl);
  notifiers.push(createTeamsNotifier({ db, defaultWebhookUrl: config.teamsWebhookUrl, publicUrl: config.publicUrl, log, byDefault: teamsByDefault, clock }));
  const defaults = notifiers.map((n) => n.channel).filter((c) => c !== 'teams' || teamsByDefault);
  return createNotifierRegistry(notifiers, defaults);
}
