// The exports' query parameters as query-params.ts checks them: a repeatable parameter (the audit
// export's `action`) reads as its comma list; any other repeated one is still refused.
import { describe, expect, it } from 'vitest';
import { parseQuery, type QuerySpec } from '../../src/gateway/query-params.js';

const spec: QuerySpec = {
  action: { type: 'string', maxLength: 200, pattern: /^[a-z.]+(,[a-z.]+)*$/, repeatable: true, hint: 'action names' },
  format: { type: 'enum', values: ['jsonl', 'csv'] },
};

describe('a repeatable query parameter', () => {
  it('joins its repetitions into one comma list', () => {
    expect(parseQuery('GET /x', { action: ['review.created', 'review.rejected'] }, spec)).toEqual({ action: 'review.created,review.rejected' });
  });

  it('still checks every repetition against its pattern', () => {
    expect(() => parseQuery('GET /x', { action: ['review.created', 'DROP TABLE'] }, spec)).toThrow(/is not a valid value of the query parameter "action"/);
  });

  it('leaves the others given once', () => {
    expect(() => parseQuery('GET /x', { format: ['csv', 'jsonl'] }, spec)).toThrow('was given 2 times; give it once');
  });
});

describe('the size of an export batch', () => {
  it('stays at its most while rows are small, and shrinks to keep a batch of large rows near 8 MB', async () => {
    const { nextBatch } = await import('../../src/db/export-reads.js');
    expect(nextBatch(1000, 1000, 1000 * 300)).toBe(1000);
    expect(nextBatch(1000, 1000, 1000 * 1024 * 1024)).toBe(8);
    expect(nextBatch(1000, 8, 8 * 10 * 1024 * 1024)).toBe(5);
    expect(nextBatch(1000, 5, 0)).toBe(1000);
  });
});
