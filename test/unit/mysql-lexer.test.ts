import { describe, expect, it } from 'vitest';
import { lexMysql, type LexOptions } from '../../src/sql/mysql-lexer.js';
import { splitMysql } from '../../src/sql/mysql-split.js';

const MARIADB = { mariadb: true, version: 101119 };
const MYSQL8 = { mariadb: false, version: 80036 };

/** Tokens as "type:text", trivia included. */
function tokens(sql: string, options: LexOptions = {}): string[] {
  return lexMysql(sql, options).tokens.map((t) => `${t.type}:${sql.slice(t.start, t.end)}`);
}
const code = (sql: string, options: LexOptions = {}) => tokens(sql, options).filter((t) => !/^(comment|hint|exec-open|exec-close):/.test(t));
const hazards = (sql: string, options: LexOptions = {}) => lexMysql(sql, options).hazards.map((h) => h.kind);
/** What the server runs: one entry per statement. */
const view = (sql: string, options: LexOptions = {}) => splitMysql(sql, options).map((s) => s.serverText);

describe('lexMysql: -- is a comment only before a space, a control character or the end', () => {
  it.each([
    ['SELECT 1 --1', ['word:SELECT', 'number:1', 'operator:-', 'operator:-', 'number:1'], ['minus-minus']],
    ['SELECT 1--1', ['word:SELECT', 'number:1', 'operator:-', 'operator:-', 'number:1'], ['minus-minus']],
    ['SELECT a--b', ['word:SELECT', 'word:a', 'operator:-', 'operator:-', 'word:b'], ['minus-minus']],
    ["SELECT 1 --'x'", ['word:SELECT', 'number:1', 'operator:-', 'operator:-', "string:'x'"], ['minus-minus']],
    ['SELECT 1 --\u00a0x', ['word:SELECT', 'number:1', 'operator:-', 'operator:-', 'word:\u00a0x'], ['minus-minus']],
    ['SELECT 1 -- x', ['word:SELECT', 'number:1'], []],
    ['SELECT 1 --\tx', ['word:SELECT', 'number:1'], []],
    ['SELECT 1 --\rx', ['word:SELECT', 'number:1'], []],
    ['SELECT 1 --\u0001x', ['word:SELECT', 'number:1'], []],
    ['SELECT 1 --\u007fx', ['word:SELECT', 'number:1'], []],
    ['SELECT 1 -- ', ['word:SELECT', 'number:1'], []],
    ['SELECT 1 --', ['word:SELECT', 'number:1'], []],
    ['SELECT 1 --\n+ 2', ['word:SELECT', 'number:1', 'operator:+', 'number:2'], []],
    ['SELECT 1 --- x', ['word:SELECT', 'number:1', 'operator:-'], ['minus-minus']],
  ])('%j', (sql, expected, found) => {
    expect(code(sql)).toEqual(expected);
    expect(hazards(sql)).toEqual(found);
  });

  it('reads every -- as a comment in the generic flavour (what node-sql-parser does)', () => {
    expect(code('SELECT 1 --1; DROP TABLE t', { flavour: 'generic' })).toEqual(['word:SELECT', 'number:1']);
  });
});

describe('lexMysql: # and /* */ comments', () => {
  it.each([
    ['SELECT 1 # c ; DROP TABLE t', ['comment:# c ; DROP TABLE t']],
    ['SELECT 1 #c\n, 2', ['comment:#c']],
    ['SELECT 1 #', ['comment:#']],
    ['SELECT /* a ; b */ 1', ['comment:/* a ; b */']],
    ['SELECT 1 /* a /* b */ + 1 */', ['comment:/* a /* b */']],
    ['SELECT 1 /**/', ['comment:/**/']],
    ['SELECT 1 /*/ x */', ['comment:/*/ x */']],
  ])('%j', (sql, comments) => {
    expect(tokens(sql).filter((t) => t.startsWith('comment:'))).toEqual(comments);
  });

  it('does not nest /* */: the first */ ends the comment and the rest is code', () => {
    expect(code('SELECT 1 /* a /* b */ + 1 */')).toEqual(['word:SELECT', 'number:1', 'operator:+', 'number:1', 'operator:*', 'operator:/']);
  });

  it('finds no comment inside strings and quoted names', () => {
    expect(code("SELECT '-- x', '# y', '/* z */', `a--b#c`")).toHaveLength(8);
  });

  it('calls a comment that never ends unreadable', () => {
    expect(tokens('SELECT 1 /* open')).toEqual(['word:SELECT', 'number:1', 'error:/* open']);
    expect(hazards('SELECT 1 /* open')).toEqual(['unreadable']);
  });
});

