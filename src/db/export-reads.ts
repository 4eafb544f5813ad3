// The rows of the exports, read in keyset batches so that a year of events is never held in memory:
// each batch starts after the last row of the one before (audit events by id; reviews by
// (createdAt, id), oldest first), and the next batch is read only when the caller asks for it.
import { normalizeEmail } from '../core/email.js';
import type { Db } from './client.js';
import { Prisma } from './generated/client.ts';
import { reviewInclude, type ReviewRow } from './reviews.js';

/** Rows per batch at most: one query each. */
export const EXPORT_BATCH = 1000;
/**
 * About how many characters a batch may hold: a row can be large (a read's audit detail and a
 * review carry the command, up to 1 MiB; a review's output more), so after a batch of large rows
 * the next one takes fewer — 1,000 commands of 1 MiB would be a gigabyte.
 */
const BATCH_CHARS = 8 * 1024 * 1024;
const MIN_BATCH = 5;

/** The size of the next batch after one whose rows held `chars` characters in all. */
export function nextBatch(max: number, rows: number, chars: number): number {
  const perRow = Math.max(1, chars / rows);
  return Math.max(MIN_BATCH, Math.min(max, Math.floor(BATCH_CHARS / perRow)));
}

export interface ExportRange {
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

export interface AuditExportFilter extends ExportRange {
  /** Events of requests on this connection, reads made on it, and changes to it. */
  connection?: string;
  /** Events of requests this person made, and the reads they ran (email). */
  requester?: string;
  actions?: string[];
}

export interface ReviewExportFilter extends ExportRange {
  connection?: string;
  requester?: string;
  status?: ReviewRow['status'];
}

/** The audit table's columns as this schema has them (the hash chain's appear once its migration is in). */
export const AUDIT_EVENT_COLUMNS: readonly string[] = Object.values(Prisma.AuditEventScalarFieldEnum);

const range = ({ from, to }: ExportRange) => (from || to ? { createdAt: { ...(from ? { gte: from } : {}), ...(to ? { lt: to } : {}) } } : {});

/** The audit events matching `f`, oldest first, `batch` at a time; every column the table has. */
export async function* auditEventBatches(db: Db, f: AuditExportFilter, batch = EXPORT_BATCH) {
  const where: Prisma.AuditEventWhereInput[] = [range(f)];
  if (f.actions?.length) where.push({ action: { in: f.actions } });
  if (f.connection) {
    where.push({
      OR: [
        { review: { connection: { name: f.connection } } },
        // Reads run at once (and exports filtered on it) name it in their detail; its own changes as `name`.
        { reviewId: null, detail: { path: ['connection'], equals: f.connection } },
        { reviewId: null, action: { startsWith: 'connection.' }, detail: { path: ['name'], equals: f.connection } },
      ],
    });
  }
  if (f.requester) {
    const email = normalizeEmail(f.requester);
    where.push({ OR: [{ review: { requester: { email } } }, { reviewId: null, actor: email }] });
  }
  let after: bigint | undefined;
  let take = batch;
  for (;;) {
    const rows = await db.auditEvent.findMany({ where: { AND: [...where, after === undefined ? {} : { id: { gt: after } }] }, orderBy: { id: 'asc' }, take });
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < take) return;
    after = rows[rows.length - 1].id;
    take = nextBatch(batch, rows.length, rows.reduce((n, r) => n + (r.detail === null ? 0 : JSON.stringify(r.detail).length) + (r.userAgent?.length ?? 0), 0));
  }
}

/** The reviews matching `f` within `visible` (the caller's visibility rule), oldest first; `output` only when asked. */
export async function* reviewBatches(db: Db, f: ReviewExportFilter, visible: Prisma.ReviewWhereInput, withOutput: boolean, batch = EXPORT_BATCH) {
  const asked: Prisma.ReviewWhereInput = {
    ...range(f),
    ...(f.status ? { status: f.status } : {}),
    ...(f.connection ? { connection: { name: f.connection } } : {}),
    ...(f.requester ? { requester: { email: normalizeEmail(f.requester) } } : {}),
  };
  let after: { createdAt: Date; id: string } | undefined;
  let take = batch;
  for (;;) {
    const keyset: Prisma.ReviewWhereInput = after ? { OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] } : {};
    // AND, not a spread: the visibility filter has a `connection` condition of its own.
    const rows = (await db.review.findMany({
      where: { AND: [asked, visible, keyset] },
      include: reviewInclude,
      omit: { output: !withOutput, classification: true },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take,
    })) as (Omit<ReviewRow, 'output' | 'classification'> & { output?: string | null })[];
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < take) return;
    const last = rows[rows.length - 1];
    after = { createdAt: last.createdAt, id: last.id };
    take = nextBatch(batch, rows.length, rows.reduce((n, r) => n + r.input.length + (r.output?.length ?? 0) + (r.error?.length ?? 0), 0));
  }
}

export type ExportedReview = Omit<ReviewRow, 'output' | 'classification'> & { output?: string | null };
