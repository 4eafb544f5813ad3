import { describe, expect, it } from 'vitest';
import { rejectModal } from '../../src/bot/reject-modal.js';
import { codeBlock, requesterNotice, whoAsked, resultMessage, reviewMessage, safeResultMessage, safeReviewMessage, statusWords, withheldResultMessage } from '../../src/bot/review-blocks.js';
import { checkMessage, checkView } from '../fakes/slack-block-rules.js';
import type { ReviewView } from '../../src/contracts/review-view.js';

const base: ReviewView = {
  id: '11111111-2222-3333-4444-555555555555',
  connection: 'prod-db',
  requester: 'alice@example.com',
  requesterSlackId: 'UALICE',
  requesterKind: 'person',
  requesterOwner: null,
  origin: null,
  kind: 'command',
  access: null,
  grantId: null,
  input: "UPDATE users SET status = 'inactive' WHERE id = 123",
  reason: 'OPS-1',
  status: 'PENDING',
  autoApproved: false,
  readOnly: false,
  classification: { dialect: 'postgres', parsed: true, kind: 'write', statements: [{ index: 0, kind: 'write', command: 'UPDATE', tables: ['users'], warnings: [] }] },
  groups: [
    { group: 'dba-team', status: 'APPROVED', reviewer: 'dana@example.com', reviewerSlackId: 'UDANA', decidedAt: '2026-01-01T10:00:00.000Z', reason: null, maxRows: null },
    { group: 'security', status: 'PENDING', reviewer: null, reviewerSlackId: null, decidedAt: null, reason: null, maxRows: null },
  ],
  approvals: { approved: 1, total: 2 },
  preview: null,
  rejectReason: null,
  correction: null,
  correctedBy: null,
  createdAt: '2026-01-01T09:59:00.000Z',
  expiresAt: '2026-01-01T10:59:00.000Z',
  decidedAt: null,
  startedAt: null,
  finishedAt: null,
  output: null,
  outputTruncated: false,
  commandTags: [],
  rowsAffected: null,
  error: null,
};

const long = (n: number, unit = 'x') => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
const groups = (n: number, nameLength = 12) =>
  Array.from({ length: n }, (_, i) => ({ group: `g${String(i).padStart(2, '0')}-${long(nameLength)}`.slice(0, 63), status: 'PENDING' as const, reviewer: null, reviewerSlackId: null, decidedAt: null, reason: null, maxRows: null }));

