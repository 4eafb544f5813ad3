// What an approval binds to (issue 14), shared by a vote and a correction's acceptance.
import { rowBoundOf } from '../core/row-bound.js';
import { commandSha256 } from '../core/output-digest.js';
import { previewFromJson } from '../contracts/impact-preview.js';
import { dialectOf } from '../sql/types.js';
import type { Transition } from '../core/review-state.js';
import type { Tx } from '../db/client.js';
import type { ReviewRow } from '../db/reviews.js';
import { AppError, ErrorCode } from '../errors.js';

/**
 * What an approval binds to (issue 14): the input's digest on each group it decides, with its row
 * limit; at the last approval, the run's bound (the dry run's counts, the reviewers' limits).
 * Refuses a row limit the gateway cannot enforce.
 */
export async function bindApproval(tx: Tx, row: ReviewRow, t: Transition, input: { maxRows?: number }): Promise<{ sha: string; extra: { rowBound?: object } }> {
  const sha = commandSha256(row.input);
  const last = t.next.status === 'APPROVED' && row.kind === 'command';
  if (input.maxRows === undefined && !last) return { sha, extra: {} };
  // One read of what the connection says of limits, for the check and the bound alike.
  const c = await tx.connection.findUniqueOrThrow({ where: { id: row.connectionId }, select: { url: true, rowTolerancePct: true } });
  if (input.maxRows !== undefined) {
    if (row.kind !== 'command') throw new AppError(ErrorCode.BadInput, 'A row limit applies to a command; an access window has none. Approve it without "maxRows".');
    if (dialectOf(c.url) !== 'postgres') throw new AppError(ErrorCode.BadInput, `A row limit is enforced on PostgreSQL connections only (a rollback on ${row.connection.name} cannot undo every statement); approve without "maxRows".`);
    // PostgreSQL counts the rows a transaction changed, but not those a TRUNCATE empties.
    const statements = (row.classification as { statements?: { command: string }[] } | null)?.statements ?? [];
    if (statements.some((s) => s.command.toUpperCase() === 'TRUNCATE')) throw new AppError(ErrorCode.BadInput, 'A row limit cannot be enforced on a TRUNCATE (the rows it empties are not counted); approve without "maxRows".');
  }
  if (!last) return { sha, extra: {} };
  const limits = [...row.groups.filter((g) => g.status === 'APPROVED').map((g) => g.maxRows), input.maxRows ?? null];
  const bound = rowBoundOf({ inputSha256: sha, preview: previewFromJson(row.preview), tolerancePct: c.rowTolerancePct, limits });
  return { sha, extra: { rowBound: bound as unknown as object } };
}

