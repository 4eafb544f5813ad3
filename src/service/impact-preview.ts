// The impact preview of a write request (issue 14): a job planned with the request measures what it
// would change (src/execution: a dry run always rolled back, or the planner's estimate), stores it
// on the request, audits it, and has the channels show it (Slack updates the request message;
// Teams, which cannot edit a card, posts one). It never blocks the request: reviewers may decide
// before it arrives, and a preview that fails says why in its place.
import { previewFromJson, type ImpactPreview } from '../contracts/impact-preview.js';
import { recordAudit, SYSTEM_ACTOR } from '../db/audit.js';
import type { Db } from '../db/client.js';
import type { SqlExecutor } from '../execution/index.js';
import type { Logger } from '../logger.js';
import type { NotifierRegistry } from '../notify/registry.js';
import type { Classifier } from '../sql/classifier.js';
import { classifyFor, maskingOf } from './connection-policy.js';
import type { AfterCommit, Outbox } from './review-effects.js';

/** What a request stores while its preview is measured. */
export const PENDING_PREVIEW: ImpactPreview = { state: 'pending', reason: null, error: null, statements: [], at: null, tookMs: null };

/** The one preview job of a request. */
export const previewJob = (reviewId: string) => ({ name: 'review.preview', payload: { reviewId }, jobId: `preview-${reviewId}` }) as const;

/** True when a new request on a connection gets a preview: it waits for review, previews are on, and it writes rows. */
export function wantsPreview(connection: { previewMode: string }, statements: readonly { kind: string; command: string }[]): boolean {
  return connection.previewMode !== 'off' && statements.some((s) => s.kind === 'write');
}

export interface ImpactPreviewOptions {
  db: Db;
  executor: SqlExecutor;
  classifier: Classifier;
  outbox: Outbox;
  afterCommit: AfterCommit;
  notifiers: NotifierRegistry;
  log: Logger;
}

/** `review.preview`: measures a request's effect once, if it still waits to be measured. */
export function createImpactPreview({ db, executor, classifier, outbox, afterCommit, notifiers, log }: ImpactPreviewOptions) {
  return async function previewReview(reviewId: string): Promise<ImpactPreview | null> {
    const row = await db.review.findUnique({
      where: { id: reviewId },
      select: {
        status: true,
        kind: true,
        preview: true,
        input: true,
        connection: { select: { name: true, url: true, previewMode: true, previewTimeoutMs: true, previewLockTimeoutMs: true, maskColumns: true, maskDetectors: true, allowFunctions: true, plugins: true } },
      },
    });
    // Measured already (a retry, a second job), or nothing to measure.
    if (!row || row.kind !== 'command' || previewFromJson(row.preview)?.state !== 'pending') return null;
    const c = row.connection;
    let preview: ImpactPreview;
    if (row.status !== 'PENDING') {
      preview = { state: 'none', reason: 'the request was decided before its effect was measured', error: null, statements: [], at: new Date().toISOString(), tookMs: 0 };
    } else {
      // Classified again: what is stored is a summary, without each statement's text and calls.
      const classification = await classifyFor(classifier, c, row.input);
      preview = await executor.preview(
        { name: c.name, url: c.url },
        {
          statements: classification.statements,
          parsed: classification.parsed,
          dryRun: c.previewMode === 'auto',
          statementTimeoutMs: c.previewTimeoutMs,
          lockTimeoutMs: c.previewLockTimeoutMs,
          masking: maskingOf(c),
          allowFunctions: c.allowFunctions,
        },
      );
    }
    const stored = await db.$transaction(async (tx) => {
      // Only over a pending preview: two runs of the job store one.
      const n = await tx.$executeRaw`UPDATE "Review" SET preview = ${JSON.stringify(preview)}::jsonb WHERE id = ${reviewId}::uuid AND preview->>'state' = 'pending'`;
      if (n === 0) return false;
      await recordAudit(tx, SYSTEM_ACTOR, 'review.previewed', reviewId, {
        state: preview.state,
        reason: preview.reason,
        statements: preview.statements.map((s) => ({ index: s.index, command: s.command, table: s.table, rows: s.rows, estimate: s.estimate })),
        tookMs: preview.tookMs,
      });
      await outbox.write(tx, reviewId, notifiers.jobsOfPreview(c.plugins, reviewId));
      return true;
    });
    if (!stored) return null;
    log.debug({ reviewId, state: preview.state, tookMs: preview.tookMs }, 'impact preview stored');
    await afterCommit(reviewId);
    return preview;
  };
}
