// What a write request would do, measured before anyone is asked to approve it (issue 14): the
// rows each statement would affect — counted by a dry run in a transaction that is always rolled
// back, or estimated by the planner where a dry run is not safe — with a small, masked sample of
// the affected rows. Every surface (API, CLI, Slack, Teams, web) says it in the words below.

/** One statement's measured or estimated effect. */
export interface PreviewStatement {
  /** The statement's position in the input (0-based, as the classification's). */
  index: number;
  /** INSERT, UPDATE, DELETE, MERGE. */
  command: string;
  /** The table it writes ("public.users" shown as "users"), when known. */
  table: string | null;
  /** Rows it would affect; null when neither counted nor estimated. */
  rows: number | null;
  /** True when `rows` is the planner's estimate, not a count. */
  estimate: boolean;
  /** A few of the affected rows (deleted rows as they were; others as the statement would leave them), masked as any output. */
  sample?: { columns: string[]; rows: (string | null)[][] };
}

/**
 * `pending`: not measured yet (a job measures it). `measured`: every statement was counted by a dry
 * run. `estimated`: the planner's estimate, with `reason` saying why there was no dry run. `none`:
 * no figure at all, `reason` says why (DDL, a lock not obtained in time, previews off...).
 */
export type PreviewState = 'pending' | 'measured' | 'estimated' | 'none';

export interface ImpactPreview {
  state: PreviewState;
  /** Why there is no dry run (estimated) or no figure (none). */
  reason: string | null;
  statements: PreviewStatement[];
  /** When it was measured, and how long it took. */
  at: string | null;
  tookMs: number | null;
}

/** A count at or over this is highlighted as large (a count of zero always is). */
export const LARGE_PREVIEW_ROWS = 1000;

const VERBS: Record<string, [string, string]> = {
  INSERT: ['insert', 'into'],
  UPDATE: ['update', 'in'],
  DELETE: ['delete', 'from'],
  MERGE: ['change', 'in'],
};

/** "1 row", "48,000 rows", "≈ 48,000 rows". */
export function rowWords(rows: number, estimate: boolean): string {
  return `${estimate ? '≈ ' : ''}${rows.toLocaleString('en-US')} row${rows === 1 ? '' : 's'}`;
}

/** "would update 1 row in users", "would delete ≈ 48,000 rows from events (estimate)". */
export function statementWords(s: PreviewStatement): string {
  const [verb, prep] = VERBS[s.command] ?? ['affect', 'in'];
  const where = s.table ? ` ${prep} ${s.table}` : '';
  if (s.rows === null) return `${s.command}${where}: no figure`;
  return `would ${verb} ${rowWords(s.rows, s.estimate)}${where}${s.estimate ? ' (estimate)' : ''}`;
}

/** What a statement's sample shows: "the rows it would delete", "the rows as it would leave them". */
export function sampleWords(s: Pick<PreviewStatement, 'command'>): string {
  if (s.command === 'DELETE') return 'the rows it would delete';
  if (s.command === 'INSERT') return 'the rows it would insert';
  return 'the rows as it would leave them';
}

/** Why a statement's figure deserves a second look: nothing matched, or very many rows. */
export function highlightOf(s: PreviewStatement, large = LARGE_PREVIEW_ROWS): 'zero' | 'large' | null {
  if (s.rows === null) return null;
  if (s.rows === 0) return 'zero';
  return s.rows >= large ? 'large' : null;
}

/** The lines every surface shows for a preview (no sample); empty for none at all. */
export function previewLines(p: ImpactPreview | null): string[] {
  if (!p) return [];
  if (p.state === 'pending') return ['Impact preview: measuring…'];
  const lines = p.statements.map((s) => {
    const h = highlightOf(s);
    const flag = h === 'zero' ? ' — matches nothing' : h === 'large' ? ' — many rows' : '';
    return `${p.statements.length > 1 ? `${s.index + 1}. ` : ''}${statementWords(s)}${flag}`;
  });
  if (p.state === 'none') return [`No impact preview: ${p.reason ?? 'not measured'}`];
  if (p.state === 'estimated' && p.reason) lines.push(`Estimated by the planner, not counted: ${p.reason}`);
  return lines;
}

/** Parses what is stored in Review.preview (JSON) back into a preview; null for anything else. */
export function previewFromJson(value: unknown): ImpactPreview | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Partial<ImpactPreview>;
  if (!['pending', 'measured', 'estimated', 'none'].includes(String(v.state)) || !Array.isArray(v.statements)) return null;
  return { state: v.state as PreviewState, reason: v.reason ?? null, statements: v.statements, at: v.at ?? null, tookMs: v.tookMs ?? null };
}
