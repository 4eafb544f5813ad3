// Keyset paging for list endpoints: `limit` and an opaque `cursor`; answers carry `nextCursor`
// (null on the last page). A cursor names the last row seen, never an offset, so rows added or
// removed meanwhile neither repeat nor vanish.
import { AppError, ErrorCode } from '../errors.js';
import { isUuid } from '../db/reviews.js';

/** The position after which the next page starts, as the database sorts it. */
export type CursorParts = readonly string[];

/** An opaque cursor for `list` ("reviews", "users", ...) after the row with these key parts. */
export function encodeCursor(list: string, parts: CursorParts): string {
  return Buffer.from(JSON.stringify({ v: 1, l: list, k: parts })).toString('base64url');
}

/**
 * The key parts of a cursor this gateway issued for `list`, checked with `valid` (one check per
 * part); BadInput for anything else, so a forged or stale cursor never reaches a query.
 */
export function decodeCursor(list: string, cursor: string, valid: readonly ((part: string) => boolean)[]): string[] {
  const bad = () =>
    new AppError(ErrorCode.BadInput, `"cursor" is not one this gateway issued for ${list}: pass the nextCursor of the previous page unchanged, or leave it out to start at the first page.`);
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const c = decoded as { v?: unknown; l?: unknown; k?: unknown };
  if (!c || c.v !== 1 || c.l !== list || !Array.isArray(c.k) || c.k.length !== valid.length) throw bad();
  const parts = c.k as unknown[];
  if (!parts.every((p, i) => typeof p === 'string' && valid[i](p))) throw bad();
  return parts as string[];
}

/** One page of `rows` fetched with `limit + 1`: the page and the cursor after it, if more exist. */
export function pageOf<T>(list: string, rows: T[], limit: number, keyOf: (row: T) => CursorParts): { page: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { page: rows, nextCursor: null };
  const page = rows.slice(0, limit);
  return { page, nextCursor: encodeCursor(list, keyOf(page[page.length - 1])) };
}

export const MAX_PAGE = 200;

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** The parts of a (createdAt, id) cursor: an ISO time to the millisecond, and a UUID. */
export const TIME_ID_CURSOR: readonly ((part: string) => boolean)[] = [(s) => ISO_TIME.test(s) && !Number.isNaN(Date.parse(s)), isUuid];

/** `limit` and `cursor` as pagingParams checks them. */
export type PageQuery = { limit?: number; cursor?: string };

/** The query spec of `limit` and `cursor` (see query-params.ts). */
export function pagingParams(defaultLimit: number) {
  return {
    limit: { type: 'int', min: 1, max: MAX_PAGE, hint: `rows per page, 1 to ${MAX_PAGE}, default ${defaultLimit}` },
    cursor: { type: 'string', maxLength: 1000, hint: 'the nextCursor of the previous page' },
  } as const;
}

/**
 * One page of a list sorted by a single non-empty key (a name, an email): reads `limit` (default
 * MAX_PAGE) and `cursor` from the checked query, fetches `limit + 1` after the cursor's key.
 */
export async function keyPage<T>(
  list: string,
  query: PageQuery,
  fetch: (page: { take: number; after?: string }) => Promise<T[]>,
  keyOf: (row: T) => string,
): Promise<{ page: T[]; nextCursor: string | null }> {
  const limit = query.limit ?? MAX_PAGE;
  const after = query.cursor ? decodeCursor(list, query.cursor, [(s) => s.length > 0])[0] : undefined;
  return pageOf(list, await fetch({ take: limit + 1, after }), limit, (row) => [keyOf(row)]);
}
