// Block Kit for the one reminder of a request still pending (REVIEW_REMINDER_SEC). Pure. No
// buttons: a reminder is never updated, and a decided request must not keep live buttons; the
// request message it answers (and the Home tab) carry them.
import type { ReviewView } from '../contracts/review-view.js';
import { expiresIn, requestPreview } from './home-blocks.js';
import { escapeMrkdwn, fullTextHint, whoAsked, type SlackMessage } from './review-blocks.js';
import { cutLabel, fitBlocks, fitFallbackText } from './slack-limits.js';

const pendingGroups = (review: ReviewView) => review.groups.filter((g) => g.status === 'PENDING').map((g) => escapeMrkdwn(cutLabel(g.group, 100)));

function progress(review: ReviewView): string {
  const { approved, total } = review.approvals;
  return `${approved} of ${total} ${total === 1 ? 'group' : 'groups'} approved; waiting for ${pendingGroups(review).join(', ')}`;
}

/** The reply in the thread of a request message in a channel. */
export function reminderReply(review: ReviewView, now: Date): SlackMessage {
  const line = `:alarm_clock: *Reminder: waiting for a decision* — expires ${expiresIn(review.expiresAt, now)}. ${progress(review)}. Decide with the buttons above, or in hoop's Home tab.`;
  return { text: fitFallbackText(`Reminder: request ${review.id} on ${review.connection} waits for a decision, expires ${expiresIn(review.expiresAt, now)}`), blocks: fitBlocks([{ type: 'section', text: { type: 'mrkdwn', text: line } }], 'message', fullTextHint(review.id)) };
}

/** The direct message to a reviewer who has not decided yet. */
export function reminderDm(review: ReviewView, now: Date): SlackMessage {
  const line = `:alarm_clock: *Reminder: waiting for your decision* — expires ${expiresIn(review.expiresAt, now)}.\nRequest from ${whoAsked(review)} on *${escapeMrkdwn(cutLabel(review.connection, 200))}*: ${requestPreview({ ...review, inputTruncated: false })}\n${progress(review)}.`;
  const how = `Decide with the buttons of the request message, in hoop's Home tab, or \`hoop review approve ${review.id}\` / \`hoop review reject ${review.id} --reason R\`.`;
  return {
    text: fitFallbackText(`Reminder: waiting for your decision on request ${review.id} (${review.connection}), expires ${expiresIn(review.expiresAt, now)}`),
    blocks: fitBlocks([{ type: 'section', text: { type: 'mrkdwn', text: line } }, { type: 'context', elements: [{ type: 'mrkdwn', text: how }] }], 'message', fullTextHint(review.id)),
  };
}

/** The last resort when Slack refuses a reminder's rendering: names and the id only. */
export function safeReminder(review: ReviewView, now: Date): SlackMessage {
  const line = `Reminder: request \`${review.id}\` on ${escapeMrkdwn(cutLabel(review.connection, 200))} waits for a decision; it expires ${expiresIn(review.expiresAt, now)}. Details: ${fullTextHint(review.id)}`;
  return { text: fitFallbackText(`Reminder: request ${review.id} waits for a decision`), blocks: fitBlocks([{ type: 'section', text: { type: 'mrkdwn', text: line } }]) };
}
