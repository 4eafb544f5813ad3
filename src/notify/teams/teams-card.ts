// Adaptive Cards for a Teams channel, posted through a Workflows webhook. Pure: a view in, a
// message body out. A Workflows post cannot be edited later, so each event gets a card of its own
// that reads on its own (which request, where, by whom), and every button opens the web app.
import { highlightOf, previewLines, sampleWords } from '../../contracts/impact-preview.js';
import { sampleText } from '../../sql/preview-text.js';
import { accessTitle, durationWords } from '../../core/access-window.js';
import { rowLimitWords, type GroupView, type ReviewView } from '../../contracts/review-view.js';
import type { NoticeEvent, ReviewEventType } from '../channel.js';
import { requesterLineText } from '../../contracts/request-origin.js';
import { cutPlain, jsonBytes } from './teams-text.js';

/**
 * Teams refuses a message over about 28 KB, counted on the message as Teams stores it: the card
 * after the Workflows flow has wrapped it, plus Teams' own fields. Our body aims under 20 KB of JSON
 * so that wrapping (and a flow that adds a line of its own) never tips a card over; what does not
 * fit is cut with a notice that links to the full text in the web app.
 */
export const TEAMS_LIMITS = { messageBytes: 28 * 1024, cardBytes: 20 * 1024 } as const;

/**
 * How much of each text a card shows, in bytes of card JSON; `compact` when the total would be too
 * much. The command gets the largest share: 6 KB is about a hundred lines of SQL, as much as anyone
 * reviews in a channel, and it leaves room for a 6 KB output in a result card under 20 KB.
 */
interface Budget {
  command: number;
  output: number;
  reason: number;
  error: number;
  analysis: number;
  label: number;
}
const NORMAL: Budget = { command: 6000, output: 6000, reason: 1200, error: 1500, analysis: 1500, label: 300 };
const COMPACT: Budget = { command: 2000, output: 2000, reason: 400, error: 500, analysis: 400, label: 120 };
/** Groups listed by name; the rest are counted. */
const MAX_GROUPS = 20;

export type AdaptiveElement = Record<string, unknown>;

/** The Workflows webhook body: one message with one Adaptive Card. */
export interface TeamsMessage {
  type: 'message';
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive'; contentUrl: null; content: AdaptiveCard }];
}

export interface AdaptiveCard {
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  type: 'AdaptiveCard';
  version: '1.5';
  body: AdaptiveElement[];
  actions: AdaptiveElement[];
  msteams: { width: 'Full' };
}

export interface CardOptions {
  /** The web app's base URL, without a trailing slash. */
  publicUrl: string;
  /** review.group_approved: which approval this card is about (1 for the first group to approve). */
  step?: number;
  /** The channel is open to people outside the connection's allowed groups: the output is not shown. */
  withholdOutput?: boolean;
  /** When the card is posted: a reminder says how long is left. */
  now?: Date;
}

/** The web app's page of a request, optionally with the decision to make there. */
export function reviewUrl(publicUrl: string, reviewId: string, action?: 'approve' | 'reject'): string {
  return `${publicUrl}/reviews/${encodeURIComponent(reviewId)}${action ? `?action=${action}` : ''}`;
}

/** Wraps a card in the envelope a Workflows "post to a channel" flow expects. */
function teamsMessage(body: AdaptiveElement[], actions: AdaptiveElement[]): TeamsMessage {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: { $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.5', body, actions, msteams: { width: 'Full' } },
      },
    ],
  };
}

const text = (t: string, extra: Record<string, unknown> = {}): AdaptiveElement => ({ type: 'TextBlock', text: t, wrap: true, ...extra });
const subtle = (t: string) => text(t, { isSubtle: true, size: 'Small' });
const label = (t: string | null | undefined, b: Budget) => (t ? cutPlain(t, b.label).text : 'someone');
/**
 * A date in UTC, spelled out. Not Adaptive Cards' {{DATE()}}/{{TIME()}}: clients that do not
 * evaluate them in a FactSet would show the raw function to the reviewer.
 */
const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** A monospace block of `raw`, cut to `budget` with a notice that says where the rest is. */
function monospace(raw: string, budget: number, what: string, url: string): AdaptiveElement[] {
  const cut = cutPlain(raw, budget);
  const out = [text(cut.text || ' ', { fontType: 'Monospace' })];
  if (cut.shown < cut.total) out.push(subtle(`✂️ ${what} cut here: showing ${cut.shown} of ${cut.total} characters. The full ${what.toLowerCase()}: ${url}`));
  return out;
}

