// A connection as the doctor's checks see it (src/notify/doctor.ts and each channel's part).
import type { ChannelName } from './channel.js';

/** A connection as the checks see it: never its URLs (the Teams one is a secret). */
export interface DoctorConnection {
  id: string;
  name: string;
  reviewers: string[];
  reviewMode: string;
  plugins: string[];
  slackChannel: string | null;
  teamsWebhookUrlSet: boolean;
}

/** True when `channel` announces this connection's requests (its plugins, or the gateway's defaults when it lists none). */
export function channelOnFor(c: Pick<DoctorConnection, 'plugins'>, channel: ChannelName, onByDefault: boolean): boolean {
  return c.plugins.length === 0 ? onByDefault : c.plugins.includes(channel);
}
