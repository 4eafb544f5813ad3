// The web app's SQL highlighter: it colours a command, and never drops or changes a character.
import { describe, expect, it } from 'vitest';
import { tokenizeSql } from '../../web/src/sql-tokens.ts';

const joined = (sql: string) => tokenizeSql(sql).map((t) => t.text).join('');

describe('tokenizeSql', () => {
  it('marks keywords, strings, numbers, comments and quoted names', () => {
    const tokens = tokenizeSql(`UPDATE "Users" SET status = 'it''s' WHERE id = 42 -- note`);
    const kinds = (kind: string) => tokens.filter((t) => t.kind === kind).map((t) => t.text);
    expect(kinds('keyword')).toEqual(['UPDATE', 'SET', 'WHERE']);
    expect(kinds('string')).toEqual([`'it''s'`]);
    expect(kinds('number')).toEqual(['42']);
    expect(kinds('comment')).toEqual(['-- note']);
    expect(kinds('identifier')).toEqual(['"Users"']);
  });

  it('keeps a keyword inside a string, a comment or a dollar-quoted body as that, not as a keyword', () => {
    const tokens = tokenizeSql(`SELECT 'drop table x', $f$ DELETE FROM y $f$ /* update */`);
    expect(tokens.filter((t) => t.kind === 'keyword').map((t) => t.text)).toEqual(['SELECT']);
  });

  it('gives back every character, whatever the input (unterminated quotes, control characters, emoji)', () => {
    for (const sql of [`SELECT 'open`, `/* open`, `$x$ open`, `"open`, `a\u0000b\u202e\r\n\t😀 é`, '', 'select1from', `E'\\'' ; DROP`]) {
      expect(joined(sql)).toBe(sql);
    }
  });
});
