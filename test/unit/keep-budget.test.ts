import { describe, expect, it } from 'vitest';
import { keepBudget, keepRow } from '../../src/execution/keep-budget.js';

describe('keepRow', () => {
  it('keeps rows up to maxRows, cuts values to the output cap, and stops when the characters run out', () => {
    const budget = keepBudget({ maxRows: 3, outputMaxBytes: 10 });
    const kept: unknown[][] = [];
    keepRow(kept, ['a'.repeat(50), 'b'], budget);
    expect(kept).toEqual([['a'.repeat(10), 'b']]);
    keepRow(kept, ['c'.repeat(9)], budget);
    expect(budget.chars).toBeLessThanOrEqual(0);
    keepRow(kept, ['d'], budget); // no characters left
    expect(kept).toHaveLength(2);
    const few = keepBudget({ maxRows: 2, outputMaxBytes: 1000 });
    const rows: unknown[][] = [];
    for (let i = 0; i < 5; i++) keepRow(rows, [String(i)], few);
    expect(rows).toEqual([['0'], ['1']]);
  });
});
