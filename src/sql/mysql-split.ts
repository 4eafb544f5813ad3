// Splits MySQL/MariaDB input into the statements the server will run (its view: comments dropped,
// executable-comment bodies as code, strings as the sql_mode reads them), and finds where that view
// differs from a plain SQL parser's or from another sql_mode's.
import { hazardText, type MysqlHazard, type MysqlHazardKind } from './mysql-hazards.js';
import { commandFromWords } from './mysql-commands.js';
import { needsRewrite, parserToken } from './mysql-literals.js';
import { lexMysql } from './mysql-lexer.js';
import { isSpace, isTrivia, type MysqlToken } from './mysql-tokens.js';
import type { MysqlLexOptions } from './mysql-mode.js';

export interface MysqlStatement {
  /** input.slice(start, end): the statement's own text, trimmed, without its `;`. */
  start: number;
  end: number;
  text: string;
  /** The code the server runs, as SQL it reads the same way on its own (comments dropped, /*! bodies kept). */
  serverText: string;
  /** The same code for node-sql-parser, which assumes default quoting: strings re-quoted as '…', "names" as `names`. */
  parserText: string;
  /** The first code tokens, words upper-cased: what the statement starts with. */
  lead: string[];
  hazards: MysqlHazard[];
  /** Its tokens: tokens.slice(from, to) of the lexed input (comments included, its `;` excluded). */
  from: number;
  to: number;
}

interface Piece {
  from: number; // token index
  to: number; // token index after the last token of the piece (its `;` excluded)
  start: number; // offset after the previous `;`
  end: number; // offset after this piece's `;` (or the input's end)
  statement: number; // index in the statements, or -1 when the piece holds no code
}

const LEAD = 12;
const COMPOUND_FIRST = new Set(['IF', 'CASE', 'LOOP', 'REPEAT', 'WHILE', 'FOR', 'DECLARE']);
const STORED_PROGRAMS = new Set(['PROCEDURE', 'FUNCTION', 'TRIGGER', 'EVENT', 'PACKAGE']);

/** Splits `sql` into the server's statements, with every hazard that makes a statement's reading uncertain. */
export function splitMysql(sql: string, options: MysqlLexOptions = {}): MysqlStatement[] {
  return splitMysqlTokens(sql, options).statements;
}

/** splitMysql, with the tokens the statements' `from`/`to` index (to look past a statement's first words). */
export function splitMysqlTokens(sql: string, options: MysqlLexOptions = {}): { tokens: MysqlToken[]; statements: MysqlStatement[] } {
  const { tokens, hazards } = lexMysql(sql, options);
  const { pieces, owners, statements } = read(sql, tokens, options);
  for (const h of hazards) {
    const i = pieceAt(pieces, h.at)?.statement ?? -1;
    if (i >= 0) add(statements[i], h);
  }
  markCompound(statements);
  const tricks = hazards.filter((h) => h.kind !== 'unreadable' && h.kind !== 'delimiter').sort((x, y) => x.at - y.at);
  if (tricks.length) {
    // node-sql-parser takes every -- and /* … */ for a comment (sql_mode differences: see below).
    const generic = lexMysql(sql, { ...options, flavour: 'generic' }).tokens;
    for (const i of differing(pieces, tokens, generic)) {
      const own = statements[i].hazards.some((h) => h.kind !== 'unreadable');
      if (!own) add(statements[i], hazard('hidden', statements[i].start, hiddenBecause(tricks, statements[i])));
    }
  }
  if (sql.includes('\\')) {
    // Only a backslash reads differently under another NO_BACKSLASH_ESCAPES / ANSI_QUOTES setting; what
    // matters is where statements end (a string's reading shows in its statement's text).
    const flips: [string, MysqlLexOptions][] = [
      [options.noBackslashEscapes ? 'backslash escapes (no NO_BACKSLASH_ESCAPES)' : 'NO_BACKSLASH_ESCAPES', { ...options, noBackslashEscapes: !options.noBackslashEscapes }],
      [options.ansiQuotes ? '"…" as strings (no ANSI_QUOTES)' : 'ANSI_QUOTES', { ...options, ansiQuotes: !options.ansiQuotes }],
    ];
    for (const [name, other] of flips) {
      const otherTokens = lexMysql(sql, other).tokens;
      const changed = differing(pieces, tokens, otherTokens, true).filter((i) => !statements[i].hazards.some((h) => h.kind === 'sql-mode'));
      if (!changed.length) continue;
      // Tell reviewers what that server would run instead.
      const alt = read(sql, otherTokens, other).statements;
      for (const i of changed) {
        const piece = owners[i];
        const there = overlapping(alt, piece.start, piece.end).map((a) => commandFromWords(a.lead));
        const listed = there.length > 4 ? [...there.slice(0, 4), '…'] : there;
        add(statements[i], hazard('sql-mode', statements[i].start, `${name} the server reads ${there.length === 1 ? 'one statement' : `${there.length} statements`} here: ${listed.join('; ')}`));
      }
    }
  }
  return { tokens, statements };
}

