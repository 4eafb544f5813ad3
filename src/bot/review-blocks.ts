// Block Kit for review messages, result replies and notices. Pure: a view in, a message out.
// Every text is cut to a budget with a visible notice, and every message goes through fitBlocks,
// so no input (a 5,000-character reason, a 10 kB error, 30 reviewer groups) makes Slack refuse it.
import { highlightOf, previewLines, sampleWords } from '../contracts/impact-preview.js';
import { sampleText } from '../sql/preview-text.js';
import { accessTitle, durationWords } from '../core/access-window.js';
import { rowLimitWords, type GroupView, type ReviewView } from '../contracts/review-view.js';
import { agentName, requesterLineText } from '../contracts/request-origin.js';
import { cutLabel, cutText, fitBlocks, fitFallbackText, head, OUR_LIMITS, SLACK_LIMITS, slackLength, totalText } from './slack-limits.js';

export const APPROVE_ACTION = 'review.approve';
export const REJECT_ACTION = 'review.reject';
export const REJECT_MODAL = 'review.reject-modal';
/** "Suggest a change" (a correction, issue 14): its button, its modal, and the requester's Accept button. */
export const SUGGEST_ACTION = 'review.suggest';
export const SUGGEST_MODAL = 'review.suggest-modal';
export const ACCEPT_ACTION = 'review.accept-correction';
/** The Revoke button of an open access window (Just-in-Time access). */
export const REVOKE_ACTION = 'review.revoke';

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

/** The value carried by a button: which review and which group it decides. */
export interface ButtonValue {
  reviewId: string;
  group: string;
}

/** The value carried by a Revoke button: which access window it closes. */
export interface RevokeButtonValue {
  reviewId: string;
}

/** How much of each user-supplied text a message shows; `compact` when the total would be too much. */
interface Budget {
  command: number;
  reason: number;
  analysis: number;
  groupReason: number;
  footer: number;
  /** The User-Agent of an agent's request. */
  userAgent: number;
}

const NORMAL: Budget = { command: 2600, reason: 1000, analysis: 1500, groupReason: 300, footer: 500, userAgent: 300 };
const COMPACT: Budget = { command: 1000, reason: 300, analysis: 500, groupReason: 80, footer: 150, userAgent: 100 };

/** Escapes the three characters Slack's mrkdwn treats as markup. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Control, line-separator and direction-changing characters: a label is one line, read as it is stored. */
const NOT_IN_LABEL = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/**
 * A value someone else chose (an agent's User-Agent, its MCP client's name, an X-Forwarded-For
 * address) as inert text: in a code span, where mrkdwn makes no bold, italics, strike, links,
 * mentions or emoji; '&', '<' and '>' escaped so that no `<!channel>` or `<http://x|y>` forms;
 * backticks swapped for 'ˋ' so the span cannot be closed early; invisible characters shown as '?'.
 * Cut to `max` characters with a visible notice.
 */
export function slackLiteral(value: string, max: number): string {
  const clean = value.replace(NOT_IN_LABEL, '?');
  const kept = head(clean, max);
  const body = escapeMrkdwn(kept).replaceAll('`', 'ˋ');
  const cut = kept.length < clean.length ? ` _(cut: ${kept.length} of ${clean.length} characters shown)_` : '';
  return `\`${body || ' '}\`${cut}`;
}

/**
 * An agent's request, prominently: "Agent `ci-bot` (owner `alice@…`) via `claude-desktop` `1.2.0`
 * from `203.0.113.7`" and its User-Agent; nothing for a person's (the web page shows theirs).
 */
function agentBlocks(review: ReviewView, budget: Budget): Record<string, unknown>[] {
  if (review.requesterKind !== 'agent') return [];
  const line = requesterLineText(review, slackLiteral);
  const ua = review.origin?.userAgent;
  return [
    { type: 'section', text: { type: 'mrkdwn', text: `:robot_face: *Access request from an agent:* ${line}` } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `User agent: ${ua ? slackLiteral(ua, budget.userAgent) : '_none sent_'} · what the agent's client says of itself, not proof of who runs it` }] },
  ];
}

/** Where the whole of anything we cut can be read. */
export const fullTextHint = (reviewId: string) => `\`hoop get review ${reviewId}\``;