describe('lexMysql: executable comments are code', () => {
  it.each([
    ['SELECT 1 /*! + 1 */', undefined, ['exec-open:/*!', 'exec-close:*/'], 'executable-comment'],
    ['SELECT 1 /*!50000 + 1 */', undefined, ['exec-open:/*!50000', 'exec-close:*/'], 'versioned-comment'],
    ['SELECT 1 /*!50700 + 1 */', undefined, ['exec-open:/*!50700', 'exec-close:*/'], 'versioned-comment'],
    ['SELECT 1 /*M! + 1 */', undefined, ['exec-open:/*M!', 'exec-close:*/'], 'mariadb-comment'],
    ['SELECT 1 /*M!100100 + 1 */', undefined, ['exec-open:/*M!100100', 'exec-close:*/'], 'versioned-comment'],
    ['SELECT 1 /*!50000 + 1 */', MARIADB, ['exec-open:/*!50000', 'exec-close:*/'], 'executable-comment'],
    ['SELECT 1 /*!100100 + 1 */', MARIADB, ['exec-open:/*!100100', 'exec-close:*/'], 'executable-comment'],
    ['SELECT 1 /*M!50701 + 1 */', MARIADB, ['exec-open:/*M!50701', 'exec-close:*/'], 'executable-comment'],
    ['SELECT 1 /*!80000 + 1 */', MYSQL8, ['exec-open:/*!80000', 'exec-close:*/'], 'executable-comment'],
  ])('%j (server %j)', (sql, server, markers, kind) => {
    const options = server ? { server } : {};
    expect(tokens(sql, options).filter((t) => t.startsWith('exec-'))).toEqual(markers);
    expect(code(sql, options)).toEqual(['word:SELECT', 'number:1', 'operator:+', 'number:1']);
    expect(hazards(sql, options)).toEqual([kind]);
  });

  it.each([
    ['SELECT 1 /*!50700 + 1 */', MARIADB], // MariaDB skips MySQL 5.7+ versions
    ['SELECT 1 /*!999999 + 1 */', MARIADB],
    ['SELECT 1 /*M!101120 + 1 */', MARIADB],
    ['SELECT 1 /*!90000 + 1 */', MYSQL8],
    ['SELECT 1 /*!99999 /* one nested comment */ + 1 */', MARIADB],
  ])('skips %j on a server too old for it (server %j)', (sql, server) => {
    expect(code(sql, { server })).toEqual(['word:SELECT', 'number:1']);
    expect(hazards(sql, { server })).toEqual(['versioned-comment-skipped']);
  });

  it('reads /*M! as a plain comment on MySQL, which does not know it', () => {
    expect(code('SELECT 1 /*M! + 1 */', { server: MYSQL8 })).toEqual(['word:SELECT', 'number:1']);
  });

  it('takes exactly five version digits on MySQL: a sixth is code', () => {
    expect(code('SELECT 1 /*!100100 + 1 */', { server: MYSQL8 })).toEqual(['word:SELECT', 'number:1', 'number:0', 'operator:+', 'number:1']);
  });

  it('reads digits that are not a five-digit version as code', () => {
    expect(code('SELECT 1 /*!123 + 1 */')).toEqual(['word:SELECT', 'number:1', 'number:123', 'operator:+', 'number:1']);
  });

  it('allows a plain comment inside, and ends at the first */ after a nested /*!', () => {
    expect(code('SELECT 1 /*! , 2 /* c */ , 3 */')).toEqual(['word:SELECT', 'number:1', 'operator:,', 'number:2', 'operator:,', 'number:3']);
    expect(code('SELECT 1 /*! + /*! 1 */ */')).toEqual(['word:SELECT', 'number:1', 'operator:+', 'number:1', 'operator:*', 'operator:/']);
  });

  it('calls a ; inside unreadable, and reads what follows afresh (the */ is then code)', () => {
    expect(view('SELECT 1 /*! ; SELECT 2 */')).toEqual(['SELECT 1', 'SELECT 2 */']);
    expect(hazards('SELECT 1 /*! ; SELECT 2 */')).toEqual(['executable-comment', 'unreadable']);
  });

  it('calls one that never ends unreadable', () => {
    expect(hazards('SELECT 1 /*! + 1')).toEqual(['executable-comment', 'unreadable']);
  });

  it('reads /*!…*/ as a plain comment in the generic flavour', () => {
    expect(code('SELECT 1 /*! ; DROP TABLE t */', { flavour: 'generic' })).toEqual(['word:SELECT', 'number:1']);
  });
});

