// Block Kit for review messages, result replies and notices. Pure: a view in, a message out.
import type { GroupView, ReviewView } from '../service/review-view.js';

export const APPROVE_ACTION = 'review.approve';
export const REJECT_ACTION = 'review.reject';
export const REJECT_MODAL = 'review.reject-modal';

// Slack refuses a section text over 3000 characters; leave room for the fences and the notice.
const SECTION_LIMIT = 3000;
const CODE_LIMIT = 2600;

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

/** The value carried by a button: which review and which group it decides. */
export interface ButtonValue {
  reviewId: string;
  group: string;
}

/** Escapes the three characters Slack's mrkdwn treats as markup. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * A code block of `text`, cut to fit one Slack section with a visible notice, never silently.
 * Backtick fences inside the text are broken with a zero-width space so they cannot end the block.
 */
export function codeBlock(text: string, cutNotice: (shown: number, total: number) => string, limit = CODE_LIMIT): string {
  const body = escapeMrkdwn(text).replaceAll('```', '`\u200b`\u200b`');
  const chars = [...body];
  if (chars.length <= limit) return '```' + (body || ' ') + '```';
  const shown = chars.slice(0, limit).join('');
  return '```' + shown + '```\n' + cutNotice(limit, chars.length);
}

function slackDate(iso: string): string {
  const epoch = Math.floor(new Date(iso).getTime() / 1000);
  return `<!date^${epoch}^{date_short_pretty} {time}|${iso}>`;
}

function who(email: string | null, slackId: string | null): string {
  if (slackId) return `<@${slackId}>`;
  return email ? escapeMrkdwn(email) : 'someone';
}

const STATUS_LINE: Record<ReviewView['status'], string> = {
  PENDING: ':hourglass_flowing_sand: Waiting for approval',
  APPROVED: ':white_check_mark: Approved — about to run',
  RUNNING: ':gear: Approved — running',
  EXECUTED: ':white_check_mark: Approved and executed',
  FAILED: ':x: Approved, but the command failed',
  REJECTED: ':no_entry: Rejected — not executed',
  EXPIRED: ':alarm_clock: Expired — not executed',
};

function groupLine(g: GroupView, review: ReviewView): string {
  const name = `*${escapeMrkdwn(g.group)}*`;
  if (g.status === 'APPROVED') {
    const auto = review.autoApproved ? ' (admin\'s own request, approved automatically)' : '';
    return `:white_check_mark: ${name} approved by ${who(g.reviewer, g.reviewerSlackId)} at ${slackDate(g.decidedAt!)}${auto}`;
  }
  if (g.status === 'REJECTED') {
    const reason = g.reason ? `: “${escapeMrkdwn(g.reason)}”` : '';
    return `:no_entry: ${name} rejected by ${who(g.reviewer, g.reviewerSlackId)} at ${slackDate(g.decidedAt!)}${reason}`;
  }
  if (review.status === 'PENDING') return `:hourglass_flowing_sand: ${name} has not decided yet`;
  return `:heavy_minus_sign: ${name} did not decide`;
}

/** "2 statements: #1 read SELECT (users) · #2 write UPDATE (users)" and a warning line per warning. */
export function classificationLines(review: Pick<ReviewView, 'classification'>): string | null {
  const c = review.classification;
  if (!c) return null;
  // The one-line form only when that is all there is to say; otherwise every statement and warning shows.
  if (!c.parsed && c.statements.length <= 1 && (c.statements[0]?.warnings.length ?? 0) <= 1) return `:warning: *Could not be parsed* as ${c.dialect === 'mysql' ? 'MySQL' : 'PostgreSQL'}: ${escapeMrkdwn(c.statements[0]?.warnings[0]?.replace(/^could not be parsed: /, '') ?? 'unknown error')}`;
  const n = c.statements.length;
  const parts = c.statements.map((s) => `#${s.index + 1} *${s.kind}* ${escapeMrkdwn(s.command)}${s.tables.length ? ` (${escapeMrkdwn(s.tables.join(', '))})` : ''}`);
  const warnings = c.statements.flatMap((s) => s.warnings.map((w) => `:warning: ${escapeMrkdwn(w)}`));
  return [`${n} ${n === 1 ? 'statement' : 'statements'}: ${parts.join(' · ')}`, ...warnings].join('\n');
}

