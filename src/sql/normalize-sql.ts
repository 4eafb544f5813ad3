// The text of a command reduced to its pattern, for analytics: literals become ?, comments go,
// whitespace collapses to one space, keywords are lower-cased and lists of values (IN (1, 2, 3),
// VALUES (1), (2)) become one ?+. Two commands that differ only in their literals normalise to the
// same text. Used for MySQL (PostgreSQL has its own fingerprint) and for input PostgreSQL cannot
// parse. Linear time; not a parser: it never decides what runs, only how requests are grouped.

const KEYWORDS = new Set(
  (
    'add all alter and any as asc between by call case check column commit constraint create cross database default delete desc ' +
    'distinct drop else end exists explain false for foreign from full grant group having if ignore in index inner insert into is join ' +
    'key left like limit lock not null offset on or order outer primary procedure references rename replace revoke right rollback ' +
    'select set show start table then to transaction true truncate union unique unlock update use using values view when where with'
  ).split(' '),
);

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
const isDigit = (c: string) => c >= '0' && c <= '9';
const isWord = (c: string) => /[\p{L}\p{N}_$]/u.test(c);

/** Where the quoted text opened at `start` ends (just past its closing quote, or the end of input). */
function endOfQuoted(sql: string, start: number, backslashes: boolean): number {
  const q = sql[start];
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashes && c === '\\') i += 2;
    else if (c === q && sql[i + 1] === q) i += 2;
    else if (c === q) return i + 1;
    else i += 1;
  }
  return sql.length;
}

/** The tokens of `sql` with literals as `?`, comments dropped, keywords lower-cased. */
function tokens(sql: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (isSpace(c)) {
      i += 1;
    } else if (c === '#' || (c === '-' && next === '-')) {
      while (i < sql.length && sql[i] !== '\n') i += 1;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === "'" || c === '"') {
      // MySQL reads "..." as a string unless ANSI_QUOTES is set; either way it is not a keyword.
      i = endOfQuoted(sql, i, true);
      out.push('?');
    } else if (c === '`') {
      const end = endOfQuoted(sql, i, false);
      out.push(sql.slice(i, end));
      i = end;
    } else if ((c === 'x' || c === 'X' || c === 'b' || c === 'B' || c === 'n' || c === 'N') && next === "'") {
      i = endOfQuoted(sql, i + 1, c === 'n' || c === 'N');
      out.push('?');
    } else if (isDigit(c) || (c === '.' && next !== undefined && isDigit(next))) {
      i += 1;
      while (i < sql.length && (isWord(sql[i]) || sql[i] === '.' || ((sql[i] === '+' || sql[i] === '-') && /[eE]/.test(sql[i - 1])))) i += 1;
      // A negative number reads as one literal, not as minus and a literal.
      if (out[out.length - 1] === '-' && (out.length < 2 || /^[(,=<>]$|^(?:in|values|and|or|then|else|when|set|by)$/.test(out[out.length - 2]))) out.pop();
      out.push('?');
    } else if (isWord(c)) {
      let end = i + 1;
      while (end < sql.length && isWord(sql[end])) end += 1;
      const word = sql.slice(i, end);
      const lower = word.toLowerCase();
      out.push(KEYWORDS.has(lower) ? lower : word);
      i = end;
    } else {
      out.push(c);
      i += 1;
    }
  }
  return out;
}

/** Joins tokens with single spaces, none inside parentheses' edges or before commas. */
function join(parts: string[]): string {
  let text = '';
  for (const t of parts) {
    if (text === '' || t === ',' || t === ')' || t === '.' || text.endsWith('(') || text.endsWith('.')) text += t;
    else text += ` ${t}`;
  }
  return text;
}

/** `sql` as its pattern: the same text for commands that differ only in literals, spacing, comments or keyword case. */
export function normalizeSql(sql: string): string {
  let text = join(tokens(sql));
  // Lists of literals, whatever their length, are one pattern: (?, ?, ?) → (?+); (?+), (?+) → (?+).
  text = text.replace(/\(\?(?:, \?|,\?)*\)/g, '(?+)');
  text = text.replace(/\(\?\+\)(?:, ?\(\?\+\))+/g, '(?+)');
  return text.replace(/[\s;]+$/, '');
}
