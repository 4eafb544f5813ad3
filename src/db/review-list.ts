// Lists of reviews, a page at a time and light by default: a list answer of 500 reviews with their
// outputs was 12 MB. Large fields are left in the database unless asked for: `output` is not read,
// `input` is cut to a preview and the classification to its first statements, in SQL.
import type { Db, Prisma } from './client.js';
import { reviewInclude, type ReviewRow } from './reviews.js';

export const INPUT_PREVIEW_CHARS = 200;
export const STATEMENTS_PREVIEW = 20;

/** Large fields to return whole. */
export interface ReviewListInclude {
  output: boolean;
  input: boolean;
  classification: boolean;
}

export interface ReviewListOptions {
  /** Rows to read (a page and one more, to know whether another page follows). */
  take: number;
  /** Start after this row in the list's order (newest first; the id breaks ties). */
  after?: { createdAt: Date; id: string };
  include: ReviewListInclude;
}

/** A listed review: `output` only when included; `input` cut (flagged) unless included. */
export type ReviewListRow = Omit<ReviewRow, 'output' | 'input'> & { output?: string | null; input: string; inputTruncated: boolean };

interface Preview {
  id: string;
  input: string;
  inputTruncated: boolean;
  classification: Prisma.JsonValue | null;
}

/** Reviews matching `where`, newest first, after `after`; see ReviewListOptions. */
export async function listReviews(db: Db, where: Prisma.ReviewWhereInput, opts: ReviewListOptions): Promise<ReviewListRow[]> {
  const { include, after } = opts;
  const keyset: Prisma.ReviewWhereInput = after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {};
  const rows = (await db.review.findMany({
    where: { AND: [where, keyset] },
    include: reviewInclude,
    omit: { output: !include.output, input: !include.input, classification: !include.classification },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: opts.take,
  })) as unknown as (Omit<ReviewRow, 'output' | 'input' | 'classification'> & Partial<Pick<ReviewRow, 'output' | 'input' | 'classification'>>)[];
  const previews = include.input && include.classification ? new Map<string, Preview>() : await loadPreviews(db, rows.map((r) => r.id));
  return rows.map((r) => {
    const p = previews.get(r.id);
    return {
      ...r,
      input: include.input ? r.input! : (p?.input ?? ''),
      inputTruncated: include.input ? false : (p?.inputTruncated ?? false),
      classification: include.classification ? (r.classification ?? null) : (p?.classification ?? null),
    };
  });
}

async function loadPreviews(db: Db, ids: string[]): Promise<Map<string, Preview>> {
  if (ids.length === 0) return new Map();
  const rows = await db.$queryRaw<Preview[]>`
    SELECT id::text AS id,
      left(input, ${INPUT_PREVIEW_CHARS}::int) AS input,
      char_length(input) > ${INPUT_PREVIEW_CHARS}::int AS "inputTruncated",
      CASE WHEN jsonb_typeof(classification->'statements') = 'array' THEN
        jsonb_set(classification, '{statements}', COALESCE((
          SELECT jsonb_agg(s.value ORDER BY s.n) FROM jsonb_array_elements(classification->'statements') WITH ORDINALITY AS s(value, n)
          WHERE s.n <= ${STATEMENTS_PREVIEW}::int), '[]'::jsonb))
        || jsonb_build_object('statementCount', jsonb_array_length(classification->'statements'))
      ELSE classification END AS classification
    FROM "Review" WHERE id = ANY(${ids}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r]));
}
