// The pattern of a command, stored with its request so that analytics can count the most common
// commands: PostgreSQL's own fingerprint (libpg-query: the parse tree without its literals) for
// PostgreSQL, a hash of the normalised text (normalize-sql.ts) for MySQL and for input PostgreSQL
// cannot parse. Runs where the command is classified (on a worker thread for large inputs).
import { createHash } from 'node:crypto';
import { fingerprintSync } from 'libpg-query';
import { normalizeSql } from './normalize-sql.js';
import type { Dialect } from './types.js';

/** "text:" and the first 16 hex digits of the sha256 of the normalised text. */
export function textFingerprint(sql: string): string {
  return `text:${createHash('sha256').update(normalizeSql(sql)).digest('hex').slice(0, 16)}`;
}

/** The command's pattern; the PostgreSQL parser must be loaded (loadPostgresParser) for `postgres`. */
export function fingerprintOf(dialect: Dialect, sql: string): string {
  if (dialect === 'postgres') {
    try {
      return `pg:${fingerprintSync(sql)}`;
    } catch {
      // Not PostgreSQL it can parse: grouped by its text instead.
    }
  }
  return textFingerprint(sql);
}