describe('lexMysql: optimizer hints', () => {
  it.each(['SELECT /*+ MAX_EXECUTION_TIME(1000) */ 1', 'SELECT /*+ SET_VAR(sql_mode=\'\') */ 1', 'UPDATE /*+ NO_RANGE_OPTIMIZATION(t) */ t SET a = 1'])('%j is a hint the server interprets', (sql) => {
    expect(tokens(sql).filter((t) => t.startsWith('hint:'))).toHaveLength(1);
    expect(hazards(sql)).toEqual(['optimizer-hint']);
  });
});

describe('lexMysql: strings and quoted names, by sql_mode', () => {
  const NBE = { noBackslashEscapes: true };
  const ANSI = { ansiQuotes: true };
  it.each<[string, LexOptions, string[]]>([
    ["SELECT 'it''s'", {}, ["string:'it''s'"]],
    ["SELECT 'a\\'b'", {}, ["string:'a\\'b'"]],
    ["SELECT 'a\\\\'", {}, ["string:'a\\\\'"]],
    ["SELECT 'a\\\\'", NBE, ["string:'a\\\\'"]],
    ["SELECT '\\\\\\''", {}, ["string:'\\\\\\''"]],
    ["SELECT 'a\\'", NBE, ["string:'a\\'"]],
    ["SELECT 'a\\' , 'b'", NBE, ["string:'a\\'", 'operator:,', "string:'b'"]],
    ['SELECT "a\\"b"', {}, ['string:"a\\"b"']],
    ['SELECT "a""b"', {}, ['string:"a""b"']],
    ['SELECT "a""b"', ANSI, ['quoted-identifier:"a""b"']],
    ['SELECT "a\\" , 1', ANSI, ['quoted-identifier:"a\\"', 'operator:,', 'number:1']],
    ['SELECT `a``b;c`', {}, ['quoted-identifier:`a``b;c`']],
    ['SELECT `a\\` , 1', {}, ['quoted-identifier:`a\\`', 'operator:,', 'number:1']],
    ["SELECT _utf8mb4'x'", {}, ['word:_utf8mb4', "string:'x'"]],
    ["SELECT N'x\\'y'", {}, ["string:N'x\\'y'"]],
    ["SELECT n'x'", NBE, ["string:n'x'"]],
    ["SELECT X'4142', x'', B'0101', b''", {}, ["hex-string:X'4142'", 'operator:,', "hex-string:x''", 'operator:,', "bit-string:B'0101'", 'operator:,', "bit-string:b''"]],
    ["SELECT xy'1'", {}, ['word:xy', "string:'1'"]],
    ["SELECT 'héllo; wörld', '😀;'", {}, ["string:'héllo; wörld'", 'operator:,', "string:'😀;'"]],
    ["SELECT '\\😀'", {}, ["string:'\\😀'"]],
    ["SELECT 'line\nbreak'", {}, ["string:'line\nbreak'"]],
  ])('%j with %j', (sql, options, expected) => {
    expect(code(sql, options).slice(1)).toEqual(expected);
    expect(hazards(sql, options)).toEqual([]);
  });

  it.each<[string, LexOptions]>([
    ["SELECT 'open", {}],
    ["SELECT 'a\\'", {}],
    ["SELECT 'ends with a backslash\\", {}],
    ['SELECT "a\\"', {}],
    ["SELECT N'open", {}],
    ["SELECT X'4'", {}], // an odd number of hex digits
    ["SELECT X'4G'", {}],
    ["SELECT B'012'", {}],
  ])('calls %j unreadable (with %j)', (sql, options) => {
    // The lexer reads on after the error as the server's does; the server's parser stops at the first.
    expect(hazards(sql, options)[0]).toBe('unreadable');
    expect(splitMysql(sql, options)[0].hazards.filter((h) => h.kind === 'unreadable')).toHaveLength(1);
    expect(code(sql, options).some((t) => t.startsWith('error:'))).toBe(true);
  });

  it('reads an unclosed quoted name to the end, as the server does', () => {
    expect(code('SELECT `a; DROP TABLE t')).toEqual(['word:SELECT', 'quoted-identifier:`a; DROP TABLE t']);
  });
});

