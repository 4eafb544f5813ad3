import { describe, expect, it } from 'vitest';
import { formatResults, formatStatement, truncateUtf8 } from '../../src/sql/psql-format.js';

describe('formatStatement', () => {
  it('prints a command tag alone for a statement without rows', () => {
    expect(formatStatement({ tag: 'UPDATE 1' })).toBe('UPDATE 1');
  });

  it('prints an aligned table as psql does: centred headers, numbers right, text left, row count', () => {
    const out = formatStatement({
      tag: 'SELECT 2',
      columns: [{ name: 'id', numeric: true }, { name: 'email', numeric: false }],
      rows: [['1', 'ann@example.com'], ['22', null]],
    });
    expect(out).toBe([' id |      email', '----+-----------------', '  1 | ann@example.com', ' 22 |', '(2 rows)'].join('\n'));
  });

  it('says (1 row) and (0 rows)', () => {
    expect(formatStatement({ tag: 'SELECT 1', columns: [{ name: 'x', numeric: true }], rows: [['1']] }).endsWith('(1 row)')).toBe(true);
    expect(formatStatement({ tag: 'SELECT 0', columns: [{ name: 'x', numeric: true }], rows: [] })).toBe(' x\n---\n(0 rows)');
  });

  it('says how many rows there were when only the first ones were kept', () => {
    expect(formatStatement({ tag: 'SELECT 9', columns: [{ name: 'x', numeric: true }], rows: [['1']], totalRows: 9 })).toBe(' x\n---\n 1\n(9 rows, the first 1 shown)');
  });

  it('prints the tag of a write after its RETURNING rows, as psql does', () => {
    expect(formatStatement({ tag: 'UPDATE 1', columns: [{ name: 'id', numeric: true }], rows: [['7']] })).toBe(' id\n----\n  7\n(1 row)\n\nUPDATE 1');
  });

  it('separates several results with a blank line', () => {
    expect(formatResults([{ tag: 'BEGIN' }, { tag: 'COMMIT' }])).toBe('BEGIN\n\nCOMMIT');
  });
});

describe('truncateUtf8', () => {
  it('keeps short text whole and flags nothing', () => {
    expect(truncateUtf8('abc', 10)).toEqual({ text: 'abc', truncated: false });
  });

  it('cuts on a character boundary and flags the cut', () => {
    const r = truncateUtf8('ééé', 3); // 2 bytes each
    expect(r).toEqual({ text: 'é', truncated: true });
  });
});

describe('formatResults with a limit', () => {
  it('stops building text soon after the limit, however wide and many the rows', () => {
    const wide = '9'.repeat(100_000);
    const rows = Array.from({ length: 10_000 }, (_, i) => [i === 0 ? wide : '0', i === 0 ? wide : '0']);
    const text = formatResults([{ tag: 'SELECT 10000', columns: [{ name: 'a', numeric: true }, { name: 'b', numeric: true }], rows }], 1000);
    expect(text.length).toBeLessThanOrEqual(1001);
    expect(text.startsWith('     ')).toBe(true);
  });

  it('renders what fits exactly as without a limit', () => {
    const result = { tag: 'SELECT 2', columns: [{ name: 'x', numeric: false }], rows: [['a'], ['b']] };
    expect(formatResults([result], 10_000)).toBe(formatResults([result]));
  });
});
