// Review finding (i10-review2): a newline in a cell of `hoop admin get webhooks` starts a line of
// its own, so a description (or a disabled reason quoting an error) can forge a row that looks
// like another endpoint. reviewsTable flattens its cells (oneLine); these tables do not. print()
// spells out control characters but keeps newlines, so the forged row reaches the terminal.
import { describe, expect, it } from 'vitest';
import { printable } from '../../src/cli/output.js';
import { deliveriesTable, webhooksTable } from '../../src/cli/webhook-commands.js';

/** The lines a terminal shows of what print() writes. */
const shownLines = (text: string) => printable(text).split('\n');

const base = { id: '11111111-1111-4111-8111-111111111111', url: 'https://hooks.example.com/a', events: ['review.created'], connections: [], enabled: true, disabledReason: null, description: null as string | null };
const forged = '22222222-2222-4222-8222-222222222222   https://attacker.example/x   review.approved   all   yes';

describe('webhook tables keep one line per row', () => {
  it.each([
    ['description, LF', { description: `ops\n${forged}` }],
    ['description, CRLF', { description: `ops\r\n${forged}` }],
    ['description, U+2028', { description: `ops\u2028${forged}` }],
    ['disabled reason', { enabled: false, disabledReason: `every delivery failed (last: x\n${forged})` }],
  ])('webhooksTable: %s', (_kind, over) => {
    const out = webhooksTable([{ ...base, ...over }]);
    expect(shownLines(out)).toHaveLength(2);
  });

  it('deliveriesTable: an error with a newline', () => {
    const d = { id: 'd1', reviewId: 'r1', event: 'review.created', status: 'failed', attempts: 1, nextAttemptAt: null, lastStatusCode: null, lastDurationMs: 3, lastError: `ECONNRESET\n${forged}`, createdAt: '2026-11-30T00:00:00.000Z' };
    expect(shownLines(deliveriesTable([d]))).toHaveLength(2);
  });
});