describe('lexMysql: numbers and names', () => {
  it.each([
    ['SELECT 1e5, 1e-5, 1.5e+3, .5, 1., 0x41, 0b01', ['number:1e5', 'number:1e-5', 'number:1.5e+3', 'number:.5', 'number:1.', 'number:0x41', 'number:0b01']],
    ['SELECT 1e, 1ex, 0x4g, 0b2, 0X41, 12abc', ['word:1e', 'word:1ex', 'word:0x4g', 'word:0b2', 'word:0X41', 'word:12abc']],
    ['SELECT a.5e FROM t', ['word:a', 'operator:.', 'word:5e', 'word:FROM', 'word:t']],
    ['SELECT t.1e5', ['word:t', 'operator:.', 'word:1e5']],
    ['SELECT @a.5e, @@global.x, @`v`', ['operator:@', 'word:a.5e', 'operator:@', 'operator:@', 'word:global', 'operator:.', 'word:x', 'operator:@', 'quoted-identifier:`v`']],
    ["SELECT @'a;b'", ['operator:@', "string:'a;b'"]],
    ['SELECT \\N, 名前 FROM テーブル', ['word:\\N', 'word:名前', 'word:FROM', 'word:テーブル']],
  ])('%j', (sql, expected) => {
    expect(code(sql).filter((t) => t !== 'operator:,').slice(1)).toEqual(expected);
  });

  it('reads `name.5e-- x` as a name and a comment, but `1.5e-- x` as a broken number', () => {
    expect(view('SELECT a.5e-- x\nFROM t')).toEqual(['SELECT a.5e FROM t']);
    expect(hazards('SELECT 1.5e-- x')).toEqual(['unreadable']);
    expect(hazards('SELECT `a`.5e-- x')).toEqual(['unreadable']);
    expect(hazards('SELECT @a.5e--1')).toEqual(['minus-minus']);
  });

  it.each(['SELECT @@', 'SELECT @@ x', 'SELECT \\x', 'SELECT 1\u0000'])('calls %j unreadable', (sql) => {
    expect(hazards(sql)).toEqual(['unreadable']);
  });
});

describe('lexMysql: DELIMITER lines', () => {
  it.each(['DELIMITER //\nSELECT 1//', 'SELECT 1;\n  delimiter $$\nSELECT 2$$', 'SELECT 1;\nDelimiter ;', 'delimiter'])('finds the client command in %j', (sql) => {
    expect(hazards(sql)).toContain('delimiter');
  });

  it.each(["SELECT 'x\nDELIMITER //'", 'SELECT 1 AS delimiter', 'SELECT delimiters FROM t', '-- DELIMITER //\nSELECT 1'])('finds none in %j', (sql) => {
    expect(hazards(sql)).toEqual([]);
  });
});

