// CSV as RFC 4180 has it, for the exports: a header row, CRLF line ends, and a field quoted when it
// holds a comma, a quote, CR or LF (quotes doubled). Spreadsheets run a cell that starts with
// =, +, -, @, a tab or CR as a formula ("CSV injection", OWASP): such a field gets a leading
// apostrophe, so a command like `=HYPERLINK(...)` or `-1+1` shows as text. A reader that wants the
// exact value strips one leading apostrophe from a field whose next character is one of those.

const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA_START = /^[=+\-@\t\r]/;

/** One field: null and undefined are empty; anything else is text, defused and quoted as needed. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  // Only text is defused: a number (rows affected) is never a formula, and -1 must stay -1.
  let text = typeof value === 'string' ? value : value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, CRLF-terminated. */
export function csvRow(values: readonly unknown[]): string {
  return values.map(csvField).join(',') + '\r\n';
}
