// Keyset paging by id: the sweeps walk 10,000 rows 500 at a time instead of loading them at once.

/** Rows per page of a sweep. */
export const PAGE_SIZE = 500;
/** The ordering and size of one page (Prisma findMany arguments). */
export const PAGE = { orderBy: { id: 'asc' as const }, take: PAGE_SIZE };

/** Pages of a keyset walk by id: `fetch` gets the condition for rows after the last one seen. */
export async function* pages<T extends { id: string }>(fetch: (after: { id?: { gt: string } }) => Promise<T[]>): AsyncGenerator<T[]> {
  let after: { id?: { gt: string } } = {};
  for (;;) {
    const rows = await fetch(after);
    if (rows.length > 0) yield rows;
    if (rows.length < PAGE_SIZE) return;
    after = { id: { gt: rows[rows.length - 1].id } };
  }
}
