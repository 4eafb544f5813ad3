// Which channels are on: a connection that lists plugins (`hoop admin create connection ...
// --plugin slack --plugin teams`) gets exactly those; one that lists none gets every channel
// configured by default on the gateway (Slack with its token, Teams with TEAMS_WEBHOOK_URL), so
// the simplest set-up works. A channel available but not on by default (Teams with only
// per-connection URLs) serves the connections that list it.
import type { Transition } from '../core/review-state.js';
import type { OutboxEntry } from '../db/outbox.js';
import { CHANNEL_NAMES, type ChannelName, type NewRequest, type Notifier, type AdminNotice } from './channel.js';

export interface NotifierRegistry {
  /** The channels this gateway can serve (a worker runs for each). */
  readonly configured: readonly ChannelName[];
  /** Those on for a connection that lists no plugins. */
  readonly defaults: readonly ChannelName[];
  /** The notifier of `channel`, when configured. */
  get(channel: string): Notifier | undefined;
  /** The notifiers on for a connection with these plugins. */
  on(plugins: readonly string[]): Notifier[];
  /** The jobs a new request causes on the connection's channels. */
  jobsOfNewRequest(plugins: readonly string[], request: NewRequest): OutboxEntry[];
  /** The jobs a transition causes: its run, and each channel's. */
  jobsOf(plugins: readonly string[], reviewId: string, t: Transition): OutboxEntry[];
  /** The jobs of a request's reminder on the connection's channels. */
  jobsOfReminder(plugins: readonly string[], reviewId: string): OutboxEntry[];
  /** The jobs that show a request's impact preview on the connection's channels. */
  jobsOfPreview(plugins: readonly string[], reviewId: string): OutboxEntry[];
  /** The jobs that tell the admins `notice`, on every channel this gateway serves. */
  jobsOfAdminNotice(notice: AdminNotice): OutboxEntry[];
  close(): Promise<void>;
}

/** The Prisma condition of connections on which `channel` is on: listing it, or (when on by default) listing none. */
export function channelOn(channel: ChannelName, byDefault = true) {
  return byDefault ? { OR: [{ plugins: { isEmpty: true } }, { plugins: { has: channel } }] } : { plugins: { has: channel } };
}

/** True for a plugin name the gateway knows. */
export function isChannelName(name: string): name is ChannelName {
  return (CHANNEL_NAMES as readonly string[]).includes(name);
}

/**
 * The registry over the notifiers this gateway can serve (one per channel); `defaults` names those
 * on for connections without plugins (all of them when absent).
 */
export function createNotifierRegistry(notifiers: readonly Notifier[], defaults: readonly ChannelName[] = notifiers.map((n) => n.channel)): NotifierRegistry {
  const byName = new Map(notifiers.map((n) => [n.channel as string, n]));
  const on = (plugins: readonly string[]) => notifiers.filter((n) => (plugins.length === 0 ? defaults.includes(n.channel) : plugins.includes(n.channel)));
  return {
    configured: notifiers.map((n) => n.channel),
    defaults: notifiers.map((n) => n.channel).filter((c) => defaults.includes(c)),
    get: (channel) => byName.get(channel),
    on,
    jobsOfNewRequest: (plugins, request) => on(plugins).flatMap((n) => n.jobsOfNewRequest?.(request) ?? []),
    jobsOf(plugins, reviewId, t) {
      const run: OutboxEntry[] = t.effects.some((e) => e.type === 'execute') ? [{ name: 'review.execute', payload: { reviewId }, jobId: `execute-${reviewId}` }] : [];
      return [...run, ...on(plugins).flatMap((n) => n.jobsOf?.(reviewId, t) ?? [])];
    },
    jobsOfReminder: (plugins, reviewId) => on(plugins).flatMap((n) => n.jobsOfReminder?.(reviewId) ?? []),
    jobsOfPreview: (plugins, reviewId) => on(plugins).flatMap((n) => n.jobsOfPreview?.(reviewId) ?? []),
    jobsOfAdminNotice: (notice) => notifiers.flatMap((n) => n.jobsOfAdminNotice?.(notice) ?? []),
    async close() {
      await Promise.all(notifiers.map((n) => n.close?.()));
    },
  };
}