describe('reviewMessage', () => {
  it('links to the request\'s page in the web app when PUBLIC_URL is known, and only then', () => {
    const linked = JSON.stringify(reviewMessage(base, 'https://hoop.example.com').blocks);
    expect(linked).toContain(`<https://hoop.example.com/reviews/${base.id}|Open in the web app>`);
    expect(JSON.stringify(reviewMessage(base).blocks)).not.toContain('Open in the web app');
    expect(checkMessage(reviewMessage({ ...base, groups: groups(40), approvals: { approved: 0, total: 40 } }, 'https://hoop.example.com') as never)).toBeNull();
  });

  it('shows requester, connection, reason, command, per-group status and buttons only for undecided groups', () => {
    const m = reviewMessage(base);
    const json = JSON.stringify(m.blocks);
    expect(json).toContain('alice@example.com');
    expect(json).toContain('prod-db');
    expect(json).toContain('OPS-1');
    expect(json).toContain("UPDATE users SET status = 'inactive' WHERE id = 123");
    expect(json).toContain('approved by <@UDANA>');
    expect(json).toContain('Approved by 1 of 2 groups');
    const actions = m.blocks.filter((b) => b.type === 'actions');
    expect(actions).toHaveLength(1);
    const values = (actions[0] as any).elements.map((e: any) => JSON.parse(e.value));
    expect(values).toEqual([{ reviewId: base.id, group: 'security' }, { reviewId: base.id, group: 'security' }, { reviewId: base.id, group: 'security' }]);
    expect((actions[0] as any).elements.map((e: any) => e.action_id)).toEqual(['review.approve', 'review.reject', 'review.suggest']);
  });

  it('shows the classification: statement count, kind, tables, and a warning for a write without WHERE', () => {
    const json = JSON.stringify(
      reviewMessage({
        ...base,
        classification: { dialect: 'postgres', parsed: true, kind: 'write', statements: [
          { index: 0, kind: 'read', command: 'SELECT', tables: ['orders'], warnings: [] },
          { index: 1, kind: 'write', command: 'DELETE', tables: ['users'], warnings: ['DELETE without WHERE changes every row of users'] },
        ] },
      }).blocks,
    );
    expect(json).toContain('2 statements: #1 *read* SELECT (orders) · #2 *write* DELETE (users)');
    expect(json).toContain(':warning: DELETE without WHERE changes every row of users');
  });

  it('says when the command could not be parsed', () => {
    const json = JSON.stringify(reviewMessage({ ...base, classification: { dialect: 'postgres', parsed: false, kind: 'unknown', statements: [{ index: 0, kind: 'unknown', command: 'UNKNOWN', tables: [], warnings: ['could not be parsed: syntax error at or near "SELEC"'] }] } }).blocks);
    expect(json).toContain('Could not be parsed* as PostgreSQL: syntax error at or near');
  });

  it('drops every button once the request is final', () => {
    for (const status of ['APPROVED', 'RUNNING', 'EXECUTED', 'FAILED', 'REJECTED', 'EXPIRED'] as const) {
      const m = reviewMessage({ ...base, status });
      expect(m.blocks.some((b) => b.type === 'actions')).toBe(false);
    }
  });

  it('cuts a command too long for one block with a visible notice, never silently', () => {
    const long = 'SELECT ' + 'x, '.repeat(2000) + '1';
    const m = reviewMessage({ ...base, input: long });
    const json = JSON.stringify(m.blocks);
    expect(json).toContain('Command cut here');
    expect(json).toContain(`of ${long.length} characters`);
    for (const b of m.blocks) {
      const text = (b as any).text?.text;
      if (text) expect(text.length).toBeLessThanOrEqual(3000);
    }
  });

  it('escapes Slack markup in user-supplied text', () => {
    const m = reviewMessage({ ...base, input: 'SELECT 1 WHERE a < b && c > d', reason: '<!channel>' });
    const json = JSON.stringify(m.blocks);
    expect(json).toContain('a &lt; b &amp;&amp; c &gt; d');
    expect(json).not.toContain('<!channel>');
  });
});

describe('whoAsked (reminders and the Home tab)', () => {
  it('names a person as before, and an agent with its owner, its name inert', () => {
    expect(whoAsked(base)).toBe('<@UALICE>');
    expect(whoAsked({ ...base, requester: 'ci-bot@agents.invalid', requesterSlackId: null, requesterKind: 'agent', requesterOwner: 'alice@example.com' })).toBe(':robot_face: agent `ci-bot` (owner alice@example.com)');
    expect(whoAsked({ ...base, requester: 'x@agents.invalid', requesterSlackId: null, requesterKind: 'agent', requesterOwner: '<!here>@example.com' })).toBe(':robot_face: agent `x` (owner &lt;!here&gt;@example.com)');
  });
});

