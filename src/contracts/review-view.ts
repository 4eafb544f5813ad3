import { approvalProgress } from '../core/review-state.js';
import type { ReviewListRow } from '../db/review-list.js';
import type { ReviewRow } from '../db/reviews.js';
import { externalIdOf } from '../db/identities.js';

export interface GroupView {
  group: string;
  status: 'PENDING' | 'APPROVED' | 'REJECTED';
  reviewer: string | null;
  reviewerSlackId: string | null;
  decidedAt: string | null;
  reason: string | null;
}

/** A review as the API, the CLI and Slack show it. Never carries the connection URL. */
export interface ReviewView {
  id: string;
  connection: string;
  requester: string;
  requesterSlackId: string | null;
  input: string;
  reason: string | null;
  status: ReviewRow['status'];
  autoApproved: boolean;
  /** Ran at once, in a read-only transaction, because every statement was a read. */
  readOnly: boolean;
  /** The classifier's view: strictest kind, and per statement its kind, tables and warnings. */
  classification: ReviewClassification | null;
  groups: GroupView[];
  approvals: { approved: number; total: number };
  rejectReason: string | null;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  output: string | null;
  outputTruncated: boolean;
  commandTags: string[];
  rowsAffected: number | null;
  error: string | null;
}

export interface ReviewClassification {
  dialect: string;
  parsed: boolean;
  kind: string;
  statements: { index: number; kind: string; command: string; tables: string[]; warnings: string[] }[];
  /** In lists: how many statements there are (`statements` then holds only the first ones). */
  statementCount?: number;
}

/**
 * A review in a list: `output` only when asked for (`include=output`); `input` cut to a preview
 * unless asked for (`include=input`), with `inputTruncated` saying so.
 */
export type ReviewListView = Omit<ReviewView, 'output'> & { output?: string | null; inputTruncated: boolean };

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The view of a stored review. */
export function toReviewView(row: ReviewRow): ReviewView {
  return {
    id: row.id,
    connection: row.connection.name,
    requester: row.requester.email,
    requesterSlackId: externalIdOf(row.requester),
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
    })),
    approvals: approvalProgress(row.groups),
    rejectReason: row.rejectReason,
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
  return { ...view, ...(row.output === undefined ? {} : { output }), inputTruncated: row.inputTruncated };
}

/**
 * A connection restricted to some groups (allowedGroups) keeps its results out of places others
 * may read: a shared Slack channel, a Teams channel, a webhook receiver.
 */
export function restrictsOutput(connection: { allowedGroups: readonly string[] }): boolean {
  return connection.allowedGroups.length > 0;
}

/** `view` as a place others may read gets it: without the result when its connection restricts it. */
export function sharedView(view: ReviewView, connection: { allowedGroups: readonly string[] }): ReviewView & { outputWithheld?: true } {
  return restrictsOutput(connection) ? { ...view, output: null, error: null, commandTags: [], rowsAffected: null, outputWithheld: true } : view;
}
