// The tokens of the MySQL/MariaDB lexer and the character classes of the server's lexer (its
// state_map and ident_map for a UTF-8 connection).

export type MysqlTokenType =
  | 'word' // keyword or identifier, also number-like identifiers (1e, 0x4g) and a hostname after @
  | 'number'
  | 'string' // '…', N'…', and "…" unless ANSI_QUOTES
  | 'hex-string' // X'…'
  | 'bit-string' // B'…'
  | 'quoted-identifier' // `…`, and "…" with ANSI_QUOTES
  | 'operator' // any other character (a few two-character ones: .., \N is a word)
  | 'semicolon'
  | 'comment' // -- …, # …, /* … */, a versioned comment the server skips
  | 'hint' // /*+ … */
  | 'exec-open' // /*!, /*!NNNNN, /*M!, /*M!NNNNNN whose body the server runs as code
  | 'exec-close' // the */ that ends an executable comment
  | 'error'; // where the server's lexer gives up: the statement fails with a syntax error

export interface MysqlToken {
  type: MysqlTokenType;
  /** Offsets in the input (UTF-16 code units); the token is input.slice(start, end). */
  start: number;
  end: number;
}

/** Comments and executable-comment markers: not code, not a statement boundary. */
export function isTrivia(t: MysqlToken): boolean {
  return t.type === 'comment' || t.type === 'hint' || t.type === 'exec-open' || t.type === 'exec-close';
}

export const isDigit = (c: number) => c >= 48 && c <= 57;
export const isXDigit = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
// The server's ident_map for a UTF-8 connection: letters, digits, _, $ and every non-ASCII character.
export const isIdent = (c: number) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c >= 128;
export const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
// `--` starts a comment only when followed by a space or control character (or the end).
export const endsDashDash = (c: number) => c < 0 || c <= 32 || c === 127;
export const isAlnumHost = (c: number) => isIdent(c) || c === 46; // hostname after @: [alnum . _ $]