describe('codeBlock', () => {
  it('keeps backtick fences in the text from closing the block', () => {
    expect(codeBlock('a ``` b', () => '')).toBe('```a `\u200b`\u200b` b```');
  });

  it('counts as Slack does (an emoji is two) and cuts between characters, with its own notice', () => {
    const notice = (shown: number, total: number) => `(cut: ${shown} of ${total})`;
    const block = codeBlock('🙂'.repeat(3000), notice, 2600);
    expect(block).toBe('```' + '🙂'.repeat(1300) + '```\n(cut: 2600 of 6000)');
    expect(codeBlock('🙂'.repeat(1300), notice, 2600)).toBe('```' + '🙂'.repeat(1300) + '```');
    expect(codeBlock('a' + '🙂'.repeat(1300), notice, 2600)).toBe('```a' + '🙂'.repeat(1299) + '```\n(cut: 2599 of 2601)');
  });

  it('keeps a request message with a long emoji command one closed code block with the command notice', () => {
    const m = reviewMessage({ ...base, input: '🙂'.repeat(3000) });
    expect(checkMessage(m)).toBeNull();
    const texts = JSON.stringify(m.blocks).match(/```/g) ?? [];
    expect(texts.length % 2).toBe(0);
    expect(JSON.stringify(m.blocks)).toContain('Command cut here: showing 2600 of 6000 characters');
  });
});

describe('resultMessage', () => {
  it('shows the command tag, rows affected and the output', () => {
    const m = resultMessage({ ...base, status: 'EXECUTED', commandTags: ['UPDATE 1'], rowsAffected: 1, output: 'UPDATE 1' });
    const json = JSON.stringify(m.blocks);
    expect(json).toContain('Executed');
    expect(json).toContain('UPDATE 1');
    expect(json).toContain('1 row affected');
  });

  it('cuts long output with a notice and says when the stored output was cut too', () => {
    const m = resultMessage({ ...base, status: 'EXECUTED', output: 'x'.repeat(5000), outputTruncated: true });
    const json = JSON.stringify(m.blocks);
    expect(json).toContain('Output cut here');
    expect(json).toContain('stored output was itself cut');
  });

  it('shows the error of a failed command', () => {
    expect(JSON.stringify(resultMessage({ ...base, status: 'FAILED', error: 'relation "x" does not exist' }).blocks)).toContain('relation \\"x\\" does not exist');
  });
});

describe('Slack limits, whatever the input', () => {
  const rejected = (reason: string) => ({ group: 'dba-team', status: 'REJECTED' as const, reviewer: `${long(250)}@example.com`, reviewerSlackId: null, decidedAt: '2026-01-01T10:00:00.000Z', reason, maxRows: null });
  const valid = (m: { text: string; blocks: unknown[] }) => {
    expect(checkMessage(m)).toBeNull();
    expect(m.text.length).toBeLessThanOrEqual(3000);
  };

  const cases: [string, ReviewView][] = [
    ['a 5,000-character reason', { ...base, reason: long(5000) }],
    ['a 5,000-character reject reason', { ...base, status: 'REJECTED', groups: [rejected(long(5000))], rejectReason: long(5000) }],
    ['a reason of 3,000 characters that escaping makes five times longer', { ...base, reason: '&'.repeat(3000) }],
    ['an emoji reason cut in the middle of its characters', { ...base, reason: '🙂'.repeat(3000) }],
    ['a 100 kB command', { ...base, input: long(100_000, 'SELECT 1; ') }],
    ['a classification of 5,000 statements with warnings', { ...base, classification: { dialect: 'postgres', parsed: true, kind: 'write', statements: Array.from({ length: 5000 }, (_, index) => ({ index, kind: 'write', command: 'DELETE', tables: ['users'], warnings: ['DELETE without WHERE changes every row of users'] })) } }],
    ['12 reviewer groups', { ...base, groups: groups(12), approvals: { approved: 0, total: 12 } }],
    ['30 reviewer groups with 63-character names', { ...base, groups: groups(30, 60), approvals: { approved: 0, total: 30 } }],
    ['30 decided groups, each with a long reason', { ...base, status: 'REJECTED', groups: groups(30, 60).map((g) => ({ ...rejected(long(4000)), group: g.group })), rejectReason: long(4000) }],
    ['a 320-character requester email and connection name', { ...base, requester: `${long(300)}@example.com`, requesterSlackId: null, connection: long(300) }],
    ['an agent whose origin fills every field with characters escaping makes five times longer', { ...base, requester: 'ci-bot@agents.invalid', requesterKind: 'agent', requesterOwner: `${long(300)}@example.com`, requesterSlackId: null, reason: long(5000), origin: { ip: '&'.repeat(100), userAgent: '&'.repeat(512), client: { name: '<'.repeat(100), version: '>'.repeat(100) } } }],
    ['everything at once', { ...base, reason: long(5000), input: long(50_000), requester: `${long(300)}@example.com`, requesterSlackId: null, groups: groups(40, 60), approvals: { approved: 0, total: 40 } }],
  ];

  for (const [name, view] of cases) {
    it(`renders a request message Slack accepts with ${name}`, () => {
      const m = reviewMessage(view);
      valid(m);
      expect(m.blocks.length).toBeLessThanOrEqual(50);
      const json = JSON.stringify(m.blocks);
      expect(json).toContain(base.id);
      // Whatever is cut says so, and where the rest is (names and emails end in a visible "…").
      const notice = /reviewer groups/.test(name) && !/reason/.test(name) ? /not shown here[^"]*hoop review approve/ : /email/.test(name) ? /x…/ : /cut[^"]*hoop get review/;
      if (!name.startsWith('12 ')) expect(json).toMatch(notice);
    });
  }

  it('says which reviewer groups did not fit and how to decide for them', () => {
    const m = reviewMessage({ ...base, groups: groups(30, 60), approvals: { approved: 0, total: 30 } });
    const json = JSON.stringify(m.blocks);
    expect(json).toMatch(/\d+ more reviewer groups not shown here/);
    expect(json).toContain(`hoop review approve ${base.id} --group GROUP`);
    const buttons = m.blocks.filter((b) => b.type === 'actions').length;
    expect(buttons).toBeGreaterThanOrEqual(20);
  });

  it('cuts a long reason visibly and points to the whole of it', () => {
    const json = JSON.stringify(reviewMessage({ ...base, reason: long(5000) }).blocks);
    expect(json).toMatch(/reason cut: \d+ of 5000 characters shown; all of it: `hoop get review 11111111/);
  });

  it('shows a 10 kB database error cut, in a reply Slack accepts', () => {
    const m = resultMessage({ ...base, status: 'FAILED', error: `ERROR: ${long(10_240)}` });
    valid(m);
    expect(JSON.stringify(m.blocks)).toMatch(/error cut: \d+ of 10247 characters shown/);
  });

  it('shows 1 MB of output cut, in a reply Slack accepts', () => {
    valid(resultMessage({ ...base, status: 'EXECUTED', output: long(1_000_000, 'row | value\n'), outputTruncated: true, commandTags: Array.from({ length: 500 }, () => 'SELECT 1000') }));
  });

  it('tells the requester about a rejection with a 5,000-character reason and a 100 kB command', () => {
    valid(requesterNotice({ ...base, status: 'REJECTED', groups: [rejected(long(5000))], rejectReason: long(5000), input: long(100_000) }));
  });

  it('withholds a result in a message Slack accepts, without the output', () => {
    const m = withheldResultMessage({ ...base, status: 'EXECUTED', output: 'secret row', connection: long(300) });
    valid(m);
    expect(JSON.stringify(m.blocks)).not.toContain('secret row');
    expect(JSON.stringify(m.blocks)).toContain(`hoop get review ${base.id}`);
  });

  it('opens a reject modal Slack accepts for any group, connection and requester', () => {
    const view = rejectModal({ reviewId: base.id, group: long(63), channel: 'C-REVIEWS' }, { connection: long(300), requester: `${long(300)}@example.com` });
    expect(checkView(view)).toBeNull();
  });
});

