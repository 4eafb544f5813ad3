// Tokenises MySQL/MariaDB input the way the server's lexer does (MariaDB sql_lex.cc, lex_one_token),
// so that the gateway sees the statements the server will run — not the ones a generic SQL parser
// sees. Linear time: every character is looked at a bounded number of times.
import { describeVersion, hazardText, type MysqlHazard } from './mysql-hazards.js';
import type { MysqlLexOptions } from './mysql-mode.js';
import { endsDashDash, isAlnumHost, isDigit, isIdent, isSpace, isTrivia, isXDigit, type MysqlToken, type MysqlTokenType } from './mysql-tokens.js';

export interface MysqlLexResult {
  tokens: MysqlToken[];
  hazards: MysqlHazard[];
}

/**
 * Options for the lexer. `flavour: 'generic'` reads comments as node-sql-parser does (every `--`,
 * every `/* … *\/` is a comment) so the two views can be compared.
 */
export interface LexOptions extends MysqlLexOptions {
  flavour?: 'server' | 'generic';
}

/** Tokenises `sql` as the MySQL/MariaDB server's lexer does for the given sql_mode flags. */
export function lexMysql(sql: string, options: LexOptions = {}): MysqlLexResult {
  const n = sql.length;
  const generic = options.flavour === 'generic';
  const nbe = options.noBackslashEscapes === true;
  const ansi = options.ansiQuotes === true;
  const server = options.server;
  const tokens: MysqlToken[] = [];
  const hazards: MysqlHazard[] = [];
  const at = (i: number) => (i < n ? sql.charCodeAt(i) : -1);
  const push = (type: MysqlTokenType, start: number, end: number) => void tokens.push({ type, start, end });
  const hazard = (kind: MysqlHazard['kind'], start: number, end: number, detail?: string) => {
    hazards.push({ kind, at: start, message: hazardText(kind, sql.slice(start, Math.min(end, start + 40)), detail) });
  };
  const identEnd = (i: number) => {
    while (i < n && isIdent(sql.charCodeAt(i))) i++;
    return i;
  };
  let pos = 0;
  let inExec = -1; // offset of the open executable comment, or -1
  let identNext = false; // after `ident.` the server scans an identifier, never a number
  let lineHasToken = false;

  /** A word just ended at `end`: `word.ident` makes the next token an identifier (MY_LEX_IDENT_SEP). */
  const afterWord = (end: number) => {
    if (at(end) === 46 && isIdent(at(end + 1))) {
      push('operator', end, end + 1);
      identNext = true;
      return end + 1;
    }
    return end;
  };

  /** The end of a '…' or "…" string from the quote at `q` (get_text), or -1 when it never ends. */
  const stringEnd = (q: number, sep: number): number => {
    let i = q + 1;
    while (i < n) {
      const c = sql.charCodeAt(i);
      if (c === 92 && !nbe) {
        if (i + 1 >= n) return -1;
        i += 2;
      } else if (c === sep) {
        if (at(i + 1) === sep) i += 2;
        else return i + 1;
      } else i++;
    }
    return -1;
  };

  /** A `/*` comment: plain, hint, or executable (MY_LEX_LONG_COMMENT). Returns where lexing goes on. */
  const blockComment = (start: number): number => {
    const third = at(start + 2);
    const maria = third === 77 && at(start + 3) === 33; // /*M!
    if (!generic && (third === 33 || (maria && server?.mariadb !== false))) {
      let body = start + (maria ? 4 : 3);
      let digits = 0;
      while (digits < 5 && isDigit(at(body + digits))) digits++;
      if (digits === 5) {
        // MariaDB reads a sixth digit as part of the version; MySQL does not.
        if (isDigit(at(body + 5)) && server?.mariadb !== false) digits = 6;
        const version = Number(sql.slice(body, body + digits));
        body += digits;
        if (!runsVersion(version, maria, server)) {
          const end = skipComment(body, 1);
          if (end < 0) return unclosedComment(start);
          push('comment', start, end);
          hazard('versioned-comment-skipped', start, body, describeVersion(version));
          return end;
        }
        hazard(server ? 'executable-comment' : 'versioned-comment', start, body, describeVersion(version));
      } else if (digits > 0) {
        hazard('executable-comment', start, body); // not a version: the digits are code
      } else {
        hazard(maria ? 'mariadb-comment' : 'executable-comment', start, body);
      }
      push('exec-open', start, body);
      inExec = start;
      return body;
    }
    const end = skipComment(start + 2, 0);
    if (end < 0) return unclosedComment(start);
    if (third === 43 && !generic) {
      push('hint', start, end);
      hazard('optimizer-hint', start, end);
    } else push('comment', start, end);
    return end;
  };

  /** consume_comment: to the first `*\/`, allowing one nested `/* *\/` when `nesting` is 1. */
  const skipComment = (i: number, nesting: number): number => {
    while (i < n) {
      const c = sql.charCodeAt(i);
      if (nesting > 0 && c === 47 && at(i + 1) === 42) {
        const inner = skipComment(i + 2, 0);
        if (inner < 0) return -1;
        i = inner;
      } else if (c === 42 && at(i + 1) === 47) return i + 2;
      else i++;
    }
    return -1;
  };

  const unclosedComment = (start: number): number => {
    push('error', start, n);
    hazard('unreadable', start, n, 'a comment /* that is never closed');
    return n;
  };

  /** A number from a digit at `start` (MY_LEX_NUMBER_IDENT and friends). */
  const number = (start: number): number => {
    const second = at(start + 1);
    if (sql.charCodeAt(start) === 48 && (second === 120 || second === 98)) {
      // 0x… / 0b…: a number unless an identifier character follows the digits.
      const ok = second === 120 ? isXDigit : (c: number) => c === 48 || c === 49;
      let j = start + 2;
      while (ok(at(j))) j++;
      if (!isIdent(at(j))) return push('number', start, j), j;
      return push('word', start, identEnd(j)), afterWord(identEnd(j));
    }
    let j = start;
    while (isDigit(at(j))) j++;
    const c = at(j);
    if (c === 46 && at(j + 1) !== 46) return real(start, j + 1);
    if (!isIdent(c)) return push('number', start, j), j;
    if (c === 101 || c === 69) {
      const s = at(j + 1);
      if (isDigit(s) || ((s === 43 || s === 45) && isDigit(at(j + 2)))) {
        let k = j + (isDigit(s) ? 1 : 2);
        while (isDigit(at(k))) k++;
        return push('number', start, k), k;
      }
    }
    const end = identEnd(j);
    push('word', start, end);
    return afterWord(end);
  };

  /** The fraction and exponent of a real from `i` (MY_LEX_REAL); `1.5e` without digits is an error. */
  const real = (start: number, i: number): number => {
    while (isDigit(at(i))) i++;
    const c = at(i);
    if (c !== 101 && c !== 69) return push('number', start, i), i;
    let k = i + 1;
    if (at(k) === 43 || at(k) === 45) k++;
    if (!isDigit(at(k))) {
      const end = Math.min(n, k + 1); // the server has read one more character
      push('error', start, end);
      hazard('unreadable', start, end, 'a number with an exponent but no digits after it');
      return end;
    }
    while (isDigit(at(k))) k++;
    push('number', start, k);
    return k;
  };

  while (pos < n) {
    const c = sql.charCodeAt(pos);
    if (isSpace(c)) {
      if (c === 10) lineHasToken = false;
      pos++;
      continue;
    }
    const start = pos;
    const tokensBefore = tokens.length;
    const firstOnLine = !lineHasToken;
    if (identNext) {
      // MY_LEX_IDENT_START: right after `ident.` comes an identifier, even when it starts with a digit.
      identNext = false;
      const end = identEnd(start);
      push('word', start, end);
      pos = afterWord(end);
    } else if (c === 45 && at(pos + 1) === 45 && (generic || endsDashDash(at(pos + 2)))) {
      pos = lineEnd(sql, pos);
      push('comment', start, pos);
    } else if (c === 35) {
      pos = lineEnd(sql, pos);
      push('comment', start, pos);
    } else if (c === 47 && at(pos + 1) === 42) {
      pos = blockComment(pos);
    } else if (c === 42 && at(pos + 1) === 47 && inExec >= 0) {
      push('exec-close', start, pos + 2);
      inExec = -1;
      pos += 2;
    } else if (c === 59) {
      // MariaDB answers a syntax error for a statement whose ; lies inside /*! … */ (and runs none of
      // it); lexing goes on as for the next statement, afresh, so the guardrails still see the rest.
      if (inExec >= 0) hazard('unreadable', inExec, pos + 1, 'a ; inside an executable comment');
      push('semicolon', start, ++pos);
      inExec = -1;
    } else if (c === 39 || (c === 34 && !ansi)) {
      const end = stringEnd(pos, c);
      pos = end < 0 ? unterminated(start, start + 1) : (push('string', start, end), end);
    } else if (c === 96 || c === 34) {
      pos = quotedIdentifier(start, c);
    } else if ((c === 78 || c === 110) && at(pos + 1) === 39) {
      const end = stringEnd(pos + 1, 39);
      pos = end < 0 ? unterminated(start, start + 2) : (push('string', start, end), end);
    } else if ((c === 88 || c === 120 || c === 66 || c === 98) && at(pos + 1) === 39) {
      pos = bitOrHex(start, c === 88 || c === 120);
    } else if (isDigit(c)) {
      pos = number(start);
    } else if (c === 46) {
      const next = at(pos + 1);
      if (isDigit(next)) pos = real(start, pos + 1);
      else if (next === 46) push('operator', start, (pos += 2));
      else {
        push('operator', start, ++pos);
        identNext = isIdent(next);
      }
    } else if (c === 64) {
      pos = atSign(start);
    } else if (c === 92) {
      if (at(pos + 1) === 78) push('word', start, (pos += 2)); // \N is NULL
      else {
        push('error', start, ++pos);
        hazard('unreadable', start, pos, 'a backslash outside a string');
      }
    } else if (c === 0) {
      push('error', start, ++pos);
      hazard('unreadable', start, pos, 'a NUL character');
    } else if (isIdent(c)) {
      const end = identEnd(pos);
      push('word', start, end);
      if (firstOnLine && !generic && end - start === 9 && sql.slice(start, end).toLowerCase() === 'delimiter' && (end >= n || isSpace(at(end)))) {
        hazard('delimiter', start, end);
      }
      pos = afterWord(end);
    } else {
      if (c === 45 && at(pos + 1) === 45 && !generic) hazard('minus-minus', start, start + 3);
      push('operator', start, ++pos);
    }
    if (tokens.length > tokensBefore && !isTrivia(tokens[tokensBefore])) lineHasToken = true;
  }
  if (inExec >= 0) {
    push('error', n, n);
    hazard('unreadable', inExec, n, 'an executable comment /*! that is never closed');
  }
  return { tokens, hazards };

  function unterminated(start: number, end: number): number {
    // The server returns the quote as a lone character and reads on; the parser then fails.
    push('error', start, end);
    hazard('unreadable', start, n, 'a string that is never closed');
    return end;
  }

  function quotedIdentifier(start: number, q: number): number {
    let i = start + 1;
    while (i < n) {
      const c = sql.charCodeAt(i);
      if (c === 0) break; // scan_ident_delimited stops at NUL; what follows is read afresh
      if (c === q) {
        if (at(i + 1) === q) i += 2;
        else return push('quoted-identifier', start, i + 1), i + 1;
      } else i++;
    }
    push('quoted-identifier', start, i); // unclosed: the rest of the input is the identifier
    return i;
  }

  function bitOrHex(start: number, hex: boolean): number {
    let i = start + 2;
    while (hex ? isXDigit(at(i)) : at(i) === 48 || at(i) === 49) i++;
    const digits = i - start - 2;
    if (at(i) === 39 && (!hex || digits % 2 === 0)) return push(hex ? 'hex-string' : 'bit-string', start, i + 1), i + 1;
    const end = Math.min(n, i + 1);
    push('error', start, end);
    hazard('unreadable', start, end, hex ? 'a malformed hexadecimal literal X\'…\'' : 'a malformed bit literal B\'…\'');
    return end;
  }

  function atSign(start: number): number {
    const next = at(start + 1);
    push('operator', start, start + 1);
    if (next === 39 || next === 34 || next === 96) return start + 1; // @'name': the string is read as usual
    if (next === 64) {
      // @@name: a system variable; an empty name is a syntax error.
      push('operator', start + 1, start + 2);
      if (at(start + 2) === 96) return start + 2;
      const end = identEnd(start + 2);
      if (end === start + 2) {
        push('error', end, end);
        hazard('unreadable', start, end + 1, 'a system variable @@ without a name');
        return end;
      }
      push('word', start + 2, end);
      if (at(end) === 46) {
        push('operator', end, end + 1);
        identNext = isIdent(at(end + 1));
        return end + 1;
      }
      return end;
    }
    let end = start + 1;
    while (end < n && isAlnumHost(sql.charCodeAt(end))) end++;
    if (end > start + 1) push('word', start + 1, end);
    return end;
  }
}

/** The end of a `--`/`#` comment: the newline (not included) or a NUL, as the server reads it. */
function lineEnd(sql: string, i: number): number {
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (c === 10 || c === 0) return i;
    i++;
  }
  return i;
}

/** Whether the server runs a versioned comment's body (MariaDB ignores MySQL 5.7+ versions). */
function runsVersion(version: number, maria: boolean, server: MysqlLexOptions['server']): boolean {
  if (!server) return true; // unknown server: read the body as code, the stricter view
  if (!server.mariadb) return version <= server.version;
  return version <= server.version && (version < 50700 || version > 99999 || maria);
}