/** `text` escaped for mrkdwn and cut to `limit` with a notice that says where the rest is. */
function shown(text: string, limit: number, reviewId: string, what: string): string {
  return cutText(escapeMrkdwn(text), limit, fullTextHint(reviewId), what);
}

/**
 * A code block of `text`, cut to `limit` characters with a visible notice, never silently.
 * Backtick fences inside the text are broken with a zero-width space so they cannot end the block.
 */
export function codeBlock(text: string, cutNotice: (shown: number, total: number) => string, limit = NORMAL.command): string {
  const body = escapeMrkdwn(text).replaceAll('```', '`\u200b`\u200b`');
  // Counted as Slack counts (UTF-16 units: an emoji is two), cut without splitting one.
  if (slackLength(body) <= limit) return '```' + (body || ' ') + '```';
  const kept = head(body, limit);
  return '```' + kept + '```\n' + cutNotice(slackLength(kept), slackLength(body));
}

export function slackDate(iso: string): string {
  const epoch = Math.floor(new Date(iso).getTime() / 1000);
  return `<!date^${epoch}^{date_short_pretty} {time}|${iso}>`;
}

export function who(email: string | null, slackId: string | null): string {
  if (slackId) return `<@${slackId}>`;
  return email ? escapeMrkdwn(cutLabel(email, 200)) : 'someone';
}

/** Who asked, in a line of a reminder or the Home tab: a person as `who`, an agent as "agent `ci-bot` (owner alice@…)". */
export function whoAsked(r: Pick<ReviewView, 'requester' | 'requesterSlackId' | 'requesterKind' | 'requesterOwner'>): string {
  if (r.requesterKind !== 'agent') return who(r.requester, r.requesterSlackId);
  return `:robot_face: agent ${slackLiteral(agentName(r.requester), 100)} (owner ${escapeMrkdwn(cutLabel(r.requesterOwner ?? 'unknown', 200))})`;
}

const STATUS_LINE: Record<ReviewView['status'], string> = {
  PENDING: ':hourglass_flowing_sand: Waiting for approval',
  APPROVED: ':white_check_mark: Approved — about to run',
  RUNNING: ':gear: Approved — running',
  EXECUTED: ':white_check_mark: Approved and executed',
  FAILED: ':x: Approved, but the command failed',
  REJECTED: ':no_entry: Rejected — not executed',
  EXPIRED: ':alarm_clock: Expired — not executed',
  GRANTED: ':unlock: Access granted',
  ENDED: ':lock: Access ended',
};

/** The status line with its emoji, as the request message shows it. */
export const statusLine = (status: ReviewView['status']) => STATUS_LINE[status];

/** The status in words, without the emoji. */
export const statusWords = (status: ReviewView['status']) => STATUS_LINE[status].replace(/^:[a-z_]+: /, '');

function groupLine(g: GroupView, review: ReviewView, budget: Budget): string {
  const name = `*${escapeMrkdwn(g.group)}*`;
  if (g.status === 'APPROVED') {
    const auto = review.autoApproved ? ' (admin\'s own request, approved automatically)' : '';
    const limit = g.maxRows !== null && g.maxRows !== undefined ? ` (${rowLimitWords(g.maxRows)})` : '';
    return `:white_check_mark: ${name} approved by ${who(g.reviewer, g.reviewerSlackId)} at ${slackDate(g.decidedAt!)}${limit}${auto}`;
  }
  if (g.status === 'REJECTED') {
    const reason = g.reason ? `: “${shown(g.reason, budget.groupReason, review.id, 'reason')}”` : '';
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

/** What the command would change (issue 14): a line per statement, zero or many rows flagged, and the first sample. */
export function previewBlocks(review: Pick<ReviewView, 'id' | 'preview'>, budget: Budget): Record<string, unknown>[] {
  const p = review.preview;
  if (!p) return [];
  // Table names and the target's words in code spans: no mention, link, markup or line of their own.
  const lines = previewLines(p, (t) => slackLiteral(t, 300)).map((line, i) => {
    const s = p.state === 'measured' || p.state === 'estimated' ? p.statements[i] : undefined;
    return `${s && highlightOf(s) ? ':warning: ' : ''}${line}`;
  });
  const title = `*Impact preview*${p.state === 'estimated' ? ' _(estimate)_' : p.state === 'measured' ? ' _(dry run, rolled back)_' : ''}`;
  const blocks: Record<string, unknown>[] = [{ type: 'section', text: { type: 'mrkdwn', text: cutText(`${title}\n${lines.join('\n')}`, budget.analysis, fullTextHint(review.id), 'analysis') } }];
  const sampled = p.statements.find((s) => sampleText(s) !== null);
  if (sampled) {
    const caption = `A few of ${sampleWords(sampled)}${p.statements.length > 1 ? ` (statement ${sampled.index + 1})` : ''}`;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `_${caption}:_\n${codeBlock(sampleText(sampled)!, (s, t) => `:scissors: _Sample cut: ${s} of ${t} characters._`, Math.floor(budget.command / 4))}` } });
  }
  return blocks;
}

