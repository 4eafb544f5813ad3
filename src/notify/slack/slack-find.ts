// Finds the messages we may already have posted: every post carries message metadata naming its
// review and kind, and conversations.history / conversations.replies return it when asked with
// include_all_metadata. Used after a post's outcome is unknown (timeout, 5xx, a process killed
// between Slack's answer and our record of it), before posting again.
import type { WebClient } from '@slack/web-api';
import type { PostedMessage } from '../../db/slack-slots.js';

export const METADATA_EVENT_TYPE = 'hoop_review';

/** What every message we post carries, so we can recognise it in a channel's history. */
export interface HoopMetadata {
  event_type: typeof METADATA_EVENT_TYPE;
  event_payload: { review_id: string; kind: string };
}

/** The metadata of a message of `kind` (request, result, requester-...) about review `reviewId`. */
export function hoopMetadata(reviewId: string, kind: string): HoopMetadata {
  return { event_type: METADATA_EVENT_TYPE, event_payload: { review_id: reviewId, kind } };
}

export interface FindOptions {
  /** Where the slot's message was aimed: a channel id or a user id (its DM with the bot). */
  target: string;
  /** The conversation when known already (a thread reply's parent channel). */
  channel?: string;
  /** For a thread reply: the parent's ts. */
  threadTs?: string;
  metadata: HoopMetadata;
  /** When the first attempt began; the search looks from a minute before (clock skew). */
  since: Date;
}

// Enough for a busy channel over the minutes a claim can stay open; beyond it we give up looking.
const MAX_PAGES = 10;
const PAGE = 200;

type FoundMessage = { ts?: string; thread_ts?: string; metadata?: { event_type?: string; event_payload?: Record<string, unknown> } };

const isUserId = (target: string) => /^[UW][A-Z0-9]+$/.test(target);

/** The messages (oldest first) of this slot that Slack holds; errors are Slack's, unmapped. */
export async function findPosted(client: WebClient, o: FindOptions): Promise<PostedMessage[]> {
  // A message "to a user" lands in the bot's DM with them; history needs that conversation's id.
  const channel = o.channel ?? (isUserId(o.target) ? (await client.conversations.open({ users: o.target })).channel?.id : o.target);
  if (!channel) throw new Error(`Slack gave no DM conversation for ${o.target}`);
  const oldest = (o.since.getTime() / 1000 - 60).toFixed(6);
  const found: PostedMessage[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = o.threadTs
      ? await client.conversations.replies({ channel, ts: o.threadTs, oldest, include_all_metadata: true, limit: PAGE, cursor })
      : await client.conversations.history({ channel, oldest, include_all_metadata: true, limit: PAGE, cursor });
    for (const m of (res.messages ?? []) as FoundMessage[]) {
      const p = m.metadata?.event_payload;
      if (!m.ts || m.ts === o.threadTs || m.metadata?.event_type !== METADATA_EVENT_TYPE) continue;
      if (p?.review_id === o.metadata.event_payload.review_id && p?.kind === o.metadata.event_payload.kind) found.push({ channel, ts: m.ts });
    }
    cursor = res.response_metadata?.next_cursor || undefined;
    if (!res.has_more || !cursor) break;
  }
  return found.sort((a, b) => a.ts.localeCompare(b.ts, 'en', { numeric: true }));
}