/** The request message: who, where, why, the exact command, and per group its status and buttons. */
export function reviewMessage(review: ReviewView): SlackMessage {
  const blocks: Record<string, unknown>[] = [];
  const requester = who(review.requester, review.requesterSlackId);
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `:bell: *Access request from ${requester}* (${escapeMrkdwn(review.requester)})` } });
  const fields = [
    { type: 'mrkdwn', text: `*Connection*\n${escapeMrkdwn(review.connection)}` },
    { type: 'mrkdwn', text: `*Status*\n${STATUS_LINE[review.status]}` },
    { type: 'mrkdwn', text: `*Reason*\n${review.reason ? escapeMrkdwn(review.reason).slice(0, 1900) : '_none given_'}` },
    { type: 'mrkdwn', text: review.status === 'PENDING' ? `*Expires*\n${slackDate(review.expiresAt)}` : `*Requested*\n${slackDate(review.createdAt)}` },
  ];
  blocks.push({ type: 'section', fields });
  const command = codeBlock(review.input, (shown, total) => `:scissors: _Command cut here: showing ${shown} of ${total} characters. The full command: \`hoop get review ${review.id}\`._`);
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Command*\n${command}`.slice(0, SECTION_LIMIT) } });
  const analysis = classificationLines(review);
  if (analysis) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: analysis.slice(0, SECTION_LIMIT) }] });
  blocks.push({ type: 'divider' });
  for (const g of review.groups) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: groupLine(g, review) } });
    if (review.status === 'PENDING' && g.status === 'PENDING') {
      const value = JSON.stringify({ reviewId: review.id, group: g.group } satisfies ButtonValue);
      blocks.push({
        type: 'actions',
        block_id: `group:${g.group}`,
        elements: [
          { type: 'button', action_id: APPROVE_ACTION, style: 'primary', text: { type: 'plain_text', text: `Approve for ${g.group}`.slice(0, 75) }, value },
          { type: 'button', action_id: REJECT_ACTION, style: 'danger', text: { type: 'plain_text', text: 'Reject' }, value },
        ],
      });
    }
  }
  const context = [`Approved by ${review.approvals.approved} of ${review.approvals.total} ${review.approvals.total === 1 ? 'group' : 'groups'}`, `Request \`${review.id}\``];
  if (review.status === 'REJECTED' && review.rejectReason) context.push(`Reason: ${escapeMrkdwn(review.rejectReason)}`);
  if (review.status === 'EXPIRED') context.push(`Expired at ${slackDate(review.decidedAt ?? review.expiresAt)}; resubmit to run it`);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ').slice(0, SECTION_LIMIT) }] });
  return {
    text: `Access request from ${review.requester} on ${review.connection}: ${STATUS_LINE[review.status].replace(/^:[a-z_]+: /, '')}`,
    blocks,
  };
}

function outcomeLine(review: ReviewView): string {
  if (review.status === 'EXECUTED') {
    const tags = review.commandTags.length ? ` — \`${escapeMrkdwn(review.commandTags.join(', '))}\`` : '';
    const rows = review.rowsAffected !== null ? ` (${review.rowsAffected} ${review.rowsAffected === 1 ? 'row' : 'rows'} affected)` : '';
    return `:white_check_mark: *Executed* on ${escapeMrkdwn(review.connection)}${tags}${rows}`;
  }
  return `:x: *Failed* on ${escapeMrkdwn(review.connection)}: ${escapeMrkdwn(review.error ?? 'unknown error')}`;
}

/** The thread reply with the outcome of an execution. */
export function resultMessage(review: ReviewView): SlackMessage {
  const blocks: Record<string, unknown>[] = [{ type: 'section', text: { type: 'mrkdwn', text: outcomeLine(review) } }];
  if (review.output) {
    const storedCut = review.outputTruncated ? `\n:scissors: _The stored output was itself cut at the gateway's limit._` : '';
    const block = codeBlock(review.output, (shown, total) => `:scissors: _Output cut here: showing ${shown} of ${total} characters. The full output: \`hoop get review ${review.id}\`._`);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: (block + storedCut).slice(0, SECTION_LIMIT) } });
  }
  return { text: `${review.status === 'EXECUTED' ? 'Executed' : 'Failed'}: request ${review.id} on ${review.connection}`, blocks };
}

/** A direct message to the requester about the outcome. */
export function requesterNotice(review: ReviewView): SlackMessage {
  let line: string;
  if (review.status === 'REJECTED') {
    const g = review.groups.find((x) => x.status === 'REJECTED');
    const by = g ? ` by ${who(g.reviewer, g.reviewerSlackId)}` : '';
    line = `:no_entry: Your request on *${escapeMrkdwn(review.connection)}* was rejected${by} and not executed.${review.rejectReason ? ` Reason: “${escapeMrkdwn(review.rejectReason)}”` : ''}`;
  } else if (review.status === 'EXPIRED') {
    line = `:alarm_clock: Your request on *${escapeMrkdwn(review.connection)}* expired without a decision and was *not executed*. Resubmit it to try again.`;
  } else {
    return resultMessage(review);
  }
  const command = codeBlock(review.input, (s, t) => `_(command cut: ${s} of ${t} characters)_`, 1200);
  return { text: line.replace(/[*:]/g, ''), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: line } }, { type: 'section', text: { type: 'mrkdwn', text: command } }] };
}

/** The reject modal; `privateMetadata` carries the review, group and where the click came from. */
export function rejectModal(privateMetadata: string, review: Pick<ReviewView, 'connection' | 'requester'>, group: string) {
  return {
    type: 'modal' as const,
    callback_id: REJECT_MODAL,
    private_metadata: privateMetadata,
    title: { type: 'plain_text' as const, text: 'Reject request' },
    submit: { type: 'plain_text' as const, text: 'Reject' },
    close: { type: 'plain_text' as const, text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `Reject the request of ${escapeMrkdwn(review.requester)} on *${escapeMrkdwn(review.connection)}* for *${escapeMrkdwn(group)}*? It will not run.` } },
      {
        type: 'input',
        block_id: 'reason',
        optional: true,
        label: { type: 'plain_text', text: 'Reason (shown to everyone)' },
        element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 1000 },
      },
    ],
  };
}