/**
 * The Approve and Reject buttons of one pending group. `minimal` (the fallback message): no styles,
 * and Reject names the group too, since no section above says which group the row is for.
 */
export function voteButtons(reviewId: string, group: string, minimal = false, suggest = false): Record<string, unknown>[] {
  const value = JSON.stringify({ reviewId, group } satisfies ButtonValue);
  const label = (text: string) => ({ type: 'plain_text', text: cutLabel(text, SLACK_LIMITS.buttonText) });
  return [
    { type: 'button', action_id: APPROVE_ACTION, ...(minimal ? {} : { style: 'primary' }), text: label(`Approve for ${group}`), value },
    { type: 'button', action_id: REJECT_ACTION, ...(minimal ? {} : { style: 'danger' }), text: label(minimal ? `Reject for ${group}` : 'Reject'), value },
    // A command may be corrected instead of only rejected; an access window has none to change.
    ...(suggest ? [{ type: 'button', action_id: SUGGEST_ACTION, text: label('Suggest a change'), value }] : []),
  ];
}

/** A correction's block: which request it corrects, who changed it and why, and the line diff. */
export function correctionBlocks(review: Pick<ReviewView, 'id' | 'correction'>, limit = NORMAL.command): Record<string, unknown>[] {
  const c = review.correction;
  if (!c) return [];
  const line = `:pencil2: *Correction of* \`${c.of ?? 'a deleted request'}\` by ${who(c.suggestedBy, c.suggestedBySlackId)}: ${slackLiteral(c.comment, 1000)}${c.accepted ? '' : ' — _it runs only once its requester accepts the change_'}`;
  const diff = codeBlock(c.diff, (s, t) => `:scissors: _Diff cut here: showing ${s} of ${t} characters. All of it: ${fullTextHint(review.id)}._`, limit);
  return [{ type: 'section', text: { type: 'mrkdwn', text: line } }, { type: 'section', text: { type: 'mrkdwn', text: `*Changes*\n${diff}` } }];
}

function groupBlocks(g: GroupView, review: ReviewView, budget: Budget): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [{ type: 'section', text: { type: 'mrkdwn', text: groupLine(g, review, budget) } }];
  if (review.status === 'PENDING' && g.status === 'PENDING') {
    out.push({ type: 'actions', block_id: `group:${g.group}`, elements: voteButtons(review.id, g.group, false, review.kind === 'command') });
  }
  return out;
}

/** What an access request that was not granted says instead of "not executed" (there is nothing to run). */
const ACCESS_STATUS_LINE: Partial<Record<ReviewView['status'], string>> = {
  REJECTED: ':no_entry: Rejected — no access granted',
  EXPIRED: ':alarm_clock: Expired — no access granted',
};

/** The status line of this request: an access request's own words where a command's would mislead. */
export function reviewStatusLine(review: Pick<ReviewView, 'kind' | 'status'>): string {
  return (review.kind === 'access' && ACCESS_STATUS_LINE[review.status]) || STATUS_LINE[review.status];
}

/** reviewStatusLine without the emoji. */
const reviewStatusWords = (review: Pick<ReviewView, 'kind' | 'status'>) => reviewStatusLine(review).replace(/^:[a-z_]+: /, '');

