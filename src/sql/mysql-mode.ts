// The server settings that change how MySQL/MariaDB reads SQL text: two sql_mode flags, and the
// server's flavour and version (which decide whether a versioned comment /*!NNNNN … */ is code).

/** The sql_mode flags that change how strings and quoted names are read. */
export interface MysqlMode {
  /** A backslash in a string is an ordinary character (`'a\'` is a complete string). */
  noBackslashEscapes?: boolean;
  /** `"…"` is a quoted identifier, not a string. */
  ansiQuotes?: boolean;
}

/** A server's flavour and version as MYSQL_VERSION_ID (10.11.19 → 101119, 8.0.36 → 80036). */
export interface MysqlServer {
  mariadb: boolean;
  version: number;
}

export interface MysqlLexOptions extends MysqlMode {
  /** The server, when known; otherwise every executable comment's body is read as code. */
  server?: MysqlServer;
}

/** What the gateway assumes when it classifies at submit, without asking the server: the defaults. */
export const DEFAULT_MYSQL_MODE: Readonly<Required<MysqlMode>> = { noBackslashEscapes: false, ansiQuotes: false };

export interface MysqlModeCheck {
  mode: Required<MysqlMode>;
  /** True when the server reads SQL differently from what `assumed` describes (or in a way the gateway does not model). */
  differs: boolean;
  /** One sentence per difference, for people. */
  reasons: string[];
}

// Modes with a grammar of their own: MariaDB's Oracle mode (PL/SQL blocks, different quoting) and
// MSSQL mode ([name] is a quoted identifier). The gateway's lexer does not model them.
const FOREIGN_GRAMMAR: Record<string, string> = {
  ORACLE: 'ORACLE (MariaDB then reads PL/SQL-style SQL with its own grammar)',
  MSSQL: 'MSSQL (MariaDB then reads [name] as a quoted identifier)',
};

// ANSI_QUOTES and the combination modes that set it.
const ANSI_QUOTES_MODES = ['ANSI_QUOTES', 'ANSI', 'DB2', 'MAXDB', 'MSSQL', 'ORACLE', 'POSTGRESQL'];

/** The sql_mode flags under which the server reads literals differently from the gateway's parser (combination modes included). */
export const LEXICAL_MODES: readonly string[] = ['NO_BACKSLASH_ESCAPES', ...ANSI_QUOTES_MODES];

/** The mode flags in a server's `@@sql_mode`, and whether they differ from `assumed` (the defaults). */
export function mysqlModeFrom(sqlMode: string, assumed: MysqlMode = DEFAULT_MYSQL_MODE): MysqlModeCheck {
  const flags = new Set(sqlMode.toUpperCase().split(',').map((f) => f.trim()).filter(Boolean));
  // Combination modes list ANSI_QUOTES themselves when read back, but a raw setting may not.
  const ansiQuotes = ANSI_QUOTES_MODES.some((f) => flags.has(f));
  const mode = { noBackslashEscapes: flags.has('NO_BACKSLASH_ESCAPES'), ansiQuotes };
  const reasons: string[] = [];
  if (mode.noBackslashEscapes !== (assumed.noBackslashEscapes ?? false)) {
    reasons.push(
      mode.noBackslashEscapes
        ? "The server's sql_mode has NO_BACKSLASH_ESCAPES: a backslash in a string is an ordinary character there, but the command was classified assuming it escapes."
        : "The server's sql_mode lacks NO_BACKSLASH_ESCAPES: a backslash in a string escapes the next character there, but the command was classified assuming it does not.",
    );
  }
  if (mode.ansiQuotes !== (assumed.ansiQuotes ?? false)) {
    reasons.push(
      mode.ansiQuotes
        ? 'The server\'s sql_mode has ANSI_QUOTES: "…" is a quoted name there, but the command was classified reading it as a string.'
        : 'The server\'s sql_mode lacks ANSI_QUOTES: "…" is a string there, but the command was classified reading it as a quoted name.',
    );
  }
  for (const [flag, what] of Object.entries(FOREIGN_GRAMMAR)) {
    if (flags.has(flag)) reasons.push(`The server's sql_mode has ${what}, which the gateway's classifier does not read.`);
  }
  return { mode, differs: reasons.length > 0, reasons };
}

/**
 * Why a command classified as a read under `assumed` must not run without review on a server whose
 * `@@sql_mode` is `sqlMode`, or null when it may.
 */
export function mysqlAutoRunRefusal(sqlMode: string, assumed: MysqlMode = DEFAULT_MYSQL_MODE): string | null {
  const check = mysqlModeFrom(sqlMode, assumed);
  if (!check.differs) return null;
  return `${check.reasons.join(' ')} So it does not run without review; a reviewer must approve it (or an admin aligns the server's sql_mode so reads can run at once).`;
}

/** The server from `SELECT VERSION()` ('10.11.19-MariaDB-0+deb12u1', '8.0.36'), or undefined. */
export function mysqlServerFrom(version: string): MysqlServer | undefined {
  const mariadb = /mariadb/i.test(version);
  // Old MariaDB clients see a "5.5.5-" prefix before the real version.
  const m = /^(?:5\.5\.5-)?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  if (!m) return undefined;
  return { mariadb, version: Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]) };
}
