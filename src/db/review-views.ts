// Stored reviews as the API, the web app and every channel show them: the mapping from the
// database's rows to the views of src/contracts/review-view.ts.
import { approvalProgress } from '../core/review-state.js';
import { originFromJson } from '../contracts/request-origin.js';
import { previewFromJson } from '../contracts/impact-preview.js';
import { lineDiff } from '../core/line-diff.js';
import type { AccessView, CorrectionView, ReviewClassification, ReviewListView, ReviewView } from '../contracts/review-view.js';
import { externalIdOf, kindOf } from './identities.js';
import type { ReviewListRow } from './review-list.js';
import type { ReviewRow } from './reviews.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** An access request's window as the views show it; null for a command. */
function accessOf(row: Pick<ReviewRow, 'kind' | 'accessSec' | 'accessEndsAt' | 'accessRevokedAt' | 'accessRevokedBy' | 'status'>): AccessView | null {
  if (row.kind !== 'access') return null;
  return {
    durationSec: row.accessSec ?? 0,
    endsAt: iso(row.accessEndsAt),
    revokedAt: iso(row.accessRevokedAt),
    revokedBy: row.accessRevokedBy?.email ?? null,
    revokedBySlackId: row.accessRevokedBy ? externalIdOf(row.accessRevokedBy) : null,
    // As of this answer; a command checks the window itself when it is submitted.
    open: row.status === 'GRANTED' && !!row.accessEndsAt && row.accessEndsAt.getTime() > Date.now(),
  };
}

/** A correction's block of the views; null for any other request. */
function correctionOf(row: Pick<ReviewRow, 'suggestComment' | 'correctionOf' | 'suggestedBy' | 'acceptedAt' | 'input'>): CorrectionView | null {
  if (row.suggestComment === null) return null;
  return {
    of: row.correctionOf?.id ?? null,
    suggestedBy: row.suggestedBy?.email ?? null,
    suggestedBySlackId: row.suggestedBy ? externalIdOf(row.suggestedBy) : null,
    comment: row.suggestComment,
    diff: row.correctionOf ? lineDiff(row.correctionOf.input, row.input) : '',
    accepted: row.acceptedAt !== null,
  };
}

/** The view of a stored review. */
export function toReviewView(row: ReviewRow): ReviewView {
  return {
    id: row.id,
    connection: row.connection.name,
    requester: row.requester.email,
    requesterSlackId: externalIdOf(row.requester),
    requesterKind: kindOf(row.requester).kind,
    requesterOwner: kindOf(row.requester).owner,
    origin: originFromJson(row.origin),
    kind: row.kind === 'access' ? 'access' : 'command',
    access: accessOf(row),
    grantId: row.grantId,
    input: row.input,
    reason: row.reason,
    status: row.status,
    autoApproved: row.autoApproved,
    readOnly: row.readOnly,
    classification: (row.classification as unknown as ReviewClassification | null) ?? null,
    groups: row.groups.map((g) => ({
      group: g.group,
      status: g.status,
      reviewer: g.reviewer?.email ?? null,
      reviewerSlackId: g.reviewer ? externalIdOf(g.reviewer) : null,
      decidedAt: iso(g.decidedAt),
      reason: g.reason,
      maxRows: g.maxRows,
    })),
    approvals: approvalProgress(row.groups),
    preview: previewFromJson(row.preview),
    rejectReason: row.rejectReason,
    correction: correctionOf(row),
    correctedBy: row.corrections[0]?.id ?? null,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    decidedAt: iso(row.decidedAt),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    output: row.output,
    outputTruncated: row.outputTruncated,
    commandTags: row.commandTags,
    rowsAffected: row.rowsAffected,
    error: row.error,
  };
}

/** The view of a listed review (see ReviewListView). */
export function toReviewListView(row: ReviewListRow): ReviewListView {
  const { output, ...view } = toReviewView({ ...row, output: row.output ?? null });
  // A diff against a command cut for the list would show lines removed that were only cut: none then.
  const correction = view.correction && row.inputTruncated ? { ...view.correction, diff: '' } : view.correction;
  return { ...view, correction, ...(row.output === undefined ? {} : { output }), inputTruncated: row.inputTruncated };
}