/** "Access for 30 minutes to prod-db", escaped for mrkdwn. */
function accessHeadline(review: ReviewView): string {
  return escapeMrkdwn(accessTitle(review.access?.durationSec ?? 0, cutLabel(review.connection, 200)));
}

/** Who revoked a window, as a mention when they linked Slack. */
const revoker = (review: ReviewView) => who(review.access?.revokedBy ?? null, review.access?.revokedBySlackId ?? null);

/**
 * An access request's window in place of a command block: what is asked for, and what it means
 * now — until when it is open, or when and by whom it was closed.
 */
function accessBlocks(review: ReviewView): Record<string, unknown>[] {
  const a = review.access;
  const conn = escapeMrkdwn(cutLabel(review.connection, 200));
  const requester = who(review.requester, review.requesterSlackId);
  let detail: string;
  if (review.status === 'GRANTED' && a?.endsAt) {
    detail = `:unlock: Open until ${slackDate(a.endsAt)}: ${requester}'s commands on ${conn} run without a per-command review until then (guardrails and masking still apply).`;
  } else if (review.status === 'ENDED' && a?.revokedAt) {
    detail = `:lock: Revoked by ${revoker(review)} at ${slackDate(a.revokedAt)}${a.endsAt ? `, before its end at ${slackDate(a.endsAt)}` : ''}. Commands on ${conn} are reviewed again.`;
  } else if (review.status === 'ENDED') {
    detail = `:lock: Ended at ${slackDate(a?.endsAt ?? review.decidedAt ?? review.createdAt)}. Commands on ${conn} are reviewed again.`;
  } else if (review.status === 'PENDING') {
    detail = `Once approved, ${requester}'s commands on ${conn} run without a per-command review for that long (guardrails and masking still apply); it can be revoked at any time.`;
  } else {
    detail = 'No access was granted.';
  }
  return [{ type: 'section', text: { type: 'mrkdwn', text: `:key: *${accessHeadline(review)}*\n${detail}` } }];
}

/**
 * The Revoke button of an open window, behind Slack's confirm dialog (a click closes the window at
 * once). `minimal` (the fallback message): no style.
 */
export function revokeButton(review: Pick<ReviewView, 'id' | 'connection' | 'requester'>, minimal = false): Record<string, unknown> {
  const value = JSON.stringify({ reviewId: review.id } satisfies RevokeButtonValue);
  return {
    type: 'button',
    action_id: REVOKE_ACTION,
    ...(minimal ? {} : { style: 'danger' }),
    text: { type: 'plain_text', text: 'Revoke access' },
    value,
    confirm: {
      title: { type: 'plain_text', text: 'Revoke this access?' },
      // Slack: a confirm's text holds at most 300 characters.
      text: { type: 'plain_text', text: cutLabel(`${cutLabel(review.requester, 100)} loses access to ${cutLabel(review.connection, 100)} now: their commands there wait for a review again.`, 300) },
      confirm: { type: 'plain_text', text: 'Revoke' },
      deny: { type: 'plain_text', text: 'Cancel' },
      style: 'danger',
    },
  };
}

