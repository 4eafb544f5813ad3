// What can make the MySQL/MariaDB server read a statement differently from a plain SQL parser, and
// the sentence reviewers see for each. A statement with any of these is `unknown`: never auto-run.

export type MysqlHazardKind =
  | 'executable-comment' // /*! … */ (or a versioned one this server runs)
  | 'versioned-comment' // /*!NNNNN … */ on a server of unknown version
  | 'versioned-comment-skipped' // /*!NNNNN … */ this server skips
  | 'mariadb-comment' // /*M! … */
  | 'minus-minus' // --1: two minus signs, not a comment
  | 'optimizer-hint' // /*+ … */
  | 'delimiter' // a mysql client DELIMITER line
  | 'unreadable' // the server's lexer gives up: syntax error
  | 'after-empty' // follows an empty statement (;;), where the server stops with a syntax error
  | 'compound' // BEGIN NOT ATOMIC … END, IF …, CREATE PROCEDURE …: the server reads past ;
  | 'after-compound'
  | 'hidden' // a plain SQL parser would read part of it as a comment or a string
  | 'sql-mode'; // another sql_mode would split or quote it differently

export interface MysqlHazard {
  kind: MysqlHazardKind;
  /** Offset in the input where it starts. */
  at: number;
  message: string;
}

/** 50700 → "5.7.0", 101119 → "10.11.19". */
export function describeVersion(version: number): string {
  return `${Math.floor(version / 10000)}.${Math.floor(version / 100) % 100}.${version % 100}`;
}

/** The first word of an excerpt, at most 16 characters, for a sentence. */
function shortly(excerpt: string): string {
  const word = excerpt.split(/\s/)[0];
  return word.length > 16 ? `${word.slice(0, 16)}…` : word;
}

/** The sentence reviewers see for a hazard found at `excerpt` (`detail`: a version or what is wrong). */
export function hazardText(kind: MysqlHazardKind, excerpt: string, detail = ''): string {
  const x = shortly(excerpt);
  switch (kind) {
    case 'executable-comment':
      return `contains the MySQL executable comment ${x} … */, which the server runs as code; if it should run, write it without the comment markers so it can be classified`;
    case 'versioned-comment':
      return `contains the MySQL versioned comment ${x} … */, which the server runs as code or skips depending on its version (this one is for ${detail} and later); write it without the comment markers so it can be classified`;
    case 'versioned-comment-skipped':
      return `contains the versioned comment ${x} … */, which this server skips (it is for version ${detail} and later) while newer servers run it as code`;
    case 'mariadb-comment':
      return `contains the MariaDB executable comment ${x} … */, which MariaDB runs as code; if it should run, write it without the comment markers so it can be classified`;
    case 'minus-minus':
      return `contains ${x} with no space after --, which the server reads as two minus signs, not as a comment; put a space after -- if a comment is meant`;
    case 'optimizer-hint':
      return `contains the optimizer hint ${x} … */, which the server interprets (a hint can change settings for the statement)`;
    case 'delimiter':
      return 'contains a DELIMITER line, a mysql client command the server does not understand; send the statements themselves, separated by ;';
    case 'unreadable':
      return `the server cannot read ${detail} at ${x}: it stops this statement there with a syntax error`;
    case 'after-empty':
      return 'follows an empty statement (;;), where the server stops with a syntax error: it would never run this';
    case 'compound':
      return `is a compound statement or stored program (${detail}): the server reads it up to its END, past any ; inside, so where statements end cannot be checked here`;
    case 'after-compound':
      return 'follows a compound statement or stored program, so where this statement begins cannot be checked here';
    case 'hidden':
      return `a plain SQL parser reads this statement differently from the server (${detail})`;
    case 'sql-mode':
      return `where this statement or its strings end depends on the server's sql_mode: with ${detail}`;
  }
}