describe('splitMysql: the statements the server runs', () => {
  it.each<[string, LexOptions, string[]]>([
    ['SELECT 1', {}, ['SELECT 1']],
    ['SELECT 1;', {}, ['SELECT 1']],
    ['  SELECT 1 ;  SELECT 2  ', {}, ['SELECT 1', 'SELECT 2']],
    [';;', {}, []],
    ['-- only a comment', {}, []],
    ['', {}, []],
    ['SELECT 1; -- note', {}, ['SELECT 1']],
    ['SELECT 1 --1; DROP TABLE t; -- note', {}, ['SELECT 1 --1', 'DROP TABLE t']],
    ["UPDATE users SET status='x' WHERE id=1 --1; DROP TABLE keepme; -- note", {}, ["UPDATE users SET status='x' WHERE id=1 --1", 'DROP TABLE keepme']],
    ['DELETE FROM users WHERE id = 1 /*! OR 1=1 */', {}, ['DELETE FROM users WHERE id = 1 OR 1=1']],
    ['SELECT 1 /*!50000 ; DROP TABLE t */', {}, ['SELECT 1', 'DROP TABLE t */']],
    ['SELECT 1 /*!50700 ; DROP TABLE t */', { server: MARIADB }, ['SELECT 1']],
    ['SELECT 1 # ; DROP TABLE t\n; SELECT 2', {}, ['SELECT 1', 'SELECT 2']],
    ["SELECT 'a\\'; DROP TABLE t; -- '", {}, ["SELECT 'a\\'; DROP TABLE t; -- '"]],
    ["SELECT 'a\\'; DROP TABLE t; -- '", { noBackslashEscapes: true }, ["SELECT 'a\\'", 'DROP TABLE t']],
    ['SELECT "a\\"; DROP TABLE t; -- "', {}, ['SELECT "a\\"; DROP TABLE t; -- "']],
    ['SELECT "a\\"; DROP TABLE t; -- "', { ansiQuotes: true }, ['SELECT "a\\"', 'DROP TABLE t']],
    ['SELECT /* ; */ 1 /*+ ; */', {}, ['SELECT 1']],
    ['SELECT 1\n;\nSELECT 2\n', {}, ['SELECT 1', 'SELECT 2']],
  ])('%j with %j', (sql, options, expected) => {
    expect(view(sql, options)).toEqual(expected);
  });

  it('keeps each statement\'s own text, comments included, and its offsets', () => {
    const sql = "SELECT 1 -- one\n;\n/* two */ SELECT 'é;' ; ";
    const [a, b] = splitMysql(sql);
    expect([a.text, b.text]).toEqual(['SELECT 1 -- one', "/* two */ SELECT 'é;'"]);
    expect(sql.slice(b.start, b.end)).toBe(b.text);
  });

  it('gives node-sql-parser a text it reads as the server does', () => {
    const [s] = splitMysql("SELECT 'a\\' , \"b\" FROM t WHERE x = 1 --1", { noBackslashEscapes: true, ansiQuotes: true });
    expect(s.parserText).toBe("SELECT 'a\\\\' , `b` FROM t WHERE x = 1 - -1");
  });

  it('splits 100,000 statements (about 1 MB) in linear time', () => {
    const input = (n: number) => Array.from({ length: n }, (_, i) => `SELECT ${i} /* c */ , 'x;y' -- n\n;`).join('');
    const time = (sql: string) => {
      // The fastest of five: a shared machine's pauses (GC, other processes) only ever add time.
      const runs = [0, 1, 2, 3, 4].map(() => {
        const t0 = performance.now();
        splitMysql(sql);
        return performance.now() - t0;
      });
      return Math.min(...runs);
    };
    const small = input(10_000);
    const large = input(100_000);
    expect(large.length).toBeGreaterThan(1_000_000);
    expect(splitMysql(large)).toHaveLength(100_000);
    const ratio = time(large) / time(small);
    // Linear is about 10; quadratic would be about 100. A noisy machine measured up to 45 for linear.
    expect(ratio).toBeLessThan(70);
  });
});