function renderReview(review: ReviewView, budget: Budget, publicUrl?: string): Record<string, unknown>[] {
  const blocks: Record<string, unknown>[] = [];
  const requester = who(review.requester, review.requesterSlackId);
  const agent = agentBlocks(review, budget);
  if (agent.length) blocks.push(...agent);
  else blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `:bell: *Access request from ${requester}* (${escapeMrkdwn(cutLabel(review.requester, 200))})` } });
  blocks.push({
    type: 'section',
    fields: [
      { type: 'mrkdwn', text: `*Connection*\n${escapeMrkdwn(cutLabel(review.connection, 200))}` },
      { type: 'mrkdwn', text: `*Status*\n${reviewStatusLine(review)}` },
      { type: 'mrkdwn', text: `*Reason*\n${review.reason ? shown(review.reason, budget.reason, review.id, 'reason') : '_none given_'}` },
      { type: 'mrkdwn', text: review.status === 'PENDING' ? `*Expires*\n${slackDate(review.expiresAt)}` : `*Requested*\n${slackDate(review.createdAt)}` },
    ],
  });
  if (review.kind === 'access') {
    blocks.push(...accessBlocks(review));
  } else {
    const command = codeBlock(review.input, (s, t) => `:scissors: _Command cut here: showing ${s} of ${t} characters. The full command: ${fullTextHint(review.id)}._`, budget.command);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Command*\n${command}` } });
    blocks.push(...correctionBlocks(review, budget.command));
    const analysis = classificationLines(review);
    if (analysis) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: cutText(analysis, budget.analysis, fullTextHint(review.id), 'analysis') }] });
    blocks.push(...previewBlocks(review, budget));
  }
  blocks.push({ type: 'divider' });

  // Up to 50 blocks per message: groups that do not fit are listed in one notice.
  const room = SLACK_LIMITS.messageBlocks - blocks.length - 1;
  const groups: Record<string, unknown>[] = [];
  let listed = 0;
  for (const g of review.groups) {
    const part = groupBlocks(g, review, budget);
    const reserve = listed + 1 < review.groups.length ? 1 : 0;
    if (groups.length + part.length + reserve > room) break;
    groups.push(...part);
    listed++;
  }
  if (listed < review.groups.length) {
    const rest = review.groups.slice(listed).map((g) => `${escapeMrkdwn(g.group)} (${g.status.toLowerCase()})`).join(', ');
    const how = review.status === 'PENDING' ? ` Decide for them with \`hoop review approve ${review.id} --group GROUP\` or \`hoop review reject ${review.id} --group GROUP --reason R\`.` : '';
    groups.push({ type: 'section', text: { type: 'mrkdwn', text: cutText(`:heavy_plus_sign: ${review.groups.length - listed} more reviewer groups not shown here: ${rest}.${how}`, 1500, fullTextHint(review.id), 'list') } });
  }
  blocks.push(...groups);
  if (review.kind === 'access' && review.status === 'GRANTED') blocks.push({ type: 'actions', block_id: 'access', elements: [revokeButton(review)] });

  const context = [`Approved by ${review.approvals.approved} of ${review.approvals.total} ${review.approvals.total === 1 ? 'group' : 'groups'}`, `Request \`${review.id}\``];
  // The request's page in the web app: the whole command, its classification and its audit trail.
  if (publicUrl) context.push(`<${publicUrl}/reviews/${review.id}|Open in the web app>`);
  if (review.status === 'REJECTED' && review.rejectReason) context.push(`Reason: ${shown(review.rejectReason, budget.footer, review.id, 'reason')}`);
  if (review.status === 'EXPIRED') context.push(review.kind === 'access' ? `Expired at ${slackDate(review.decidedAt ?? review.expiresAt)}; ask again for access` : `Expired at ${slackDate(review.decidedAt ?? review.expiresAt)}; resubmit to run it`);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] });
  return blocks;
}

/** The request message: who, where, why, the exact command, and per group its status and buttons. */
export function reviewMessage(review: ReviewView, publicUrl?: string): SlackMessage {
  let blocks = renderReview(review, NORMAL, publicUrl);
  if (totalText(blocks) > OUR_LIMITS.blocksTotalText) blocks = renderReview(review, COMPACT, publicUrl);
  return {
    text: fitFallbackText(`Access request from ${review.requesterKind === 'agent' ? `agent ${agentName(review.requester)}` : review.requester}${review.kind === 'access' ? `: ${accessTitle(review.access?.durationSec ?? 0, review.connection)} (${reviewStatusWords(review)})` : ` on ${review.connection}: ${statusWords(review.status)}`}`),
    blocks: fitBlocks(blocks, 'message', fullTextHint(review.id)),
  };
}

function outcomeLine(review: ReviewView): string {
  if (review.status === 'EXECUTED') {
    const tags = review.commandTags.length ? ` — \`${escapeMrkdwn(cutLabel(review.commandTags.join(', '), 500))}\`` : '';
    const rows = review.rowsAffected !== null ? ` (${review.rowsAffected} ${review.rowsAffected === 1 ? 'row' : 'rows'} affected)` : '';
    return `:white_check_mark: *Executed* on ${escapeMrkdwn(review.connection)}${tags}${rows}`;
  }
  return `:x: *Failed* on ${escapeMrkdwn(review.connection)}: ${shown(review.error ?? 'unknown error', 1500, review.id, 'error')}`;
}

