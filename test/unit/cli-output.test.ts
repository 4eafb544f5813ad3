// What the CLI writes to a terminal: text from the gateway (commands, reasons, errors, values) must
// not be able to move the cursor, erase lines or reorder what the reader sees.
import { describe, expect, it } from 'vitest';
import { jsonText, printable } from '../../src/cli/output.js';

// Characters a terminal obeys rather than shows.
const OBEYED = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('printable', () => {
  it.each([
    ['\u001b[2K\rDROP TABLE', '\\x1b[2K\\rDROP TABLE'], // erase the line, back to its start
    ['ok\u0007', 'ok\\x07'], // bell
    ['a\u007fb', 'a\\x7fb'], // DEL
    ['\u009b2J', '\\x9b2J'], // C1 CSI: clears the screen on some terminals
    ['user\u202egnp.exe', 'user\\u202egnp.exe'], // right-to-left override
    ['\u2066x\u2069', '\\u2066x\\u2069'], // isolates
    ['line\u2028break', 'line\\u2028break'],
    ['\u0000', '\\x00'],
  ])('spells out %j', (text, shown) => {
    expect(printable(text)).toBe(shown);
    expect(OBEYED.test(printable(text))).toBe(false);
  });

  it('keeps tabs, newlines and ordinary Unicode', () => {
    const text = 'id\tname\n 1\tJosé 🚀 日本';
    expect(printable(text)).toBe(text);
  });
});

describe('jsonText', () => {
  const value = { input: 'SELECT 1 /* \u001b[2K\r\u007f\u0085\u009b\u202e\u2028\u2066 */', n: 1, nested: [{ reason: 'a\u202eb' }], plain: 'José' };

  it.each([undefined, 2])('is valid JSON of the same value with nothing a terminal obeys (indent %s)', (indent) => {
    const text = jsonText(value, indent);
    expect(JSON.parse(text)).toEqual(value);
    expect(OBEYED.test(text)).toBe(false);
    expect(text).toContain('\\u202e');
    expect(text).toContain('José');
  });
});
