// The body of an export: batches of rows turned into JSONL or CSV text, handed out as the
// response asks for it (an async generator: the next batch is read only after the last chunk was
// taken, so the socket's backpressure reaches the database reads). Rows are gathered into chunks of
// about 64 KiB: one write per row was thousands of tiny writes.
import { csvRow } from './csv.js';
import type { ExportColumn } from './export-columns.js';

export type ExportFormat = 'jsonl' | 'csv';

export const CONTENT_TYPES: Record<ExportFormat, string> = { jsonl: 'application/x-ndjson', csv: 'text/csv; charset=utf-8' };

const CHUNK_CHARS = 64 * 1024;

/** How an export went: rows handed to the response, and whether it reached the end. */
export interface ExportProgress {
  rows: number;
}

function line<R>(row: R, columns: readonly ExportColumn<R>[], format: ExportFormat): string {
  if (format === 'csv') return csvRow(columns.map((c) => (c.csv ?? c.json)(row)));
  const record: Record<string, unknown> = {};
  for (const c of columns) record[c.name] = c.json(row);
  return JSON.stringify(record) + '\n';
}

/** The text of an export of `batches`, chunk by chunk; counts the rows handed out in `progress`. */
export async function* exportText<R>(batches: AsyncIterable<R[]>, columns: readonly ExportColumn<R>[], format: ExportFormat, progress: ExportProgress): AsyncGenerator<string> {
  let chunk = format === 'csv' ? csvRow(columns.map((c) => c.name)) : '';
  let pending = 0;
  for await (const rows of batches) {
    for (const row of rows) {
      chunk += line(row, columns, format);
      pending++;
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk;
        progress.rows += pending;
        chunk = '';
        pending = 0;
      }
    }
  }
  if (chunk) yield chunk;
  progress.rows += pending;
}