/** The thread reply with the outcome of an execution. */
export function resultMessage(review: ReviewView): SlackMessage {
  const blocks: Record<string, unknown>[] = [{ type: 'section', text: { type: 'mrkdwn', text: outcomeLine(review) } }];
  if (review.output) {
    const storedCut = review.outputTruncated ? `\n:scissors: _The stored output was itself cut at the gateway's limit._` : '';
    const block = codeBlock(review.output, (s, t) => `:scissors: _Output cut here: showing ${s} of ${t} characters. The full output: ${fullTextHint(review.id)}._`);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: block + storedCut } });
  }
  return { text: fitFallbackText(`${review.status === 'EXECUTED' ? 'Executed' : 'Failed'}: request ${review.id} on ${review.connection}`), blocks: fitBlocks(blocks, 'message', fullTextHint(review.id)) };
}

/** The reply in a thread where people outside the connection's allowed groups can read it. */
export function withheldResultMessage(review: ReviewView): SlackMessage {
  const done = review.status === 'EXECUTED' ? 'Executed' : 'Failed';
  const line = `:lock: *${done}* on ${escapeMrkdwn(review.connection)}. The result is not shown in this channel: ${escapeMrkdwn(review.connection)} is restricted to some groups, and people outside them can read this channel. Members of those groups read it with ${fullTextHint(review.id)} (reviewers and the requester also get it by direct message).`;
  return { text: fitFallbackText(`${done}: request ${review.id} on ${review.connection} (result withheld here)`), blocks: fitBlocks([{ type: 'section', text: { type: 'mrkdwn', text: line } }]) };
}

/** A direct message to the requester about the outcome. */
export function requesterNotice(review: ReviewView, outcome?: AccessOutcome): SlackMessage {
  if (review.kind === 'access') return accessRequesterNotice(review, outcome);
  let line: string;
  if (review.status === 'REJECTED') {
    const g = review.groups.find((x) => x.status === 'REJECTED');
    const by = g ? ` by ${who(g.reviewer, g.reviewerSlackId)}` : '';
    line = `:no_entry: Your request on *${escapeMrkdwn(review.connection)}* was rejected${by} and not executed.${review.rejectReason ? ` Reason: “${shown(review.rejectReason, 1500, review.id, 'reason')}”` : ''}`;
  } else if (review.status === 'EXPIRED') {
    line = `:alarm_clock: Your request on *${escapeMrkdwn(review.connection)}* expired without a decision and was *not executed*. Resubmit it to try again.`;
  } else {
    return resultMessage(review);
  }
  const command = codeBlock(review.input, (s, t) => `_(command cut: ${s} of ${t} characters; all of it: ${fullTextHint(review.id)})_`, 1200);
  const text = `Your request ${review.id} on ${review.connection} was ${review.status === 'REJECTED' ? 'rejected' : 'not decided in time'}; it did not run.`;
  return { text: fitFallbackText(text), blocks: fitBlocks([{ type: 'section', text: { type: 'mrkdwn', text: line } }, { type: 'section', text: { type: 'mrkdwn', text: command } }], 'message', fullTextHint(review.id)) };
}

/**
 * The last resort when Slack refuses a rendering anyway: plain status lines, no code blocks, no
 * user text but names, and buttons only while the request is pending (a decided request must
 * never keep live buttons).
 */
export function safeReviewMessage(review: ReviewView): SlackMessage {
  const lines = [
    `*Access request* \`${review.id}\` on ${escapeMrkdwn(cutLabel(review.connection, 200))}: ${reviewStatusWords(review)}.`,
    `Approved by ${review.approvals.approved} of ${review.approvals.total}. Details: ${fullTextHint(review.id)}`,
  ];
  const blocks: Record<string, unknown>[] = [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } }];
  if (review.status === 'PENDING') {
    for (const g of review.groups.filter((x) => x.status === 'PENDING').slice(0, 12)) {
      blocks.push({ type: 'actions', elements: voteButtons(review.id, g.group, true) });
    }
  }
  // An open window keeps its Revoke button: closing it must never depend on how it renders.
  if (review.kind === 'access' && review.status === 'GRANTED') blocks.push({ type: 'actions', elements: [revokeButton(review, true)] });
  return { text: fitFallbackText(`Access request ${review.id} on ${review.connection}: ${reviewStatusWords(review)}`), blocks: fitBlocks(blocks) };
}

