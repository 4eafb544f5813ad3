import { describe, expect, it } from 'vitest';
import { codeBlock, resultMessage, reviewMessage } from '../../src/bot/review-blocks.js';
import type { ReviewView } from '../../src/service/review-view.js';

const base: ReviewView = {
  id: '11111111-2222-3333-4444-555555555555',
  connection: 'prod-db',
  requester: 'alice@example.com',
  requesterSlackId: 'UALICE',
  input: "UPDATE users SET status = 'inactive' WHERE id = 123",
  reason: 'OPS-1',
  status: 'PENDING',
  autoApproved: false,
  readOnly: false,
  classification: { dialect: 'postgres', parsed: true, kind: 'write', statements: [{ index: 0, kind: 'write', command: 'UPDATE', tables: ['users'], warnings: [] }] },
  groups: [
    { group: 'dba-team', status: 'APPROVED', reviewer: 'dana@example.com', reviewerSlackId: 'UDANA', decidedAt: '2026-01-01T10:00:00.000Z', reason: null },
    { group: 'security', status: 'PENDING', reviewer: null, reviewerSlackId: null, decidedAt: null, reason: null },
  ],
  approvals: { approved: 1, total: 2 },
  rejectReason: null,
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

describe('reviewMessage', () => {
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
    expect(values).toEqual([{ reviewId: base.id, group: 'security' }, { reviewId: base.id, group: 'security' }]);
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

describe('codeBlock', () => {
  it('keeps backtick fences in the text from closing the block', () => {
    expect(codeBlock('a ``` b', () => '')).toBe('```a `\u200b`\u200b` b```');
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
