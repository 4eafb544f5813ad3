// The reject modal: an optional reason, shown to everyone once the request is rejected.
import type { ReviewView } from '../contracts/review-view.js';
import { escapeMrkdwn, REJECT_MODAL } from './review-blocks.js';
import { cutLabel, fitModal } from './slack-limits.js';

/** What the modal carries back on submission: which review and group, and where the click was. */
export interface RejectModalMeta {
  reviewId: string;
  group: string;
  channel?: string;
}

/** The longest reason the modal accepts (the API accepts longer; messages cut it with a notice). */
export const REJECT_REASON_MAX = 1000;

/** The reject modal for `meta`'s review and group. */
export function rejectModal(meta: RejectModalMeta, review: Pick<ReviewView, 'connection' | 'requester'> & { kind?: ReviewView['kind'] }) {
  return fitModal({
    type: 'modal' as const,
    callback_id: REJECT_MODAL,
    private_metadata: JSON.stringify(meta),
    title: { type: 'plain_text' as const, text: 'Reject request' },
    submit: { type: 'plain_text' as const, text: 'Reject' },
    close: { type: 'plain_text' as const, text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `Reject the ${review.kind === 'access' ? 'access request' : 'request'} of ${escapeMrkdwn(cutLabel(review.requester, 300))} on *${escapeMrkdwn(cutLabel(review.connection, 200))}* for *${escapeMrkdwn(cutLabel(meta.group, 200))}*? ${review.kind === 'access' ? 'No access will be granted.' : 'It will not run.'}` },
      },
      {
        type: 'input',
        block_id: 'reason',
        optional: true,
        label: { type: 'plain_text', text: 'Reason (shown to everyone)' },
        element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: REJECT_REASON_MAX },
      },
    ],
  });
}
