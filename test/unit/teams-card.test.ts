import { describe, expect, it } from 'vitest';
import { reviewUrl, TEAMS_LIMITS, teamsCard, type TeamsMessage } from '../../src/notify/teams/teams-card.js';
import { plainText } from '../../src/notify/teams/teams-text.js';
import { SAMPLE_REVIEW_ID, sampleReviewView } from '../helpers/review-view-sample.js';

const PUBLIC = 'https://hoop.example.com';
const ID = SAMPLE_REVIEW_ID;

const review = sampleReviewView;

const cardOf = (m: TeamsMessage) => m.attachments[0].content;
/** Every text a card shows: TextBlocks and fact values, in order. */
function texts(m: TeamsMessage): string[] {
  const out: string[] = [];
  for (const el of cardOf(m).body as any[]) {
    if (el.type === 'TextBlock') out.push(el.text);
    if (el.type === 'FactSet') for (const f of el.facts) out.push(`${f.title}: ${f.value}`);
  }
  return out;
}
const all = (m: TeamsMessage) => texts(m).join('\n');
const monospaced = (m: TeamsMessage) => (cardOf(m).body as any[]).filter((el) => el.type === 'TextBlock' && el.fontType === 'Monospace');
const bytes = (m: TeamsMessage) => Buffer.byteLength(JSON.stringify(m), 'utf8');

/** True when `ch` at `i` is preceded by an odd number of backslashes (escaped). */
function escapedAt(s: string, i: number): boolean {
  let n = 0;
  for (let j = i - 1; j >= 0 && s[j] === '\\'; j--) n++;
  return n % 2 === 1;
}

