// What a run keeps of its results while it reads them: a bounded number of rows per result and of
// characters across all of them, so a few huge values (or very many rows) cost time, not memory.
import type { RunOptions } from './types.js';

/** What a run may keep of its results: rows, and characters across all of them. */
export interface KeepBudget {
  rows: number;
  /** Characters left to keep; a row is kept only while some are left. */
  chars: number;
  /** The longest value kept; longer ones are cut (the output could never show more). */
  cellChars: number;
}

/** Keeps `row` when the budget allows (cutting long values), counting what it keeps. */
export function keepRow(kept: unknown[][], row: unknown[], budget: KeepBudget): void {
  if (kept.length >= budget.rows || budget.chars <= 0) return;
  const cells = row.map((v) => (typeof v === 'string' && v.length > budget.cellChars ? v.slice(0, budget.cellChars) : v));
  for (const v of cells) budget.chars -= typeof v === 'string' ? v.length : 8;
  kept.push(cells);
}

/** A run keeps at most maxRows rows per result and about twice the output cap in characters. */
export function keepBudget(options: Pick<RunOptions, 'maxRows' | 'outputMaxBytes'>): KeepBudget {
  return { rows: options.maxRows ?? 10_000, chars: options.outputMaxBytes * 2, cellChars: options.outputMaxBytes };
}