function groupLine(g: GroupView, review: ReviewView, b: Budget): string {
  const name = `**${label(g.group, b)}**`;
  if (g.status === 'APPROVED') return `✅ ${name} approved by ${label(g.reviewer, b)}${g.maxRows !== null && g.maxRows !== undefined ? ` (${rowLimitWords(g.maxRows)})` : ''}${review.autoApproved ? " (admin's own request, approved automatically)" : ''}`;
  if (g.status === 'REJECTED') return `⛔ ${name} rejected by ${label(g.reviewer, b)}`;
  return review.status === 'PENDING' ? `⏳ ${name} has not decided yet` : `➖ ${name} did not decide`;
}

function groupsBlock(review: ReviewView, b: Budget): AdaptiveElement[] {
  const lines = review.groups.slice(0, MAX_GROUPS).map((g) => groupLine(g, review, b));
  const more = review.groups.length - MAX_GROUPS;
  if (more > 0) lines.push(`➕ ${more} more groups: see the request in the web app`);
  const { approved, total } = review.approvals;
  return [text(lines.join('\n\n')), text(`**${approved} of ${total} ${total === 1 ? 'group' : 'groups'} approved**`)];
}

function classification(review: ReviewView, b: Budget): string {
  const c = review.classification;
  if (!c) return 'not classified';
  if (!c.parsed) return `could not be parsed as ${c.dialect === 'mysql' ? 'MySQL' : 'PostgreSQL'}`;
  const n = c.statementCount ?? c.statements.length;
  return cutPlain(`${c.kind} (${n} ${n === 1 ? 'statement' : 'statements'})`, b.label).text;
}

function analysis(review: ReviewView, b: Budget): AdaptiveElement[] {
  const c = review.classification;
  if (!c) return [];
  const parts = c.statements.map((s) => `#${s.index + 1} ${s.kind} ${s.command}${s.tables.length ? ` (${s.tables.join(', ')})` : ''}`);
  const warnings = c.statements.flatMap((s) => s.warnings.map((w) => `⚠ ${w}`));
  const all = [parts.join(' · '), ...warnings].filter(Boolean).join('\n');
  return all ? [subtle(cutPlain(all, b.analysis).text)] : [];
}

/**
 * A value someone else chose (an agent's User-Agent, its MCP client's name, a forwarded address) on
 * one line, made plain (no Markdown, link or date function survives) and cut with a visible notice.
 * Line breaks, tabs and C1 controls (what a header's UTF-8 bytes become when read as latin1) show as '?'.
 */
