// The impact preview as every surface shows it (issue 14): the same words; zero and large counts
// flagged; values from the database (table names, sample rows) made inert in Slack, Teams and the
// terminal; and a restricted connection's sample rows kept out of places others read, as its result is.
import { describe, expect, it } from 'vitest';
import { previewBlocks, reviewMessage } from '../../src/bot/review-blocks.js';
import { highlightOf, previewLines, sampleWords, statementWords, type ImpactPreview } from '../../src/contracts/impact-preview.js';
import { sharedView, withoutSamples } from '../../src/contracts/review-view.js';
import { describeReview, printable } from '../../src/cli/output.js';
import { teamsCard } from '../../src/notify/teams/teams-card.js';
import { boundBreach, rowBoundOf, withTolerance } from '../../src/core/row-bound.js';
import { checkMessage } from '../fakes/slack-block-rules.js';
import { sampleReviewView } from '../helpers/review-view-sample.js';

const measured = (rows: number, over: Partial<ImpactPreview> = {}): ImpactPreview => ({
  state: 'measured',
  reason: null,
  error: null,
  at: '2026-12-01T00:00:00.000Z',
  tookMs: 12,
  statements: [{ index: 0, command: 'UPDATE', table: 'users', rows, estimate: false, sample: { columns: ['id', 'status'], rows: [['2', 'off']] } }],
  ...over,
});

describe('the words', () => {
  it('says what each statement would do, an estimate as one', () => {
    expect(statementWords({ index: 0, command: 'UPDATE', table: 'users', rows: 1, estimate: false })).toBe('would update 1 row in users');
    expect(statementWords({ index: 0, command: 'DELETE', table: 'events', rows: 48_000, estimate: true })).toBe('would delete ≈ 48,000 rows from events (estimate)');
    expect(statementWords({ index: 0, command: 'INSERT', table: 'archive', rows: 2, estimate: false })).toBe('would insert 2 rows into archive');
    expect(statementWords({ index: 0, command: 'MERGE', table: null, rows: 3, estimate: false })).toBe('would change 3 rows');
    expect(sampleWords({ command: 'DELETE' })).toBe('the rows it would delete');
    expect(sampleWords({ command: 'UPDATE' })).toBe('the rows as it would leave them');
  });

  it('flags zero and large counts, and says why there is none', () => {
    expect(highlightOf({ index: 0, command: 'DELETE', table: 't', rows: 0, estimate: false })).toBe('zero');
    expect(highlightOf({ index: 0, command: 'DELETE', table: 't', rows: 999, estimate: false })).toBeNull();
    expect(highlightOf({ index: 0, command: 'DELETE', table: 't', rows: 1000, estimate: true })).toBe('large');
    expect(previewLines({ state: 'pending', reason: null, error: null, statements: [], at: null, tookMs: null })).toEqual(['Impact preview: measuring…']);
    expect(previewLines({ state: 'none', reason: 'statement 1 is ALTER TABLE, which a dry run does not measure', error: null, statements: [], at: null, tookMs: 0 })).toEqual(['No impact preview: statement 1 is ALTER TABLE, which a dry run does not measure']);
    expect(previewLines(null)).toEqual([]);
  });
});

describe('values from the database, made inert', () => {
  const hostile = measured(0, {
    statements: [{ index: 0, command: 'DELETE', table: '<!channel> *x* <https://evil.example|y> [click](https://evil.example)', rows: 0, estimate: false, sample: { columns: ['note'], rows: [['<!here> ``` `x` <@U123>']] } }],
  });
  const view = sampleReviewView({ preview: hostile });

  it('in Slack: no mention, link or formatting survives, and the message passes Block Kit rules', () => {
    const text = JSON.stringify(previewBlocks(view, { command: 2600, reason: 1000, analysis: 1500, groupReason: 300, footer: 500, userAgent: 300 }));
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<!here>');
    expect(text).not.toContain('<https://evil.example');
    expect(text).not.toContain('<@U123>');
    expect(text).toContain(':warning: would delete 0 rows from');
    expect(checkMessage(reviewMessage(view) as never)).toBeNull();
  });

  it('in Teams: no link or markdown survives', () => {
    const card = JSON.stringify(teamsCard('review.previewed', view, { publicUrl: 'https://hoop.example.com' }));
    expect(card).not.toContain('[click](https://evil.example)');
    expect(card).toContain('Impact preview');
  });

  it('in the terminal: control characters are spelled out', () => {
    const v = sampleReviewView({ preview: measured(1, { statements: [{ index: 0, command: 'UPDATE', table: 'users\u001b[2K', rows: 1, estimate: false, sample: { columns: ['s'], rows: [['ok\rEVIL']] } }] }) });
    // As `hoop get review` prints it.
    const out = printable(describeReview(v));
    expect(out).toContain('users\\x1b[2K');
    expect(out).not.toContain('\u001b');
    expect(out).not.toContain('\r');
  });
});

