// Bounded execution (issue 14): an approval binds to exactly what was approved — the input's sha256
// and, when a dry run counted them before the last approval, the rows each statement would change
// (plus the connection's tolerance) — and to any row limit a reviewer set ("approve, at most 10
// rows"). The run is held to it: a statement that changes more rows is rolled back with the rest.
// Pure: imports nothing of ours but types.

/** What an approved run is held to (stored as Review.rowBound at the last approval). */
export interface RowBound {
  /** sha256 (hex) of the input the reviewers approved. */
  inputSha256: string;
  /** The smallest row limit a reviewer set, over all statements together; null: none set. */
  maxRows: number | null;
  /** Per statement the dry run counted: the count, and the most it may change with the tolerance. */
  statements: { index: number; command: string; measured: number; max: number }[];
  /**
   * What the dry run changed in every table together (cascades included), and the most the run may
   * change in all with the tolerance; null when there was no dry run.
   */
  total: { measured: number; max: number } | null;
  /** The connection's tolerance when the bound was set, in percent. */
  tolerancePct: number;
}

/** The measured statements of a preview, as the bound needs them (the contract's shape, narrowed). */
interface MeasuredPreview {
  state: string;
  statements: readonly { index: number; command: string; rows: number | null; estimate: boolean; alsoChanged?: number }[];
}

/** The most rows `measured` may become with `tolerancePct` percent more (0 % allows exactly the count). */
export function withTolerance(measured: number, tolerancePct: number): number {
  return Math.floor((measured * (100 + tolerancePct)) / 100);
}

/** The bound of a run at its last approval: the preview when it was counted by a dry run, and the reviewers' limits. */
export function rowBoundOf(args: { inputSha256: string; preview: MeasuredPreview | null; tolerancePct: number; limits: readonly (number | null)[] }): RowBound {
  const counted = args.preview?.state === 'measured' ? args.preview.statements.filter((s) => s.rows !== null && !s.estimate) : [];
  const limits = args.limits.filter((n): n is number => n !== null);
  const measured = counted.reduce((sum, s) => sum + s.rows! + (s.alsoChanged ?? 0), 0);
  return {
    inputSha256: args.inputSha256,
    maxRows: limits.length ? Math.min(...limits) : null,
    statements: counted.map((s) => ({ index: s.index, command: s.command, measured: s.rows!, max: withTolerance(s.rows!, args.tolerancePct) })),
    total: counted.length ? { measured, max: withTolerance(measured, args.tolerancePct) } : null,
    tolerancePct: args.tolerancePct,
  };
}

/** True when the bound limits rows at all (not only the input's digest). */
export function limitsRows(bound: RowBound | null | undefined): bound is RowBound {
  return !!bound && (bound.maxRows !== null || bound.statements.length > 0);
}

const rows = (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'row' : 'rows'}`;

/**
 * What broke the bound, in the words the request's error shows ("affected N rows, approved for M;
 * rolled back"), or null. `counts[i]`: the rows statement i changed by its command tag (null: it
 * changes none); `changed`: the rows the run changed in every table together (cascades, triggers,
 * functions included), as the target counted them, when it could tell.
 */
export function boundBreach(bound: RowBound, counts: readonly (number | null)[], changed?: number): string | null {
  for (const s of bound.statements) {
    const n = counts[s.index];
    if (n !== null && n !== undefined && n > s.max) {
      const tolerance = bound.tolerancePct ? ` (at most ${rows(s.max)} with the connection's ${bound.tolerancePct} % tolerance)` : '';
      return `statement ${s.index + 1} (${s.command}) affected ${rows(n)}, approved for ${rows(s.measured)} as the dry run counted them${tolerance}; rolled back, nothing was changed`;
    }
  }
  const tagged = counts.reduce<number>((sum, n) => sum + (n ?? 0), 0);
  const total = Math.max(tagged, changed ?? 0);
  if (bound.total && total > bound.total.max) {
    const tolerance = bound.tolerancePct ? ` (at most ${rows(bound.total.max)} with the connection's ${bound.tolerancePct} % tolerance)` : '';
    return `the command affected ${rows(total)} in all tables, approved for ${rows(bound.total.measured)} as the dry run counted them${tolerance}; rolled back, nothing was changed`;
  }
  if (bound.maxRows !== null && total > bound.maxRows) return `the command affected ${rows(total)}, approved for at most ${rows(bound.maxRows)}; rolled back, nothing was changed`;
  return null;
}

/** Parses Review.rowBound (JSON) back; null for anything else. */
export function rowBoundFromJson(value: unknown): RowBound | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Partial<RowBound>;
  if (typeof v.inputSha256 !== 'string' || !Array.isArray(v.statements)) return null;
  return { inputSha256: v.inputSha256, maxRows: typeof v.maxRows === 'number' ? v.maxRows : null, statements: v.statements, total: v.total ?? null, tolerancePct: typeof v.tolerancePct === 'number' ? v.tolerancePct : 0 };
}