function literal(value: string, maxBytes: number): string {
  const cut = cutPlain(value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?'), maxBytes);
  return cut.shown < cut.total ? `${cut.text} (cut: ${cut.shown} of ${cut.total} characters shown)` : cut.text;
}

/** An agent's request says so in every card: the agent, its owner, its client and address, and its User-Agent. */
function requesterFacts(review: ReviewView, b: Budget): [string, string][] {
  if (review.requesterKind !== 'agent') return [['Requester', label(review.requester, b)]];
  const ua = review.origin?.userAgent;
  return [
    // Made plain as one line: each value alone would read as a line of its own ("1.2.0" as a list item).
    ['Requester', `🤖 ${literal(requesterLineText(review), b.label * 2)}`],
    ['User agent', ua ? literal(ua, b.label * 2) : 'none sent'],
  ];
}

function facts(pairs: [string, string][]): AdaptiveElement {
  return { type: 'FactSet', facts: pairs.map(([title, value]) => ({ title, value })) };
}

/** Who asked, where and why: the first lines of every card. */
function header(title: string, review: ReviewView, b: Budget, extra: [string, string][] = []): AdaptiveElement[] {
  return [
    text(title, { weight: 'Bolder', size: 'Medium' }),
    facts([
      ...requesterFacts(review, b),
      ['Connection', label(review.connection, b)],
      ['Reason', review.reason ? cutPlain(review.reason, b.reason).text : '_none given_'],
      ...extra,
    ]),
  ];
}

const open = (publicUrl: string, id: string): AdaptiveElement => ({ type: 'Action.OpenUrl', title: 'Open', url: reviewUrl(publicUrl, id) });
function decide(publicUrl: string, id: string): AdaptiveElement[] {
  return [
    { type: 'Action.OpenUrl', title: 'Approve', url: reviewUrl(publicUrl, id, 'approve'), style: 'positive' },
    { type: 'Action.OpenUrl', title: 'Reject', url: reviewUrl(publicUrl, id, 'reject'), style: 'destructive' },
  ];
}
const footer = (review: ReviewView) => subtle(`Request ${review.id}`);

/** What the command would change (issue 14): a line per statement, a zero or a large count marked, and the first sample. */
function previewBlock(review: ReviewView, b: Budget, url: string, withhold = false): AdaptiveElement[] {
  const p = review.preview;
  if (!p) return [];
  const marked = p.statements.some((s) => highlightOf(s) !== null);
  const out = [text(`**Impact preview**${p.state === 'estimated' ? ' (estimate)' : ''}`), text(cutPlain(previewLines(p).join('\n\n'), b.analysis).text, marked ? { color: 'Attention' } : {})];
  // A connection restricted to some groups keeps its data out of a channel anyone in the team reads.
  const sampled = withhold ? undefined : p.statements.find((s) => sampleText(s) !== null);
  if (sampled) out.push(subtle(`A few of ${sampleWords(sampled)}${p.statements.length > 1 ? ` (statement ${sampled.index + 1})` : ''}:`), ...monospace(sampleText(sampled)!, Math.floor(b.command / 4), 'Sample', url));
  return out;
}

/** The card that brings a pending request's impact preview, once measured. */
function previewCard(review: ReviewView, o: CardOptions, b: Budget): TeamsMessage {
  const url = reviewUrl(o.publicUrl, review.id);
  const body = [...header('🔍 Impact preview of a request waiting for approval', review, b, [['Expires', when(review.expiresAt)]]), text('**Command**'), ...monospace(review.input, Math.floor(b.command / 4), 'Command', url), ...previewBlock(review, b, url, o.withholdOutput), footer(review)];
  return teamsMessage(body, review.status === 'PENDING' ? [...decide(o.publicUrl, review.id), open(o.publicUrl, review.id)] : [open(o.publicUrl, review.id)]);
}

/** A correction (issue 14): what it corrects, who changed it and why, and the line diff, cut like the command. */
function correctionBlock(review: ReviewView, b: Budget, url: string): AdaptiveElement[] {
  const c = review.correction;
  if (!c) return [];
  const line = `**Correction** of request ${c.of ?? '(deleted)'} by ${label(c.suggestedBy, b)}: ${cutPlain(c.comment, b.reason).text}${c.accepted ? '' : ' — it runs only once its requester accepts the change.'}`;
  return [text(line), ...monospace(c.diff, b.command, 'Diff', url)];
}

function requestCard(review: ReviewView, o: CardOptions, b: Budget): TeamsMessage {
  if (review.kind === 'access') return accessRequestCard(review, o, b);
  const url = reviewUrl(o.publicUrl, review.id);
  const body = [
    ...header(
      review.correction
        ? `✏️ Correction waiting for approval${review.status === 'PENDING' ? '' : ` (now ${review.status.toLowerCase()})`}`
        : review.status === 'PENDING' ? '🔔 Access request waiting for approval' : `🔔 Access request (now ${review.status.toLowerCase()})`,
      review,
      b,
      [
        ['Classification', classification(review, b)],
        ['Expires', when(review.expiresAt)],
      ],
    ),
    text('**Command**'),
    ...monospace(review.input, b.command, 'Command', url),
    ...correctionBlock(review, b, url),
    ...analysis(review, b),
    ...(review.preview?.state === 'pending' ? [] : previewBlock(review, b, url, o.withholdOutput)),
    ...groupsBlock(review, b),
    footer(review),
  ];
  return teamsMessage(body, review.status === 'PENDING' ? [...decide(o.publicUrl, review.id), open(o.publicUrl, review.id)] : [open(o.publicUrl, review.id)]);
}

/** "Access for 30 minutes to prod-db", plain. */
function windowTitle(review: ReviewView, b: Budget): string {
  return cutPlain(accessTitle(review.access?.durationSec ?? 0, review.connection), b.label).text;
}

/** The new-request card of an access request: titled by its window, with what approving it means. */
function accessRequestCard(review: ReviewView, o: CardOptions, b: Budget): TeamsMessage {
  const pending = review.status === 'PENDING';
  const title = `🔑 ${windowTitle(review, b)}: ${pending ? 'waiting for approval' : `now ${review.status.toLowerCase()}`}`;
  const body = [
    ...header(title, review, b, [
      ['Window', durationWords(review.access?.durationSec ?? 0)],
      ['Expires', when(review.expiresAt)],
    ]),
    text(`Once approved, ${label(review.requester, b)}'s commands on ${label(review.connection, b)} run without a per-command review for that long (guardrails and masking still apply). It can be revoked at any time in the web app.`),
    ...groupsBlock(review, b),
    footer(review),
  ];
  return teamsMessage(body, pending ? [...decide(o.publicUrl, review.id), open(o.publicUrl, review.id)] : [open(o.publicUrl, review.id)]);
}

/**
 * The cards of an access window's life: granted (until when; it is revoked from the web app the
 * Open button leads to), revoked (by whom) and ended.
 */
function accessCard(event: 'review.access_granted' | 'review.access_revoked' | 'review.access_ended', review: ReviewView, o: CardOptions, b: Budget): TeamsMessage {
  const a = review.access;
  const conn = label(review.connection, b);
  let title: string;
  let detail: string;
  if (event === 'review.access_granted') {
    title = `🔓 Access granted: ${windowTitle(review, b)}, until ${a?.endsAt ? when(a.endsAt) : 'its end'}`;
    detail = `Until then ${label(review.requester, b)}'s commands on ${conn} run without a per-command review (guardrails and masking still apply; each is audited under this access). A reviewer or an admin can revoke it at once in the web app (Open).`;
  } else if (event === 'review.access_revoked') {
    title = `🔒 Access revoked by ${label(a?.revokedBy, b)}${a?.revokedAt ? ` at ${when(a.revokedAt)}` : ''}`;
    detail = `${label(review.requester, b)}'s commands on ${conn} wait for a review again${a?.endsAt ? ` (the window would have lasted until ${when(a.endsAt)})` : ''}.`;
  } else {
    title = `🔒 Access ended${a?.endsAt ? ` at ${when(a.endsAt)}` : ''}`;
    detail = `${label(review.requester, b)}'s commands on ${conn} wait for a review again.`;
  }
  const body = [...header(title, review, b, [['Window', durationWords(a?.durationSec ?? 0)]]), text(detail), ...groupsBlock(review, b), footer(review)];
  return teamsMessage(body, [open(o.publicUrl, review.id)]);
}

/** The group whose approval was the `step`-th (by time), for a group_approved card. */
function nthApproval(review: ReviewView, step: number | undefined): GroupView | undefined {
  const approved = review.groups.filter((g) => g.status === 'APPROVED').sort((a, c) => (a.decidedAt ?? '').localeCompare(c.decidedAt ?? '') || a.group.localeCompare(c.group));
  return approved[(step ?? approved.length) - 1] ?? approved[approved.length - 1];
}

function decisionTitle(event: ReviewEventType, review: ReviewView, o: CardOptions, b: Budget): string {
  switch (event) {
    case 'review.group_approved': {
      const g = nthApproval(review, o.step);
      const step = o.step ?? review.approvals.approved;
      return `✅ ${g ? `**${label(g.group, b)}** approved by ${label(g.reviewer, b)}` : 'A group approved'}: ${step} of ${review.approvals.total} groups approved`;
    }
    case 'review.approved':
      return review.autoApproved ? "✅ Approved automatically (an admin's own request): about to run" : '✅ Approved by every group: about to run';
    case 'review.rejected': {
      const g = review.groups.find((x) => x.status === 'REJECTED');
      return `⛔ Rejected${g ? ` by ${label(g.reviewer, b)} for **${label(g.group, b)}**` : ''}: ${review.kind === 'access' ? 'no access granted' : 'not executed'}`;
    }
    default:
      if (review.kind === 'access') return `⏰ Expired without a decision at ${when(review.decidedAt ?? review.expiresAt)}: no access granted; the requester must ask again`;
      return `⏰ Expired without a decision at ${when(review.decidedAt ?? review.expiresAt)}: not executed; the requester must resubmit it`;
  }
}

function decisionCard(event: ReviewEventType, review: ReviewView, o: CardOptions, b: Budget): TeamsMessage {
  const url = reviewUrl(o.publicUrl, review.id);
  const body = [...header(decisionTitle(event, review, o, b), review, b)];
  if (event === 'review.rejected' && review.rejectReason) body.push(text(`**Reason given:** ${cutPlain(review.rejectReason, b.reason).text}`));
  if (review.kind === 'access') body.push(text(`🔑 **${windowTitle(review, b)}**`));
  else body.push(text('**Command**'), ...monospace(review.input, Math.floor(b.command / 4), 'Command', url));
  body.push(...groupsBlock(review, b), footer(review));
  const stillOpen = review.status === 'PENDING' && event === 'review.group_approved';
  return teamsMessage(body, stillOpen ? [...decide(o.publicUrl, review.id), open(o.publicUrl, review.id)] : [open(o.publicUrl, review.id)]);
}

function resultCard(event: ReviewEventType, review: ReviewView, o: CardOptions, b: Budget): TeamsMessage {
  const url = reviewUrl(o.publicUrl, review.id);
  const ok = event === 'review.executed';
  // Withheld: the error (PostgreSQL quotes the values it chokes on), tags and row counts are output too.
  const shows = !o.withholdOutput;
  const tags = shows && review.commandTags.length ? ` (${cutPlain(review.commandTags.join(', '), b.label).text})` : '';
  const rows = shows && review.rowsAffected !== null ? `, ${review.rowsAffected} ${review.rowsAffected === 1 ? 'row' : 'rows'} affected` : '';
  const body = [...header(ok ? `✅ Executed${tags}${rows}` : '❌ Approved, but the command failed', review, b)];
  body.push(text('**Command**'), ...monospace(review.input, Math.floor(b.command / 4), 'Command', url));
  if (!ok && shows) body.push(text('**Error**'), ...monospace(review.error ?? 'unknown error', b.error, 'Error', url));
  if (o.withholdOutput) {
    body.push(subtle(`🔒 The ${ok ? 'output' : 'error'} is not shown in this channel: ${label(review.connection, b)} is restricted to some groups. Members of those groups read it at ${url}`));
  } else if (review.output) {
    body.push(text('**Output**'), ...monospace(review.output, b.output, 'Output', url));
    if (review.outputTruncated) body.push(subtle("✂️ The stored output was itself cut at the gateway's limit."));
  }
  body.push(footer(review));
  return teamsMessage(body, [open(o.publicUrl, review.id)]);
}

/** "in 42 min", counted up so that a request never looks further away than it is. */
function expiresIn(review: ReviewView, now: Date): string {
  const ms = new Date(review.expiresAt).getTime() - now.getTime();
  return ms < 60_000 ? 'in less than a minute' : `in ${Math.ceil(ms / 60_000)} min`;
}

/** The one reminder of a request still pending: the request card's facts, the time left, its buttons. */
function reminderCard(review: ReviewView, o: CardOptions, b: Budget): TeamsMessage {
  const url = reviewUrl(o.publicUrl, review.id);
  const left = expiresIn(review, o.now ?? new Date());
  const access = review.kind === 'access';
  const body = [
    ...header(`⏰ Reminder: waiting for a decision — expires ${left}`, review, b, [
      access ? ['Access', windowTitle(review, b)] : ['Classification', classification(review, b)],
      ['Expires', when(review.expiresAt)],
    ]),
    ...(access ? [] : [text('**Command**'), ...monospace(review.input, Math.floor(b.command / 4), 'Command', url)]),
    ...groupsBlock(review, b),
    footer(review),
  ];
  return teamsMessage(body, review.status === 'PENDING' ? [...decide(o.publicUrl, review.id), open(o.publicUrl, review.id)] : [open(o.publicUrl, review.id)]);
}

function render(event: NoticeEvent, review: ReviewView, o: CardOptions, b: Budget): TeamsMessage {
  if (event === 'review.access_granted' || event === 'review.access_revoked' || event === 'review.access_ended') return accessCard(event, review, o, b);
  if (event === 'review.created') return requestCard(review, o, b);
  if (event === 'review.reminder') return reminderCard(review, o, b);
  if (event === 'review.previewed') return previewCard(review, o, b);
  if (event === 'review.executed' || event === 'review.failed') return resultCard(event, review, o, b);
  return decisionCard(event, review, o, b);
}

/** The last resort, when even the compact card is too big: names, status and the link, nothing typed by anyone. */
function minimalCard(event: NoticeEvent, review: ReviewView, o: CardOptions): TeamsMessage {
  const body = [text(`Request ${review.id}: ${event.replace('review.', '').replace('_', ' ')}`, { weight: 'Bolder' }), text(`Approved by ${review.approvals.approved} of ${review.approvals.total} groups. Read it in the web app.`)];
  const actions = review.status === 'PENDING' ? [...decide(o.publicUrl, review.id), open(o.publicUrl, review.id)] : [open(o.publicUrl, review.id)];
  return teamsMessage(body, actions);
}

/** The card for `event` of `review`, always under TEAMS_LIMITS.cardBytes. */
export function teamsCard(event: NoticeEvent, review: ReviewView, options: CardOptions): TeamsMessage {
  for (const budget of [NORMAL, COMPACT]) {
    const message = render(event, review, options, budget);
    if (jsonBytes(message) <= TEAMS_LIMITS.cardBytes) return message;
  }
  return minimalCard(event, review, options);
}
