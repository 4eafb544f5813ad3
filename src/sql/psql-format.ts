// Renders results the way psql's default aligned format does, so people read what they know.

export interface StatementResult {
  /** The command tag PostgreSQL sent, e.g. `UPDATE 1`, `SELECT 3`, `CREATE TABLE`. */
  tag: string;
  /** Present when the statement returned rows (SELECT, RETURNING, SHOW...). */
  columns?: { name: string; numeric: boolean }[];
  rows?: (string | null)[][];
  /** Rows the statement returned, when more than `rows` were kept. */
  totalRows?: number;
  /** Lines the gateway adds under the table (e.g. why every value is masked). */
  notes?: string[];
}

/** Display width of a string (code points; wide characters counted as one). */
function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, align: 'left' | 'right' | 'center'): string {
  const gap = w - width(s);
  if (gap <= 0) return s;
  if (align === 'right') return ' '.repeat(gap) + s;
  if (align === 'center') {
    const left = Math.floor(gap / 2);
    return ' '.repeat(left) + s + ' '.repeat(gap - left);
  }
  return s + ' '.repeat(gap);
}

/** One result as psql prints it: an aligned table with `(N rows)`, or the command tag alone. */
export function formatStatement(result: StatementResult): string {
  if (!result.columns) return result.tag;
  const columns = result.columns;
  const rows = (result.rows ?? []).map((r) => r.map((v) => (v === null ? '' : v.replace(/\r?\n/g, '\\n'))));
  const widths = columns.map((c, i) => Math.max(width(c.name), ...rows.map((r) => width(r[i] ?? ''))));
  const lines: string[] = [];
  lines.push(' ' + columns.map((c, i) => pad(c.name, widths[i], 'center')).join(' | ').trimEnd());
  lines.push(widths.map((w) => '-'.repeat(w + 2)).join('+'));
  for (const row of rows) {
    const cells = columns.map((c, i) => pad(row[i] ?? '', widths[i], c.numeric ? 'right' : 'left'));
    lines.push((' ' + cells.join(' | ')).trimEnd());
  }
  const n = result.totalRows ?? rows.length;
  lines.push(n > rows.length ? `(${n} rows, the first ${rows.length} shown)` : `(${n} ${n === 1 ? 'row' : 'rows'})`);
  for (const note of result.notes ?? []) lines.push(`(${note})`);
  // psql prints a writing statement's tag after its RETURNING rows.
  if (/^(INSERT|UPDATE|DELETE|MERGE)\b/.test(result.tag)) lines.push('', result.tag);
  return lines.join('\n');
}

/** Several results, separated by blank lines as psql separates them. */
export function formatResults(results: readonly StatementResult[]): string {
  return results.map((r) => formatStatement(r)).join('\n\n');
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes on a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= maxBytes) return { text, truncated: false };
  let end = maxBytes;
  // Step back over UTF-8 continuation bytes so no character is split.
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return { text: buf.subarray(0, end).toString('utf8'), truncated: true };
}