/** The statement made of tokens[from, to) (a statement carried inside another one), without hazards. */
export function statementOfTokens(sql: string, tokens: MysqlToken[], from: number, to: number, options: MysqlLexOptions = {}): MysqlStatement | null {
  if (from >= to) return null;
  const s = statementOf(sql, tokens, { from, to, start: tokens[from].start, end: tokens[to - 1].end, statement: -1 }, options);
  if (!s) return null;
  const start = tokens[from].start;
  const end = tokens[to - 1].end;
  return { ...s, start, end, text: sql.slice(start, end) };
}

/** The statements (in order, not overlapping) that share some of [from, to); binary search. */
function overlapping(statements: MysqlStatement[], from: number, to: number): MysqlStatement[] {
  let lo = 0;
  let hi = statements.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (statements[mid].end > from) hi = mid;
    else lo = mid + 1;
  }
  const out: MysqlStatement[] = [];
  for (let i = lo; i < statements.length && statements[i].start < to; i++) out.push(statements[i]);
  return out;
}

/** The statements of one reading: pieces between `;` that hold code; `;;` stops the server. */
function read(sql: string, tokens: MysqlToken[], options: MysqlLexOptions): { pieces: Piece[]; owners: Piece[]; statements: MysqlStatement[] } {
  const pieces = piecesOf(tokens, sql.length);
  const owners: Piece[] = []; // the piece of each statement
  const statements: MysqlStatement[] = [];
  let empty = false;
  for (const p of pieces) {
    const s = statementOf(sql, tokens, p, options);
    if (!s) {
      // Only comments or nothing before a `;`: the server answers a syntax error there and stops.
      empty ||= p.to < tokens.length;
      continue;
    }
    if (empty) s.hazards.push(hazard('after-empty', s.start, ''));
    empty = false;
    p.statement = statements.length;
    owners.push(p);
    statements.push(s);
  }
  return { pieces, owners, statements };
}

function hazard(kind: MysqlHazardKind, at: number, detail: string): MysqlHazard {
  return { kind, at, message: hazardText(kind, '', detail) };
}

function add(s: MysqlStatement, h: MysqlHazard): void {
  // The server stops at the first thing it cannot read: later ones in the statement do not matter.
  if (!s.hazards.some((x) => x.kind === h.kind && (x.message === h.message || h.kind === 'unreadable'))) s.hazards.push(h);
}

function piecesOf(tokens: MysqlToken[], length: number): Piece[] {
  const pieces: Piece[] = [];
  let from = 0;
  let start = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].type !== 'semicolon') continue;
    pieces.push({ from, to: i, start, end: tokens[i].end, statement: -1 });
    from = i + 1;
    start = tokens[i].end;
  }
  pieces.push({ from, to: tokens.length, start, end: length, statement: -1 });
  return pieces;
}

/** The piece holding offset `at` (binary search; pieces are in order). */
function pieceAt(pieces: Piece[], at: number): Piece | undefined {
  let lo = 0;
  let hi = pieces.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (pieces[mid].start <= at) lo = mid;
    else hi = mid - 1;
  }
  return pieces[lo];
}

function statementOf(sql: string, tokens: MysqlToken[], p: Piece, options: MysqlLexOptions): MysqlStatement | null {
  let first = -1;
  let last = -1;
  let trivia = false; // a comment or marker between code tokens
  let rewrite = false; // a token node-sql-parser must see written differently
  const lead: string[] = [];
  for (let i = p.from; i < p.to; i++) {
    const t = tokens[i];
    if (isTrivia(t)) {
      trivia ||= first >= 0;
      continue;
    }
    if (first < 0) first = i;
    last = i;
    if (t.type === 'word') {
      const length = t.end - t.start;
      if (lead.length < LEAD) lead.push(sql.slice(t.start, t.end).toUpperCase());
      rewrite ||= length === 2 && sql.charCodeAt(t.start) === 92; // \N
    } else {
      if (lead.length < LEAD) lead.push(t.type === 'operator' ? sql.slice(t.start, t.end) : t.type);
      rewrite ||= needsRewrite(sql, t, options) || (t.type === 'operator' && sql.charCodeAt(t.start) === 45 && sql.charCodeAt(t.end) === 45);
    }
  }
  if (first < 0) return null;
  const server = trivia ? rebuild(sql, tokens, first, last, false, options) : sql.slice(tokens[first].start, tokens[last].end);
  const parser = rewrite ? rebuild(sql, tokens, first, last, true, options) : server;
  const semicolon = p.to < tokens.length ? tokens[p.to].start : sql.length;
  let start = p.start;
  let end = semicolon;
  // The server's whitespace only: to it a no-break space is part of a name.
  while (start < end && isSpace(sql.charCodeAt(start))) start++;
  while (end > start && isSpace(sql.charCodeAt(end - 1))) end--;
  return { start, end, text: sql.slice(start, end), serverText: server, parserText: parser, lead, hazards: [], from: p.from, to: p.to };
}