/** What a Markdown reader (CommonMark or a simpler one) could take as markup in a plain text. */
function markupIn(s: string): string[] {
  const found: string[] = [];
  for (const pair of ['](', '**', '__', '{{', '://']) if (s.includes(pair)) found.push(pair);
  if (/www\./i.test(s)) found.push('www.');
  for (let i = 0; i < s.length; i++) if ('*_[]<>`~|'.includes(s[i]) && !escapedAt(s, i)) found.push(`unescaped ${s[i]}`);
  for (const line of s.split('\n')) if (/^\s*([-+#]|\d+[.)])/.test(line)) found.push(`line marker in ${JSON.stringify(line.slice(0, 10))}`);
  if (/[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/.test(s)) found.push('direction control');
  return found;
}

/** The text as a reader sees it once escapes are read: zero-width spaces gone, "\x" → "x", paragraphs → lines. */
const readBack = (s: string) => s.replaceAll('\u200b', '').replace(/\\(.)/g, '$1').replaceAll('\n\n', '\n');

const INJECTIONS = [
  '**bold** and __under__',
  '***both*** *it* _it_',
  '[Approve](http://evil.example/approve)',
  '[x]( http://evil.example )',
  '![img](http://evil.example/i.png)',
  '<http://evil.example>',
  'see http://evil.example/a and HTTPS://EVIL.example and www.evil.example',
  '- item\n+ item\n1. one\n2) two\n# heading\n  - nested',
  '{{DATE(2017-02-14T06:08:39Z, SHORT)}} {{TIME(2017-02-14T06:08:39Z)}}',
  'already \\*escaped\\* and \\[x\\](http://evil.example) and a trailing \\',
  '`code` ~~strike~~ | a | b |',
  'a\u202egnp.exe DROP TABLE users\u202c and \u2066isolate\u2069',
  '[x]\n(http://evil.example)',
  '<at>Everyone</at> &amp; <b>html</b>',
];

describe('plainText', () => {
  it.each(INJECTIONS)('leaves no Markdown, link, list, date function or direction control in %j', (input) => {
    const out = plainText(input);
    expect(markupIn(out)).toEqual([]);
  });

  it.each(INJECTIONS.filter((s) => !/[\u202a-\u202e\u2066-\u2069]/.test(s)))('reads back exactly as typed: %j', (input) => {
    expect(readBack(plainText(input))).toBe(input);
  });

  it('names direction controls and replaces control characters instead of passing them on', () => {
    expect(plainText('a\u202eb')).toBe('a⟦U+202E⟧b');
    expect(plainText('a\u0000b\u0007c\td')).toBe('a\ufffdb\ufffdc\td');
    expect(plainText('a\ud800b\udc00c😀')).toBe('a\ufffdb\ufffdc😀');
  });

  it('keeps the lines of a multi-line command apart (Teams joins lines split by one newline)', () => {
    expect(plainText('SELECT 1;\nSELECT 2;\r\nSELECT 3;')).toBe('SELECT 1;\n\nSELECT 2;\n\nSELECT 3;');
  });
});

describe('teamsCard', () => {
  describe('review.created of a correction', () => {
    const ORIGINAL = '11111111-2222-4333-8444-555555555555';
    const correction = (diff: string) =>
      review({ correction: { of: ORIGINAL, suggestedBy: 'dana@example.com', suggestedBySlackId: null, comment: 'only row 2', diff, accepted: false } });

    it('names it a correction, says of what and by whom, and shows the diff in monospace after the command', () => {
      const m = teamsCard('review.created', correction(" UPDATE users SET status = 'off'\n-WHERE id = 1\n+WHERE id = 2"), { publicUrl: PUBLIC });
      const t = all(m);
      expect(t).toContain('Correction waiting for approval');
      expect(t).toContain(`of request ${ORIGINAL} by dana@example.com: only row 2`);
      expect(t).toContain('runs only once its requester accepts');
      const blocks = monospaced(m);
      expect(blocks).toHaveLength(2);
      expect(readBack(blocks[1].text)).toBe(" UPDATE users SET status = 'off'\n-WHERE id = 1\n+WHERE id = 2");
      expect(markupIn(blocks[1].text)).toEqual([]);
    });

    it('cuts a long diff like the command, with a notice, within the card limit', () => {
      const m = teamsCard('review.created', correction(Array.from({ length: 5000 }, (_, i) => `+INSERT INTO t VALUES (${i});`).join('\n')), { publicUrl: PUBLIC });
      expect(all(m)).toMatch(/Diff cut here: showing \d+ of \d+ characters/);
      expect(bytes(m)).toBeLessThanOrEqual(TEAMS_LIMITS.messageBytes);
    });
  });

  describe('review.created', () => {
    const m = teamsCard('review.created', review(), { publicUrl: PUBLIC });

    it('is a Workflows message with one Adaptive Card 1.5', () => {
      expect(m.type).toBe('message');
      expect(m.attachments).toHaveLength(1);
      expect(m.attachments[0]).toMatchObject({ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null });
      expect(cardOf(m)).toMatchObject({ type: 'AdaptiveCard', version: '1.5', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json' });
    });

    it('shows requester, connection, reason, classification, expiry, groups and the approval count', () => {
      const t = all(m);
      expect(t).toContain('Requester: ann@example.com');
      expect(t).toContain('Connection: prod-db');
      expect(t).toContain('Reason: ticket OPS-12');
      expect(t).toContain('Classification: write (1 statement)');
      expect(t).toContain('Expires: 2026-11-30 11:00 UTC');
      expect(t).toMatch(/\*\*dba\*\* approved by bob@example\.com/);
      expect(t).toMatch(/\*\*sec\*\* has not decided yet/);
      expect(t).toContain('1 of 2 groups approved');
      expect(t).toContain(`Request ${ID}`);
    });

    it('shows the command in a wrapped monospace TextBlock', () => {
      const [block] = monospaced(m);
      expect(block).toMatchObject({ type: 'TextBlock', fontType: 'Monospace', wrap: true });
      expect(readBack(block.text)).toBe(review().input);
    });

    it('offers Approve, Reject and Open, each opening the request in the web app', () => {
      expect(cardOf(m).actions).toEqual([
        expect.objectContaining({ type: 'Action.OpenUrl', title: 'Approve', url: `${PUBLIC}/reviews/${ID}?action=approve` }),
        expect.objectContaining({ type: 'Action.OpenUrl', title: 'Reject', url: `${PUBLIC}/reviews/${ID}?action=reject` }),
        expect.objectContaining({ type: 'Action.OpenUrl', title: 'Open', url: `${PUBLIC}/reviews/${ID}` }),
      ]);
      expect(reviewUrl('http://localhost:8009/app', ID)).toBe(`http://localhost:8009/app/reviews/${ID}`);
    });

    it('offers only Open once the request is no longer pending', () => {
      const late = teamsCard('review.created', review({ status: 'REJECTED' }), { publicUrl: PUBLIC });
      expect(cardOf(late).actions.map((a: any) => a.title)).toEqual(['Open']);
      expect(all(late)).toContain('now rejected');
    });
  });

  describe('follow-up cards', () => {
    it('a group approval names the group, the approver and N of M', () => {
      const t = all(teamsCard('review.group_approved', review(), { publicUrl: PUBLIC, step: 1 }));
      expect(t).toMatch(/\*\*dba\*\* approved by bob@example\.com: 1 of 2 groups approved/);
    });

    it('a group approval of a still pending request keeps Approve and Reject', () => {
      const m = teamsCard('review.group_approved', review(), { publicUrl: PUBLIC, step: 1 });
      expect(cardOf(m).actions.map((a: any) => a.title)).toEqual(['Approve', 'Reject', 'Open']);
    });

    it('approval, rejection (with its reason) and expiry say what happened and offer only Open', () => {
      const approved = teamsCard('review.approved', review({ status: 'APPROVED', approvals: { approved: 2, total: 2 } }), { publicUrl: PUBLIC });
      expect(all(approved)).toContain('Approved by every group');
      const rejected = review({ status: 'REJECTED', rejectReason: 'not during the freeze', groups: [{ group: 'dba', status: 'REJECTED', reviewer: 'cy@example.com', reviewerSlackId: null, decidedAt: '2026-11-30T10:05:00.000Z', reason: 'not during the freeze', maxRows: null }] });
      const r = all(teamsCard('review.rejected', rejected, { publicUrl: PUBLIC }));
      expect(r).toContain('Rejected by cy@example.com for **dba**');
      expect(r).toContain('Reason given:** not during the freeze');
      const expired = all(teamsCard('review.expired', review({ status: 'EXPIRED', decidedAt: '2026-11-30T11:00:00.000Z' }), { publicUrl: PUBLIC }));
      expect(expired).toContain('Expired without a decision');
      expect(expired).toContain('not executed');
      for (const m of [approved, teamsCard('review.rejected', rejected, { publicUrl: PUBLIC })]) expect(cardOf(m).actions.map((a: any) => a.title)).toEqual(['Open']);
    });

    it('a result shows the outcome, the masked output as stored, and a stored cut', () => {
      const m = teamsCard('review.executed', review({ status: 'EXECUTED', commandTags: ['UPDATE 1'], rowsAffected: 1, output: 'id | email\n2 | a***@example.com', outputTruncated: true }), { publicUrl: PUBLIC });
      const t = all(m);
      expect(t).toContain('Executed (UPDATE 1), 1 row affected');
      expect(readBack(monospaced(m)[1].text)).toBe('id | email\n2 | a***@example.com');
      expect(t).toContain('stored output was itself cut');
    });

    it('a failure shows the error', () => {
      const t = all(teamsCard('review.failed', review({ status: 'FAILED', error: 'relation "userz" does not exist' }), { publicUrl: PUBLIC }));
      expect(t).toContain('the command failed');
      expect(readBack(t)).toContain('relation "userz" does not exist');
    });

    it('withholds the output of a restricted connection', () => {
      const t = all(teamsCard('review.executed', review({ status: 'EXECUTED', output: 'secret-row' }), { publicUrl: PUBLIC, withholdOutput: true }));
      expect(t).not.toContain('secret');
      expect(t).toContain('not shown in this channel');
    });
  });

  describe('review.reminder', () => {
    const now = new Date('2026-11-30T10:30:00.000Z');
    it('says how long is left, shows the request and who has not decided, and offers Approve, Reject and Open', () => {
      const m = teamsCard('review.reminder', review(), { publicUrl: PUBLIC, now });
      const t = all(m);
      expect(t).toContain('Reminder: waiting for a decision — expires in 30 min');
      expect(t).toContain('prod-db');
      expect(t).toContain('sec** has not decided yet');
      expect(t).toContain('1 of 2 groups approved');
      expect(monospaced(m)[0].text).toContain('UPDATE users');
      expect(cardOf(m).actions.map((a: any) => [a.title, a.url])).toEqual([
        ['Approve', reviewUrl(PUBLIC, ID, 'approve')],
        ['Reject', reviewUrl(PUBLIC, ID, 'reject')],
        ['Open', reviewUrl(PUBLIC, ID)],
      ]);
    });

    it('counts the last minute as less than a minute, and cuts a 1 MB command with a notice', () => {
      const input = `UPDATE t SET v = '${'x'.repeat(1024 * 1024)}'`;
      const m = teamsCard('review.reminder', review({ input }), { publicUrl: PUBLIC, now: new Date('2026-11-30T10:59:30.000Z') });
      expect(all(m)).toContain('expires in less than a minute');
      expect(all(m)).toContain('Command cut here');
      expect(bytes(m)).toBeLessThanOrEqual(TEAMS_LIMITS.cardBytes);
    });
  });

  describe('text typed by people', () => {
    const events = ['review.created', 'review.reminder', 'review.rejected', 'review.failed', 'review.executed'] as const;
    it.each(INJECTIONS)('never becomes a link or formatting, in any field: %j', (evil) => {
      const r = review({
        input: evil,
        reason: evil,
        requester: evil,
        connection: evil,
        rejectReason: evil,
        error: evil,
        output: evil,
        groups: [{ group: evil, status: 'REJECTED', reviewer: evil, reviewerSlackId: null, decidedAt: '2026-11-30T10:05:00.000Z', reason: evil, maxRows: null }],
        approvals: { approved: 0, total: 1 },
      });
      for (const e of events) {
        const t = all(teamsCard(e, { ...r, status: e === 'review.created' || e === 'review.reminder' ? 'PENDING' : e === 'review.rejected' ? 'REJECTED' : e === 'review.failed' ? 'FAILED' : 'EXECUTED' }, { publicUrl: PUBLIC }));
        for (const bad of ['](', '://evil', '**bold**', '__under__', '{{DATE(2017', '\u202e', '\u2066']) expect(t, `${e}: ${bad}`).not.toContain(bad);
        expect(t, e).not.toMatch(/(^|[^\\])<(http|at|b)/);
        expect(t, e).not.toMatch(/(^|\n)\s*- item/);
      }
    });
  });

  describe("an agent's request", () => {
    it('names the agent, its owner, its MCP client and address, and its User-Agent, in every card', () => {
      const r = review({ requester: 'ci-bot@agents.invalid', requesterKind: 'agent', requesterOwner: 'alice@example.com', origin: { ip: '203.0.113.7', userAgent: 'hoop-mcp/0.9', client: { name: 'claude-desktop', version: '1.2.0' } } });
      for (const e of ['review.created', 'review.reminder', 'review.approved', 'review.executed'] as const) {
        const t = all(teamsCard(e, r, { publicUrl: PUBLIC }));
        expect(t, e).toContain('Requester: 🤖 Agent ci-bot (owner alice@example.com) via claude-desktop 1.2.0 from 203.0.113.7');
        expect(t, e).toContain('User agent: hoop-mcp/0.9');
      }
    });

    it.each(INJECTIONS)('shows its origin as plain text, cut with a notice: %j', (evil) => {
      const r = review({ requester: 'ci-bot@agents.invalid', requesterKind: 'agent', requesterOwner: 'alice@example.com', origin: { ip: evil, userAgent: `${evil}\n${evil.repeat(20)}`.slice(0, 512), client: { name: evil, version: evil } } });
      const m = teamsCard('review.created', r, { publicUrl: PUBLIC });
      const t = all(m);
      for (const bad of ['](', '://evil', '**bold**', '__under__', '{{DATE(2017', '\u202e', '\u2066']) expect(t, bad).not.toContain(bad);
      expect(t).not.toMatch(/(^|[^\\])<(http|at|b)/);
      // One line each: a line break in a header cannot start a list or a heading of its own.
      const origin = texts(m).filter((x) => /^(Requester|User agent): /.test(x));
      expect(origin).toHaveLength(2);
      for (const line of origin) expect(line).not.toContain('\n');
      expect(origin[1]).toMatch(/\(cut: \d+ of \d+ characters shown\)$/);
    });
  });

  describe('size', () => {
    const under = (m: TeamsMessage) => {
      expect(bytes(m)).toBeLessThanOrEqual(TEAMS_LIMITS.cardBytes);
      expect(bytes(m)).toBeLessThan(TEAMS_LIMITS.messageBytes);
    };

    it('cuts a 1 MB command with a notice that links to the whole of it', () => {
      const input = `UPDATE t SET v = '${'x'.repeat(1024 * 1024)}'`;
      const m = teamsCard('review.created', review({ input }), { publicUrl: PUBLIC });
      under(m);
      const shown = readBack(monospaced(m)[0].text);
      expect(input.startsWith(shown)).toBe(true);
      // 6,000 characters did not fit the card's 20 KB with the rest of it: the compact card's 2,000
      // apply (README: "cut at 6,000 characters, 2,000 when the card would not fit").
      expect(shown.length).toBe(2000);
      expect(all(m)).toMatch(new RegExp(`Command cut here: showing ${shown.length} of ${input.length} characters\\. The full command: ${PUBLIC}/reviews/${ID}`));
    });

    it.each([
      ['markup characters', '*_[]<>`~|'.repeat(120_000)],
      ['quotes, control characters and newlines', '"\u0001\n'.repeat(300_000)],
      ['emoji (surrogate pairs)', '😀'.repeat(300_000)],
      ['direction controls', '\u202e'.repeat(200_000)],
      ['lone surrogates', '\udc00'.repeat(300_000)],
    ])('stays under the limit for a 1 MB command of %s, never splitting a character', (_what, input) => {
      const m = teamsCard('review.created', review({ input, reason: input.slice(0, 20_000) }), { publicUrl: PUBLIC });
      under(m);
      expect(monospaced(m)[0].text).not.toMatch(/[\ud800-\udbff]$/);
      expect(all(m)).toContain('Command cut here');
    });

    it('stays under the limit for a huge result, error and many long group names', () => {
      const huge = '|😀"*\n'.repeat(250_000);
      const groups = Array.from({ length: 60 }, (_, i) => ({ group: `group-${i}-${'g'.repeat(400)}`, status: 'APPROVED' as const, reviewer: `${'r'.repeat(300)}@example.com`, reviewerSlackId: null, decidedAt: '2026-11-30T10:01:00.000Z', reason: 'r'.repeat(5000), maxRows: null }));
      for (const e of ['review.executed', 'review.failed', 'review.created', 'review.group_approved', 'review.reminder'] as const) {
        const m = teamsCard(e, review({ status: 'FAILED', output: huge, error: huge, reason: huge, input: huge, groups, approvals: { approved: 60, total: 60 } }), { publicUrl: PUBLIC, step: 3 });
        under(m);
        expect(cardOf(m).actions.at(-1)).toMatchObject({ title: 'Open', url: `${PUBLIC}/reviews/${ID}` });
      }
      const result = all(teamsCard('review.executed', review({ status: 'EXECUTED', output: huge }), { publicUrl: PUBLIC }));
      expect(result).toContain('Output cut here');
    });
  });
});