describe('the minimal renderings used when Slack refuses a message anyway', () => {
  it('keep buttons while the request is pending, and have no code blocks', () => {
    const m = safeReviewMessage({ ...base, input: 'SELECT ```x```', reason: long(5000) });
    expect(checkMessage(m)).toBeNull();
    expect(m.blocks.some((b) => b.type === 'actions')).toBe(true);
    expect(JSON.stringify(m.blocks)).not.toContain('```');
    expect(JSON.stringify(m.blocks)).not.toContain('xxxx');
  });

  it('drop every button once the request is decided', () => {
    for (const status of ['APPROVED', 'RUNNING', 'EXECUTED', 'FAILED', 'REJECTED', 'EXPIRED'] as const) {
      const m = safeReviewMessage({ ...base, status, groups: groups(20) });
      expect(checkMessage(m)).toBeNull();
      expect(m.blocks.some((b) => b.type === 'actions')).toBe(false);
      expect(JSON.stringify(m.blocks)).toContain(statusWords(status));
    }
  });

  it('give a result reply with the outcome and where to read it', () => {
    const m = safeResultMessage({ ...base, status: 'FAILED', error: long(10_000), output: long(10_000) });
    expect(checkMessage(m)).toBeNull();
    expect(JSON.stringify(m.blocks)).toContain('*Failed*');
    expect(JSON.stringify(m.blocks)).not.toContain('xxxx');
  });
});

describe('reviewMessage for MySQL input that only partly parses', () => {
  it('lists every statement and every warning, so the reason a statement is unknown is never hidden', () => {
    const statements = [
      { index: 0, kind: 'unknown' as const, command: 'UPDATE', tables: ['users'], warnings: ['contains --1 with no space after --, which the server reads as two minus signs, not as a comment'] },
      { index: 1, kind: 'unknown' as const, command: 'DROP TABLE', tables: [], warnings: ['could not be parsed: Expected "#" but "/" found.'] },
    ];
    const json = JSON.stringify(reviewMessage({ ...base, classification: { dialect: 'mysql', parsed: false, kind: 'unknown', statements } }).blocks);
    expect(json).toContain('2 statements: #1 *unknown* UPDATE (users) · #2 *unknown* DROP TABLE');
    expect(json).toContain(':warning: contains --1 with no space after --');
    expect(json).toContain(':warning: could not be parsed: Expected');
    expect(json).not.toContain('Could not be parsed* as MySQL');
  });
});
