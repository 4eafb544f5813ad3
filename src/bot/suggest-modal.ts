// "Suggest a change" in Slack (corrections, issue 14): the modal with the command to correct
// (prefilled with the original) and a required comment, and the requester's direct message about a
// correction of their request, with its diff and an "Accept change" button.
import type { ReviewView } from '../contracts/review-view.js';
import { ACCEPT_ACTION, correctionBlocks, escapeMrkdwn, fullTextHint, SUGGEST_MODAL, who, type SlackMessage } from './review-blocks.js';
import { cutLabel, fitBlocks, fitFallbackText, fitModal } from './slack-limits.js';

/** What the modal carries back on submission: which review and group, and where the click was. */
export interface SuggestModalMeta {
  reviewId: string;
  group: string;
  channel?: string;
}

/** The longest command a Slack text input holds: longer ones are corrected with the CLI or the web app. */
export const SUGGEST_INPUT_MAX = 3000;
/** The longest comment (the original's reject reason is made of it). */
export const SUGGEST_COMMENT_MAX = 1000;

/** The value of the Accept button: the correction it accepts. */
export interface AcceptButtonValue {
  reviewId: string;
}

/** The suggest modal, or null when the command is too long for a Slack text input. */
export function suggestModal(meta: SuggestModalMeta, review: Pick<ReviewView, 'connection' | 'requester' | 'input'>) {
  if (review.input.length > SUGGEST_INPUT_MAX) return null;
  return fitModal({
    type: 'modal' as const,
    callback_id: SUGGEST_MODAL,
    private_metadata: JSON.stringify(meta),
    title: { type: 'plain_text' as const, text: 'Suggest a change' },
    submit: { type: 'plain_text' as const, text: 'Suggest' },
    close: { type: 'plain_text' as const, text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `Change the request of ${escapeMrkdwn(cutLabel(review.requester, 300))} on *${escapeMrkdwn(cutLabel(review.connection, 200))}*. It is rejected, and the corrected command becomes a new request with your approval for *${escapeMrkdwn(cutLabel(meta.group, 200))}*; it runs once the requester accepts it and the other groups approve.` },
      },
      {
        type: 'input',
        block_id: 'input',
        label: { type: 'plain_text', text: 'Corrected command' },
        element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: SUGGEST_INPUT_MAX, initial_value: review.input },
      },
      {
        type: 'input',
        block_id: 'reason',
        label: { type: 'plain_text', text: 'Comment (why; shown to everyone)' },
        element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: SUGGEST_COMMENT_MAX },
      },
    ],
  });
}

/** The requester's direct message about a correction of their request: what changed, and the Accept button. */
export function correctionNotice(correction: ReviewView): SlackMessage {
  const c = correction.correction;
  const by = who(c?.suggestedBy ?? null, c?.suggestedBySlackId ?? null);
  const line = `:pencil2: ${by} changed your request on *${escapeMrkdwn(cutLabel(correction.connection, 200))}*: the original was rejected, and the corrected command is a new request in your name (\`${correction.id}\`). It runs only if you accept the change and the reviewer groups approve it.`;
  const blocks: Record<string, unknown>[] = [{ type: 'section', text: { type: 'mrkdwn', text: line } }, ...correctionBlocks(correction, 1500)];
  if (correction.status === 'PENDING' && c && !c.accepted) {
    const value = JSON.stringify({ reviewId: correction.id } satisfies AcceptButtonValue);
    blocks.push({ type: 'actions', block_id: 'correction', elements: [{ type: 'button', action_id: ACCEPT_ACTION, style: 'primary', text: { type: 'plain_text', text: 'Accept change' }, value }] });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Not what you meant? Reject it: \`hoop review reject ${correction.id}\`. The whole command: ${fullTextHint(correction.id)}` }] });
  return { text: fitFallbackText(`Your request on ${correction.connection} was changed by ${c?.suggestedBy ?? 'a reviewer'}; accept the change to let it run.`), blocks: fitBlocks(blocks, 'message', fullTextHint(correction.id)) };
}

