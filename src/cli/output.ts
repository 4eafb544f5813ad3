// What the CLI prints: aligned tables (kubectl style) and reviews.
import { previewLines, sampleWords } from '../contracts/impact-preview.js';
import { sampleText } from '../sql/preview-text.js';
import { accessTitle } from '../core/access-window.js';
import { rowLimitWords, type ReviewListView, type ReviewView } from '../contracts/review-view.js';
import { requesterLineText } from '../contracts/request-origin.js';

/** Columns separated by three spaces, upper-case headers, no trailing blanks. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  // A line break in a cell would start a line that reads as a row of its own: a cell is one line.
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined || c === '' ? '-' : String(c).replace(/\s*[\r\n]+\s*/g, ' '))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => [...r[i]].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i] - [...c].length))).join('   ').trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...cells.map(line)].join('\n');
}

/** "dba-team, security" — the groups that still have to approve. */
export function waitingOn(review: ReviewView): string {
  return review.groups.filter((g) => g.status === 'PENDING').map((g) => g.group).join(', ');
}

function oneLine(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

/** A review for `hoop get review`: fields, groups, then the output or error. */
export function describeReview(r: ReviewView): string {
  const lines = [
    `ID:          ${r.id}`,
    `Connection:  ${r.connection}`,
    `Requester:   ${requesterLineText(r)}`,
    ...(r.origin?.userAgent ? [`User agent:  ${r.origin.userAgent}`] : []),
    `Status:      ${r.status}${r.autoApproved ? ' (admin, approved automatically)' : ''}`,
    `Reason:      ${r.reason ?? '-'}`,
    `Created:     ${r.createdAt}`,
    r.status === 'PENDING' ? `Expires:     ${r.expiresAt}` : `Decided:     ${r.decidedAt ?? '-'}`,
    `Approvals:   ${r.approvals.approved} of ${r.approvals.total} groups`,
  ];
  for (const g of r.groups) {
    const who = g.reviewer ? ` by ${g.reviewer} at ${g.decidedAt}` : '';
    lines.push(`  ${g.group}: ${g.status}${who}${g.maxRows !== null ? ` (${rowLimitWords(g.maxRows)})` : ''}${g.reason ? ` — ${g.reason}` : ''}`);
  }
  if (r.rejectReason) lines.push(`Rejected:    ${r.rejectReason}`);
  if (r.access) {
    // An access request has no command: its window is what was asked for.
    lines.push(`Access:      ${accessTitle(r.access.durationSec, r.connection)}`);
    if (r.access.endsAt) lines.push(`${r.access.revokedAt ? 'Revoked:     ' + r.access.revokedAt + (r.access.revokedBy ? ` by ${r.access.revokedBy}` : '') : `Ends:        ${r.access.endsAt}${r.access.open ? ' (open now)' : ''}`}`);
    return lines.join('\n');
  }
  if (r.grantId) lines.push(`Ran under:   access window ${r.grantId} (no per-command review)`);
  if (r.correctedBy) lines.push(`Corrected:   by request ${r.correctedBy} (hoop get review ${r.correctedBy})`);
  lines.push('Command:', ...r.input.split('\n').map((l) => `  ${l}`));
  if (r.correction) {
    // Who changed what: the line diff from the original command to this one.
    const c = r.correction;
    lines.push(`Correction:  of request ${c.of ?? '(deleted)'} by ${c.suggestedBy ?? '-'} — ${c.comment}`);
    lines.push(`Accepted:    ${c.accepted ? 'yes' : `no — it runs only once the requester accepts it (hoop review accept ${r.id})`}`);
    lines.push('Changes:', ...c.diff.split('\n').map((l) => `  ${l}`));
  }
  const c = r.classification;
  if (c) {
    // What the gateway made of the command, as Slack shows it: reviewers on a terminal read it too.
    lines.push(`Analysis:    ${c.statements.length} ${c.statements.length === 1 ? 'statement' : 'statements'}, ${c.kind}${c.parsed ? '' : ' (could not be parsed)'}`);
    for (const st of c.statements) {
      lines.push(`  #${st.index + 1} ${st.kind} ${st.command}${st.tables.length ? ` (${st.tables.join(', ')})` : ''}`);
      for (const w of st.warnings) lines.push(`    warning: ${w}`);
    }
  }
  if (r.preview) {
    // What the command would change, measured before review (a dry run, rolled back, or the planner's estimate).
    const [first, ...rest] = previewLines(r.preview);
    lines.push(`Impact:      ${first ?? '-'}`, ...rest.map((l) => `             ${l}`));
    for (const s of r.preview.statements) {
      const sample = sampleText(s);
      if (sample) lines.push(`  Sample of statement ${s.index + 1} (${sampleWords(s)}):`, ...sample.split('\n').map((l) => `    ${l}`));
    }
  }
  if (r.commandTags.length) lines.push(`Result:      ${r.commandTags.join(', ')}${r.rowsAffected !== null ? ` (${r.rowsAffected} rows affected)` : ''}`);
  if (r.error) lines.push(`Error:       ${r.error}`);
  if (r.output) lines.push('Output:', r.output);
  if (r.outputTruncated) lines.push('(output truncated by the gateway)');
  return lines.join('\n');
}

/** Rows for `hoop admin get reviews`. */
export function reviewsTable(reviews: ReviewListView[]): string {
  return table(
    ['id', 'connection', 'requester', 'status', 'approvals', 'created', 'command'],
    reviews.map((r) => [r.id, r.connection, r.requester, r.status, `${r.approvals.approved}/${r.approvals.total}`, r.createdAt.slice(0, 19).replace('T', ' '), r.access ? `[${accessTitle(r.access.durationSec, r.connection)}]` : oneLine(r.input)]),
  );
}

/** Who rejected, and why. */
export function rejectionLine(r: ReviewView): string {
  const g = r.groups.find((x) => x.status === 'REJECTED');
  return `Rejected${g?.reviewer ? ` by ${g.reviewer}` : ''}${g ? ` (${g.group})` : ''}: ${r.rejectReason ?? 'no reason given'}. The command was not executed.`;
}

export interface HistoryEvent {
  at: string;
  action: string;
  actor: string;
  source: string;
  ip: string | null;
}

/** The audit trail of a review as a table. */
export function historyTable(events: HistoryEvent[]): string {
  return table(['time', 'action', 'actor', 'source', 'ip'], events.map((e) => [e.at.slice(0, 23).replace('T', ' '), e.action.replace(/^review\./, ''), e.actor, e.source, e.ip]));
}

// Control characters and bidirectional overrides a terminal would obey rather than show: a command,
// a reason, an error or a value could otherwise rewrite what the reader sees (\r, ESC [2K, U+202E).
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control character spelled out (`\x1b`, `\r`, `\u202e`); tabs and newlines stay. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\r') return '\\r';
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

// What JSON.stringify leaves as it is but a terminal would obey: DEL, C1 controls, bidirectional marks.
const UNPRINTABLE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `value` as JSON that a terminal shows as it is: the characters it would obey become `\uXXXX` escapes (still valid JSON). */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(UNPRINTABLE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
