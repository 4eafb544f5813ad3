// Counts what Slack (the fake) holds about one review: the request messages per conversation,
// the thread replies under each, the requester's DMs, and the request messages not yet showing
// the final state. Tests of "exactly once" compare it with what one clean run leaves.
import type { FakeMessage, FakeSlack } from '../fakes/fake-slack.js';

export interface SlackTally {
  /** Request messages per conversation. */
  requests: Record<string, number>;
  /** Per conversation, the number of thread replies under each of its request messages. */
  replies: Record<string, number[]>;
  /** Top-level messages about the review in the requester's DM. */
  requesterDms: number;
  /** Request messages that do not show `finalWords`, or still carry buttons. */
  notFinal: number;
}

const about = (m: FakeMessage, reviewId: string) => JSON.stringify([m.text, m.blocks]).includes(reviewId);

/** The tally of `reviewId` in `slack`; `requesterDm` is the requester's DM conversation. */
export function tallySlack(slack: FakeSlack, reviewId: string, requesterDm: string, finalWords: string): SlackTally {
  const mine = slack.messages.filter((m) => about(m, reviewId));
  const requests = mine.filter((m) => !m.thread_ts && m.text?.startsWith('Access request'));
  const tally: SlackTally = { requests: {}, replies: {}, requesterDms: 0, notFinal: 0 };
  for (const q of requests) {
    tally.requests[q.channel] = (tally.requests[q.channel] ?? 0) + 1;
    const replies = slack.messages.filter((m) => m.channel === q.channel && m.thread_ts === q.ts).length;
    (tally.replies[q.channel] ??= []).push(replies);
    const blocks = JSON.stringify(q.blocks);
    if (!blocks.includes(finalWords) || blocks.includes('review.approve') || blocks.includes('review.reject')) tally.notFinal++;
  }
  tally.requesterDms = mine.filter((m) => m.channel === requesterDm && !m.thread_ts && !m.text?.startsWith('Access request')).length;
  return tally;
}

/** What one clean run leaves: one request message in each of `channels`, one reply under each, one DM. */
export function cleanTally(channels: string[]): SlackTally {
  return {
    requests: Object.fromEntries(channels.map((c) => [c, 1])),
    replies: Object.fromEntries(channels.map((c) => [c, [1]])),
    requesterDms: 1,
    notFinal: 0,
  };
}