describe('a connection restricted to some groups', () => {
  const view = sampleReviewView({ preview: measured(1) });

  it('keeps the sample rows out of shared places (webhooks, Slack channels, Teams), the counts in', () => {
    const shared = sharedView(view, { allowedGroups: ['payroll'] });
    expect(shared.preview?.statements[0]).toEqual({ index: 0, command: 'UPDATE', table: 'users', rows: 1, estimate: false });
    expect(sharedView(view, { allowedGroups: [] }).preview?.statements[0].sample).toBeDefined();
    // The database's words of a failed dry run may quote data: left out too.
    const failed = sampleReviewView({ preview: { state: 'none', reason: 'a dry run of statement 1 failed', error: 'invalid input syntax for type integer: "4111111111111111"', statements: [], at: null, tookMs: 3 } });
    expect(sharedView(failed, { allowedGroups: ['payroll'] }).preview).toMatchObject({ reason: 'a dry run of statement 1 failed', error: null });
    expect(JSON.stringify(reviewMessage(withoutSamples(failed)))).not.toContain('4111111111111111');
    expect(JSON.stringify(reviewMessage(view))).toContain('A few of the rows as it would leave them');
    expect(JSON.stringify(reviewMessage(withoutSamples(view)))).not.toContain('A few of the rows');
    const card = JSON.stringify(teamsCard('review.previewed', view, { publicUrl: 'https://hoop.example.com', withholdOutput: true }));
    expect(card).toContain('would update 1 row in users');
    expect(card).not.toContain('Sample');
    expect(JSON.stringify(teamsCard('review.previewed', view, { publicUrl: 'https://hoop.example.com' }))).toContain('A few of the rows as it would leave them');
  });
});

describe('the row bound', () => {
  const sha = 'a'.repeat(64);
  it('binds the counted statements with the tolerance, and the smallest limit', () => {
    const bound = rowBoundOf({ inputSha256: sha, preview: measured(10), tolerancePct: 10, limits: [null, 50, 20] });
    expect(bound).toEqual({ inputSha256: sha, maxRows: 20, statements: [{ index: 0, command: 'UPDATE', measured: 10, max: 11 }], total: { measured: 10, max: 11 }, tolerancePct: 10 });
    expect(withTolerance(3, 50)).toBe(4);
    expect(withTolerance(0, 1000)).toBe(0);
  });

  it('ignores estimates: only a dry run binds', () => {
    const estimated = { state: 'estimated', statements: [{ index: 0, command: 'DELETE', rows: 48_000, estimate: true }] };
    expect(rowBoundOf({ inputSha256: sha, preview: estimated, tolerancePct: 0, limits: [] }).statements).toEqual([]);
  });

  it('names the statement over its count, the rows changed in all tables over the dry run\'s, and the total over the limit', () => {
    const bound = rowBoundOf({ inputSha256: sha, preview: measured(2), tolerancePct: 0, limits: [5] });
    expect(boundBreach(bound, [2], 2)).toBeNull();
    expect(boundBreach(bound, [3])).toBe('statement 1 (UPDATE) affected 3 rows, approved for 2 rows as the dry run counted them; rolled back, nothing was changed');
    // A cascade the tags do not show: the target's count of every table's rows tells.
    expect(boundBreach(bound, [2], 1002)).toBe('the command affected 1,002 rows in all tables, approved for 2 rows as the dry run counted them; rolled back, nothing was changed');
    const cascaded = rowBoundOf({ inputSha256: sha, preview: measured(1, { statements: [{ index: 0, command: 'DELETE', table: 'customers', rows: 1, estimate: false, alsoChanged: 1000 }] }), tolerancePct: 0, limits: [] });
    expect(cascaded.total).toEqual({ measured: 1001, max: 1001 });
    expect(boundBreach(cascaded, [1], 1001)).toBeNull();
    const limited = rowBoundOf({ inputSha256: sha, preview: null, tolerancePct: 0, limits: [5] });
    expect(boundBreach(limited, [2, 3], 5)).toBeNull();
    expect(boundBreach(limited, [2, 4])).toBe('the command affected 6 rows, approved for at most 5 rows; rolled back, nothing was changed');
    expect(boundBreach(limited, [null], 9)).toBe('the command affected 9 rows, approved for at most 5 rows; rolled back, nothing was changed');
    expect(boundBreach(rowBoundOf({ inputSha256: sha, preview: null, tolerancePct: 0, limits: [0] }), [null, 1])).toBe('the command affected 1 row, approved for at most 0 rows; rolled back, nothing was changed');
  });
});
