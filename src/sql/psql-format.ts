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

const SURROGATE = /[\uD800-\uDFFF]/;

/** Display width of a string (code points; wide characters counted as one). */
function width(s: string): number {
  // Without surrogates every UTF-16 unit is a code point: no array per cell (the widths of a
  // 1,000-row result were most of the gateway's own time on it).
  if (!SURROGATE.test(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
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

/**
 * A writer that stops taking text once it holds more than `limit` characters (a character is at
 * least one UTF-8 byte, so the caller's byte cut always has enough): a 10,000-row table of
 * 100 kB-wide cells is never built in memory only to be cut.
 */
class BoundedText {
  private readonly parts: string[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  get full(): boolean {
    return this.size > this.limit;
  }

  push(text: string): void {
    if (this.full) return;
    const room = this.limit + 1 - this.size;
    const part = text.length > room ? text.slice(0, room) : text;
    this.parts.push(part);
    this.size += part.length;
  }

  toString(): string {
    return this.parts.join('');
  }
}

/** The cells of a line, each padded to its column, written until the writer is full. */
function writeLine(out: BoundedText, cells: string[], widths: number[], align: (i: number) => 'left' | 'right' | 'center'): void {
  let line = '';
  for (let i = 0; i < cells.length && line.length <= LINE_LIMIT; i++) line += (i ? ' | ' : ' ') + pad(cells[i], widths[i], align(i));
  out.push(line.trimEnd() + '\n');
}

// No line is built longer than this, however wide its cells (the output cut is far below it anyway).
const LINE_LIMIT = 1 << 20;

function writeStatement(out: BoundedText, result: StatementResult): void {
  if (!result.columns) return out.push(result.tag);
  const columns = result.columns;
  const rows = (result.rows ?? []).map((r) => r.map((v) => (v === null ? '' : v.replace(/\r?\n/g, '\\n'))));
  const widths = columns.map((c, i) => Math.min(LINE_LIMIT, rows.reduce((w, r) => Math.max(w, width(r[i] ?? '')), width(c.name))));
  writeLine(out, columns.map((c) => c.name), widths, () => 'center');
  out.push(widths.map((w) => '-'.repeat(w + 2)).join('+') + '\n');
  for (const row of rows) {
    if (out.full) break;
    writeLine(out, columns.map((_, i) => row[i] ?? ''), widths, (i) => (columns[i].numeric ? 'right' : 'left'));
  }
  const n = result.totalRows ?? rows.length;
  out.push(n > rows.length ? `(${n} rows, the first ${rows.length} shown)` : `(${n} ${n === 1 ? 'row' : 'rows'})`);
  for (const note of result.notes ?? []) out.push(`\n(${note})`);
  // psql prints a writing statement's tag after its RETURNING rows.
  if (/^(INSERT|UPDATE|DELETE|MERGE)\b/.test(result.tag)) out.push(`\n\n${result.tag}`);
}

/** One result as psql prints it: an aligned table with `(N rows)`, or the command tag alone. */
export function formatStatement(result: StatementResult): string {
  const out = new BoundedText(Number.MAX_SAFE_INTEGER);
  writeStatement(out, result);
  return out.toString();
}

/** Several results, separated by blank lines as psql separates them; at most about `maxChars` characters. */
export function formatResults(results: readonly StatementResult[], maxChars = Number.MAX_SAFE_INTEGER): string {
  const out = new BoundedText(maxChars);
  results.forEach((r, i) => {
    if (i) out.push('\n\n');
    writeStatement(out, r);
  });
  return out.toString();
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
