// Which channels are on: those configured on this gateway, narrowed per connection by its
// `plugins` (`hoop admin create connection ... --plugin slack --plugin teams`). A connection that
// lists none uses every configured channel, so the simplest set-up works.
import type { Transition } from '../core/review-state.js';
import type { OutboxEntry } from '../db/outbox.js';
import { CHANNEL_NAMES, type ChannelName, type NewRequest, type Notifier } from './channel.js';

export interface NotifierRegistry {
  /** The channels configured on this gateway. */
  readonly configured: readonly ChannelName[];
  /** The notifier of `channel`, when configured. */
  get(channel: string): Notifier | undefined;
  /** The notifiers on for a connection with these plugins. */
  on(plugins: readonly string[]): Notifier[];
  /** The jobs a new request causes on the connection's channels. */
  jobsOfNewRequest(plugins: readonly string[], request: NewRequest): OutboxEntry[];
  /** The jobs a transition causes: its run, and each channel's. */
  jobsOf(plugins: readonly string[], reviewId: string, t: Transition): OutboxEntry[];
  close(): Promise<void>;
}

/** The Prisma condition of connections on which `channel` is on (plugins empty, or listing it). */
export function channelOn(channel: ChannelName) {
  return { OR: [{ plugins: { isEmpty: true } }, { plugins: { has: channel } }] };
}

/** True for a plugin name the gateway knows. */
export function isChannelName(name: string): name is ChannelName {
  return (CHANNEL_NAMES as readonly string[]).includes(name);
}

/** The registry over the notifiers configured on this gateway (one per channel). */
export function createNotifierRegistry(notifiers: readonly Notifier[]): NotifierRegistry {
  const byName = new Map(notifiers.map((n) => [n.channel as string, n]));
  const on = (plugins: readonly string[]) => (plugins.length === 0 ? [...notifiers] : notifiers.filter((n) => plugins.includes(n.channel)));
  return {
    configured: notifiers.map((n) => n.channel),
    get: (channel) => byName.get(channel),
    on,
    jobsOfNewRequest: (plugins, request) => on(plugins).flatMap((n) => n.jobsOfNewRequest?.(request) ?? []),
    jobsOf(plugins, reviewId, t) {
      const run: OutboxEntry[] = t.effects.some((e) => e.type === 'execute') ? [{ name: 'review.execute', payload: { reviewId }, jobId: `execute-${reviewId}` }] : [];
      return [...run, ...on(plugins).flatMap((n) => n.jobsOf?.(reviewId, t) ?? [])];
    },
    async close() {
      await Promise.all(notifiers.map((n) => n.close?.()));
    },
  };
}
