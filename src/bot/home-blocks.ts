// Block Kit for the app's Home tab (views.publish). Pure: what a person may see in, a view out.
// "Waiting for you" carries the same Approve and Reject buttons (action ids and values) as the
// request messages, so the same handlers decide; "Your requests" shows only statuses, never output.
import { accessTitle } from '../core/access-window.js';
import type { ReviewListView } from '../contracts/review-view.js';
import { escapeMrkdwn, reviewStatusLine, slackDate, voteButtons, whoAsked } from './review-blocks.js';
import { cutLabel, fitBlocks, head, SLACK_LIMITS } from './slack-limits.js';

export const HOME_CALLBACK_ID = 'hoop.home';

/** How many requests each section lists; more are counted in a note. */
export const HOME_LIST_LIMIT = 10;

/** How much of a command's first line is shown. */
const COMMAND_PREVIEW = 150;

export type HomeContent =
  | {
      kind: 'linked';
      email: string;
      waiting: { review: ReviewListView; groups: string[] }[];
      waitingTotal: number;
      mine: ReviewListView[];
      mineTotal: number;
    }
  /** The Slack account is not linked to a hoop user (or the user is deactivated). */
  | { kind: 'not-linked' }
  | { kind: 'deactivated'; email: string };

export interface HomeView {
  type: 'home';
  callback_id: string;
  blocks: Record<string, unknown>[];
}

/** "in 42 min", counted up so that a request never looks further away than it is. */
export function expiresIn(expiresAt: string, now: Date): string {
  const ms = new Date(expiresAt).getTime() - now.getTime();
  if (ms < 60_000) return 'in less than a minute';
  return `in ${Math.ceil(ms / 60_000)} min`;
}

/** The first line of a command, cut, as inline code (backticks inside cannot end it). */
export function commandPreview(review: Pick<ReviewListView, 'input' | 'inputTruncated'>): string {
  const lines = review.input.split('\n');
  let first = lines[0].trim() || ' ';
  const more = lines.length > 1 || review.inputTruncated || first.length > COMMAND_PREVIEW;
  first = head(first, COMMAND_PREVIEW);
  return `\`${escapeMrkdwn(first).replaceAll('`', 'ˋ')}${more ? '…' : ''}\``;
}

/** What a listed request asks for: its command's first line, or an access request's window. */
export function requestPreview(review: Pick<ReviewListView, 'kind' | 'access' | 'connection' | 'input' | 'inputTruncated'>): string {
  if (review.kind === 'access') return `:key: ${escapeMrkdwn(accessTitle(review.access?.durationSec ?? 0, cutLabel(review.connection, 200)))}`;
  return commandPreview(review);
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (text: string) => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });
const header = (text: string) => ({ type: 'header', text: { type: 'plain_text', text: cutLabel(text, SLACK_LIMITS.headerText) } });

function waitingBlocks(w: { review: ReviewListView; groups: string[] }, now: Date): Record<string, unknown>[] {
  const r = w.review;
  const { approved, total } = r.approvals;
  const line = [
    `*${escapeMrkdwn(cutLabel(r.connection, 200))}*`,
    `from ${whoAsked(r)}`,
    `expires ${expiresIn(r.expiresAt, now)}`,
    `${approved} of ${total} ${total === 1 ? 'group' : 'groups'} approved`,
  ].join(' · ');
  const reason = r.reason ? `\n_${escapeMrkdwn(cutLabel(r.reason.replace(/\s+/g, ' '), 200))}_` : '';
  // Several groups of the viewer's: each row of buttons names its group (the minimal form does).
  const buttons = w.groups.flatMap((g) => voteButtons(r.id, g, w.groups.length > 1));
  return [section(`${line}\n${requestPreview(r)}${reason}`), { type: 'actions', block_id: `home:${r.id}`, elements: buttons }, context(`Request \`${r.id}\``)];
}

function mineBlock(r: ReviewListView): Record<string, unknown> {
  const until = r.kind === 'access' && r.status === 'GRANTED' && r.access?.endsAt ? ` until ${slackDate(r.access.endsAt)}` : '';
  return section(`${reviewStatusLine(r)}${until} · *${escapeMrkdwn(cutLabel(r.connection, 200))}* · ${slackDate(r.createdAt)}\n${requestPreview(r)} · \`${r.id}\``);
}

/** The Home tab of a person, within Slack's limits (100 blocks, each text cut with a notice). */
export function homeView(content: HomeContent, now: Date): HomeView {
  const blocks: Record<string, unknown>[] = [header('hoop: database access requests')];
  if (content.kind === 'not-linked') {
    blocks.push(section('Your Slack account is not linked to a hoop user yet. Run `/hoop subscribe` in any channel, then open this tab again to see the requests waiting for you and your own.'));
  } else if (content.kind === 'deactivated') {
    blocks.push(section(`Your hoop user ${escapeMrkdwn(cutLabel(content.email, 200))} is deactivated, so nothing is shown here. Ask an admin of your gateway to reactivate you.`));
  } else {
    blocks.push(context(`Signed in as ${escapeMrkdwn(cutLabel(content.email, 200))} · updated ${slackDate(now.toISOString())}`));
    blocks.push({ type: 'divider' }, header('Waiting for you'));
    if (content.waiting.length === 0) blocks.push(section('_Nothing is waiting for your decision._'));
    for (const w of content.waiting.slice(0, HOME_LIST_LIMIT)) blocks.push(...waitingBlocks(w, now));
    const moreWaiting = content.waitingTotal - Math.min(content.waiting.length, HOME_LIST_LIMIT);
    if (moreWaiting > 0) {
      blocks.push(context(`:heavy_plus_sign: ${moreWaiting} more ${moreWaiting === 1 ? 'request waits' : 'requests wait'} for you, not shown here. List them with \`hoop admin get reviews --status pending\` (or GET /api/reviews?status=pending).`));
    }
    blocks.push({ type: 'divider' }, header('Your requests'));
    if (content.mine.length === 0) blocks.push(section('_You have not made any request yet._'));
    for (const r of content.mine.slice(0, HOME_LIST_LIMIT)) blocks.push(mineBlock(r));
    const moreMine = content.mineTotal - Math.min(content.mine.length, HOME_LIST_LIMIT);
    if (moreMine > 0) blocks.push(context(`:heavy_plus_sign: ${moreMine} older ${moreMine === 1 ? 'request' : 'requests'} of yours not shown here. List them with \`hoop admin get reviews\`; one in full with \`hoop get review ID\`.`));
  }
  return { type: 'home', callback_id: HOME_CALLBACK_ID, blocks: fitBlocks(blocks, 'home') };
}
