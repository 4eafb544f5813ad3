// What column lineage (PostgreSQL and MySQL alike) tracks: how much of a masked value a column or
// a read may carry, and the small operations on it.

/** How many views deep lineage follows a view's definition (deeper is untraceable); MySQL's catalog looks up as deep. */
export const MAX_VIEW_DEPTH = 8;

// Aggregates whose result reveals only how many rows there were.
export const COUNTING: ReadonlySet<string> = new Set(['count']);

/** 0 clean, 1 derived from a masked column, 2 cannot be traced (treated as masked). */
export type Taint = 0 | 1 | 2;

export interface Col {
  name: string;
  taint: Taint;
}

/** Output columns; `mappable` is false when they cannot be matched to the result's one by one. */
export interface Output {
  cols: Col[];
  mappable: boolean;
}

/** The strongest taint a statement reads (for its error and notice texts). */
export type Reads = { taint: Taint };

export const max = (...ts: Taint[]): Taint => ts.reduce<Taint>((a, b) => (b > a ? b : a), 0);
/** Adds `t` to what a statement reads (after `t` is computed, which may itself add to `reads`). */
export const raise = (reads: Reads, t: Taint): void => {
  if (t > reads.taint) reads.taint = t;
};
export const top = (o: Output): Taint => max(...o.cols.map((c) => c.taint));
/** A whole row of a relation: every column it has (hidden ones too), or `any` when they are unknown. */
export const rowTaint = (e: { cols: Col[] | null; hidden?: Col[]; any: Taint }): Taint => (e.cols ? max(e.any, ...e.cols.map((c) => c.taint), ...(e.hidden ?? []).map((c) => c.taint)) : e.any);
