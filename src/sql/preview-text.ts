// A preview's sample rows as text every surface can show in monospace: psql's aligned table.
import type { PreviewStatement } from '../contracts/impact-preview.js';
import { formatStatement } from './psql-format.js';

/** The sample of `s` as psql prints rows ("(5 rows)" counts the sample, not the statement's rows); null without one. */
export function sampleText(s: PreviewStatement): string | null {
  if (!s.sample?.rows.length) return null;
  return formatStatement({ tag: 'SELECT', columns: s.sample.columns.map((name) => ({ name, numeric: false })), rows: s.sample.rows, totalRows: s.sample.rows.length });
}
