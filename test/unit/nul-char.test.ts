// Finding U+0000, which PostgreSQL text cannot store, anywhere in a parsed body, query or path.
import { describe, expect, it } from 'vitest';
import { firstNulPath } from '../../src/core/nul-char.js';

describe('firstNulPath', () => {
  it('names the field, the index and the nested key that carry one', () => {
    expect(firstNulPath({ input: 'SELECT 1', reason: 'a\u0000b' })).toBe('reason');
    expect(firstNulPath({ groups: ['ok', 'bad\u0000'] })).toBe('groups[1]');
    expect(firstNulPath({ a: { b: [{ c: '\u0000' }] } })).toBe('a.b[0].c');
    expect(firstNulPath({ ['k\u0000']: 1 })).toBe('k\u0000');
    expect(firstNulPath('\u0000')).toBe('(the value)');
  });
  it('walks a hundred thousand nested arrays without overflowing the stack', () => {
    const deep = JSON.parse('['.repeat(100_000) + '"a\\u0000"' + ']'.repeat(100_000));
    expect(firstNulPath(deep)).toMatch(/^(\[0\]){100000}$/);
    expect(firstNulPath(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)))).toBeNull();
  });
  it('passes text without one, other escapes, numbers, nulls and raw bytes', () => {
    expect(firstNulPath({ input: "SELECT '\\u0000', E'\\\\0', '\u0001'", n: 0, z: null, t: true, list: [] })).toBeNull();
    expect(firstNulPath(Buffer.from([0, 0, 0]))).toBeNull();
    expect(firstNulPath(undefined)).toBeNull();
  });
});