/** The last-resort thread reply: the outcome in one line, the output left to the CLI. */
export function safeResultMessage(review: ReviewView): SlackMessage {
  const done = review.status === 'EXECUTED' ? 'Executed' : review.status === 'FAILED' ? 'Failed' : statusWords(review.status);
  const line = `*${done}*: request \`${review.id}\` on ${escapeMrkdwn(cutLabel(review.connection, 200))}. Slack could not show the details here; read them with ${fullTextHint(review.id)}.`;
  return { text: fitFallbackText(`${done}: request ${review.id} on ${review.connection}`), blocks: fitBlocks([{ type: 'section', text: { type: 'mrkdwn', text: line } }]) };
}

/** What a requester of an access request is told of. */
export type AccessOutcome = 'granted' | 'rejected' | 'expired' | 'revoked' | 'ended';

/** The outcome a request's status stands for, when no job says which. */
function outcomeOf(review: ReviewView): AccessOutcome | null {
  if (review.status === 'GRANTED') return 'granted';
  if (review.status === 'ENDED') return review.access?.revokedAt ? 'revoked' : 'ended';
  if (review.status === 'REJECTED') return 'rejected';
  if (review.status === 'EXPIRED') return 'expired';
  return null;
}

/**
 * The direct message to the requester of an access request: granted (until when, and what that
 * means), rejected, expired, revoked (by whom) or ended. `outcome`: the one its job tells of (a
 * late "granted" job still says granted, even if the window was revoked since). Never a command
 * block: there is none.
 */
export function accessRequesterNotice(review: ReviewView, outcome: AccessOutcome | null = outcomeOf(review)): SlackMessage {
  const a = review.access;
  const conn = escapeMrkdwn(cutLabel(review.connection, 200));
  const headline = accessHeadline(review);
  let line: string;
  let text: string;
  if (outcome === 'granted' && a?.endsAt) {
    line = `:unlock: Your access request was approved: *${headline}*, until ${slackDate(a.endsAt)}. Until then your commands on *${conn}* run without a per-command review (guardrails and masking still apply; each is audited under this access). A reviewer or an admin may revoke it sooner.`;
    text = `Your access to ${review.connection} is granted for ${durationWords(a.durationSec)}.`;
  } else if (outcome === 'rejected') {
    const g = review.groups.find((x) => x.status === 'REJECTED');
    const by = g ? ` by ${who(g.reviewer, g.reviewerSlackId)}` : '';
    line = `:no_entry: Your access request (*${headline}*) was rejected${by}; no access was granted.${review.rejectReason ? ` Reason: “${shown(review.rejectReason, 1500, review.id, 'reason')}”` : ''}`;
    text = `Your access request for ${review.connection} was rejected.`;
  } else if (outcome === 'expired') {
    line = `:alarm_clock: Your access request (*${headline}*) expired without a decision; no access was granted. Ask again if you still need it.`;
    text = `Your access request for ${review.connection} expired without a decision.`;
  } else if (outcome === 'revoked' && a?.revokedAt) {
    line = `:lock: Your access to *${conn}* was revoked by ${revoker(review)} at ${slackDate(a.revokedAt)}. Your commands there wait for a review again.`;
    text = `Your access to ${review.connection} was revoked.`;
  } else if (outcome === 'ended') {
    line = `:lock: Your access to *${conn}* ended at ${slackDate(a?.endsAt ?? review.createdAt)}. Your commands there wait for a review again; ask for access again if you need more time.`;
    text = `Your access to ${review.connection} has ended.`;
  } else {
    line = `Your access request (*${headline}*): ${reviewStatusWords(review)}.`;
    text = `Your access request for ${review.connection}: ${reviewStatusWords(review)}.`;
  }
  const blocks = [
    { type: 'section', text: { type: 'mrkdwn', text: line } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `Request \`${review.id}\`` }] },
  ];
  return { text: fitFallbackText(text), blocks: fitBlocks(blocks, 'message', fullTextHint(review.id)) };
}
