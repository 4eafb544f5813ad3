// The exports of the audit trail (admins) and of the reviews a person may see: a stream of JSONL
// or CSV read in keyset batches, and one audit event per export — who, which filters, the format
// and how many rows went out — written when the stream ends, whether it finished or was cut
// (a client that hung up, a database that failed).
import { recordAudit, type AuditContext } from '../db/audit.js';
import { visibleReviewsWhere } from '../db/access-filters.js';
import type { Db } from '../db/client.js';
import { auditEventBatches, reviewBatches, type AuditExportFilter, type ReviewExportFilter } from '../db/export-reads.js';
import { AppError, ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { auditColumns, reviewColumns } from '../export/export-columns.js';
import { exportText, type ExportFormat, type ExportProgress } from '../export/export-stream.js';
import type { AuthUser } from './auth-user.js';

/** Reviews per batch: each holds whole inputs (up to 1 MiB each), and outputs when asked for. */
const REVIEW_BATCH = 200;
const REVIEW_BATCH_WITH_OUTPUT = 20;

export interface ExportServiceOptions {
  db: Db;
  log: Logger;
}

/** An export ready to send: its first chunk was read (so a failing database is an error, not an empty file). */
export interface ExportBody {
  chunks: AsyncGenerator<string>;
}

export function createExportService({ db, log }: ExportServiceOptions) {
  /**
   * Wraps `text` so the export is audited once, when it ends; the first chunk is read at once so
   * errors before any row (the database away) reach the caller as errors.
   */
  async function started(text: AsyncGenerator<string>, progress: ExportProgress, ctx: AuditContext, action: 'audit.exported' | 'reviews.exported', detail: Record<string, unknown>): Promise<ExportBody> {
    let audited = false;
    const audit = async (complete: boolean, error?: unknown) => {
      if (audited) return;
      audited = true;
      const record = { ...detail, rows: progress.rows, complete, ...(error ? { error: String((error as Error).message ?? error).slice(0, 500) } : {}) };
      try {
        await db.$transaction((tx) => recordAudit(tx, ctx, action, null, record));
      } catch (e) {
        log.error({ err: e, action, record }, 'could not audit an export');
      }
    };
    let first: IteratorResult<string>;
    try {
      first = await text.next();
    } catch (error) {
      await audit(false, error);
      throw error;
    }
    async function* chunks(): AsyncGenerator<string> {
      let complete = false;
      let failure: unknown;
      try {
        if (!first.done) {
          yield first.value;
          yield* text;
        }
        complete = true;
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        // Reached on the last chunk, on an error, and when the response is destroyed (a hang-up).
        await text.return(undefined);
        await audit(complete, failure);
      }
    }
    return { chunks: chunks() };
  }

  const describe = (f: { from?: Date; to?: Date }) => ({ from: f.from?.toISOString() ?? null, to: f.to?.toISOString() ?? null });

  return {
    /** Every audit event matching `filter` (admins only), oldest first. */
    async audit(user: AuthUser, filter: AuditExportFilter, format: ExportFormat, ctx: AuditContext): Promise<ExportBody> {
      if (!user.isAdmin) throw new AppError(ErrorCode.Forbidden, 'Only an admin can export the audit trail; ask an admin of your gateway. (Your own requests: GET /api/reviews/export.)');
      const progress: ExportProgress = { rows: 0 };
      const text = exportText(auditEventBatches(db, filter), auditColumns(), format, progress);
      const detail = { ...describe(filter), connection: filter.connection ?? null, requester: filter.requester ?? null, actions: filter.actions ?? null, format };
      return started(text, progress, ctx, 'audit.exported', detail);
    },

    /** The reviews `user` may see (GET /api/reviews's rule) matching `filter`, oldest first; `output` only when asked. */
    async reviews(user: AuthUser, filter: ReviewExportFilter, withOutput: boolean, format: ExportFormat, ctx: AuditContext): Promise<ExportBody> {
      const progress: ExportProgress = { rows: 0 };
      const batches = reviewBatches(db, filter, visibleReviewsWhere(user), withOutput, withOutput ? REVIEW_BATCH_WITH_OUTPUT : REVIEW_BATCH);
      const text = exportText(batches, reviewColumns(withOutput), format, progress);
      const detail = { ...describe(filter), connection: filter.connection ?? null, requester: filter.requester ?? null, status: filter.status ?? null, output: withOutput, format };
      return started(text, progress, ctx, 'reviews.exported', detail);
    },
  };
}

export type ExportService = ReturnType<typeof createExportService>;