/** The code tokens first..last joined: a dropped comment still separates tokens, other spacing is kept. */
function rebuild(sql: string, tokens: MysqlToken[], first: number, last: number, forParser: boolean, options: MysqlLexOptions): string {
  const out: string[] = [];
  let prevEnd = -1;
  let trivia = false;
  for (let i = first; i <= last; i++) {
    const t = tokens[i];
    if (isTrivia(t)) {
      trivia = true;
      continue;
    }
    const text = sql.slice(t.start, t.end);
    if (prevEnd >= 0) {
      const gap = trivia ? ' ' : sql.slice(prevEnd, t.start);
      // "--1" is two minus signs to the server but a comment to node-sql-parser.
      out.push(forParser && gap === '' && text[0] === '-' && sql.charCodeAt(prevEnd - 1) === 45 ? ' ' : gap);
    }
    out.push(forParser ? parserToken(t, text, options) : text);
    prevEnd = t.end;
    trivia = false;
  }
  return out.join('');
}

/** A compound statement or stored program: the server reads past its inner `;`, so the split after it is uncertain. */
function markCompound(statements: MysqlStatement[]): void {
  let from = -1;
  for (let i = 0; i < statements.length && from < 0; i++) {
    const w = statements[i].lead;
    const beforeParen = w.slice(0, Math.max(0, w.indexOf('(')) || w.length);
    const compound =
      COMPOUND_FIRST.has(w[0]) ||
      (w[0] === 'BEGIN' && w[1] === 'NOT') ||
      (w[1] === ':' && w[2] !== '=' && /^[A-Z_$]/.test(w[0] ?? '')) ||
      ((w[0] === 'CREATE' || w[0] === 'ALTER') && beforeParen.some((x) => STORED_PROGRAMS.has(x)));
    if (compound) {
      from = i;
      add(statements[i], hazard('compound', statements[i].start, statements[i].serverText.split(/\s+/).slice(0, 3).join(' ').slice(0, 40)));
    }
  }
  if (from < 0) return;
  for (let i = from + 1; i < statements.length; i++) add(statements[i], hazard('after-compound', statements[i].start, ''));
}

const category = (t: MysqlToken) => (t.type === 'semicolon' ? 1 : isTrivia(t) ? 2 : 0);

/**
 * Statements (indices) whose tokens differ between two readings of the same input, or with
 * `splitsOnly` whose boundaries differ (a `;` in one reading only ends one statement and starts the
 * next); linear.
 */
function differing(pieces: Piece[], all: MysqlToken[], other: MysqlToken[], splitsOnly = false): number[] {
  const out: number[] = [];
  const mark = (at: number) => {
    const s = pieceAt(pieces, at)?.statement ?? -1;
    if (s >= 0 && out.at(-1) !== s) out.push(s);
  };
  const a = splitsOnly ? all.filter((t) => t.type === 'semicolon') : all;
  const b = splitsOnly ? other.filter((t) => t.type === 'semicolon') : other;
  const markToken = (t: MysqlToken) => {
    mark(t.start);
    if (t.type === 'semicolon') mark(t.end);
  };
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (x && y && x.start === y.start && x.end === y.end && category(x) === category(y)) {
      i++;
      j++;
    } else if (x && (!y || x.start < y.start)) {
      markToken(x);
      i++;
    } else if (y && (!x || y.start < x.start)) {
      markToken(y);
      j++;
    } else {
      markToken(x);
      i++;
      j++;
    }
  }
  return [...new Set(out)];
}

/** Why a plain parser reads a statement differently: the nearest comment trick before it (`tricks` sorted by offset). */
function hiddenBecause(tricks: MysqlHazard[], s: MysqlStatement): string {
  let lo = 0;
  let hi = tricks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tricks[mid].at < s.end) lo = mid + 1;
    else hi = mid;
  }
  const trick = tricks[lo - 1];
  return trick ? `because the input before it ${trick.message.replace(/;.*$/, '')}` : 'it takes part of the input for a comment';
}
