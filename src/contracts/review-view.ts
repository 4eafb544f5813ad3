import type { ReviewStatus } from '../core/review-state.js';
import type { VoteOptions } from '../core/vote-options.js';
import type { RequestOrigin } from './request-origin.js';
import type { ImpactPreview } from './impact-preview.js';

export type { RequestOrigin };

/**
 * An access request's window: `durationSec` asked for; once GRANTED, `endsAt`; `revokedAt` and
 * `revokedBy` when it was closed early. `open`: commands run under it now (as of the answer).
 */
export interface AccessView {
  durationSec: number;
  endsAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  /** The Slack user id of whoever revoked it, when they linked Slack (channels mention them). */
  revokedBySlackId: string | null;
  open: boolean;
}

export interface GroupView {
  group: string;
  status: 'PENDING' | 'APPROVED' | 'REJECTED';
  reviewer: string | null;
  reviewerSlackId: string | null;
  decidedAt: string | null;
  reason: string | null;
  /** An approval's row limit ("approve, at most N rows"; issue 14); null without one. */
  maxRows: number | null;
}

/** "at most 10 rows": an approval's row limit as every surface says it. */
export function rowLimitWords(n: number): string {
  return `at most ${n.toLocaleString('en-US')} ${n === 1 ? 'row' : 'rows'}`;
}

/**
 * A correction (a reviewer's "Suggest a change"): the request it corrects (`of`), who changed it and
 * why, the line diff from the original command to this one ('-' removed, '+' added, ' ' kept), and
 * whether its requester accepted it (it never runs before).
 */
export interface CorrectionView {
  of: string | null;
  suggestedBy: string | null;
  suggestedBySlackId: string | null;
  comment: string;
  diff: string;
  accepted: boolean;
}

/** A review as the API, the CLI and Slack show it. Never carries the connection URL. */
export interface ReviewView {
  id: string;
  connection: string;
  requester: string;
  requesterSlackId: string | null;
  /** 'agent' when a non-human identity made the request (issue 13). */
  requesterKind: 'person' | 'agent';
  /** The email of the person who owns the requesting agent; null for a person's request. */
  requesterOwner: string | null;
  /**
   * Where the request came from: client address, User-Agent, and the MCP client an agent acted
   * through. What the client said of itself, never who acted; null for requests from before it was
   * recorded.
   */
  origin: RequestOrigin | null;
  /** 'command' (run `input` once approved) or 'access' (a time window on the connection; `input` is empty). */
  kind: 'command' | 'access';
  /** An access request's window (null for a command). */
  access: AccessView | null;
  /** A command that ran without review under an access window: that window's request id. */
  grantId: string | null;
  input: string;
  reason: string | null;
  status: ReviewStatus;
  autoApproved: boolean;
  /** Ran at once, in a read-only transaction, because every statement was a read. */
  readOnly: boolean;
  /** The classifier's view: strictest kind, and per statement its kind, tables and warnings. */
  classification: ReviewClassification | null;
  groups: GroupView[];
  approvals: { approved: number; total: number };
  /**
   * What the command would change, measured before review (issue 14): rows per statement, counted
   * by a dry run or estimated by the planner, with a masked sample; null when none is made.
   */
  preview: ImpactPreview | null;
  rejectReason: string | null;
  /** This request is a correction of another (null: it is not). */
  correction: CorrectionView | null;
  /** The correction a reviewer made of this request (its id), if any. */
  correctedBy: string | null;
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

/**
 * What the one asking may decide on a request now (core/vote-options.ts: the vote rule itself,
 * asked per group): `canDecide`, the `groups` they may decide for (a vote names one of them when
 * there are several), the `approveGroups` among them they may also approve for, and `why` not, in
 * the words a vote would be refused with (null when they may approve and reject).
 */
export type ReviewViewer = VoteOptions & {
  /** They may revoke this access window now (an open window; a member of its groups, an admin, or its requester; never an agent). */
  canRevoke: boolean;
  /** They may suggest a change to this request now (whoever may reject it, never an agent nor its requester). */
  canSuggest: boolean;
  /** They may accept this correction now (its requester, while it is pending and not yet accepted). */
  canAccept: boolean;
};

/**
 * A review as one person asked for it (GET /api/reviews/:id, and the answers of approve and
 * reject): the review and what that person may decide. Never in lists, Slack, Teams or webhooks.
 */
export type ReviewViewForViewer = ReviewView & { viewer: ReviewViewer };

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

/**
 * A connection restricted to some groups (allowedGroups) keeps its results out of places others
 * may read: a shared Slack channel, a Teams channel, a webhook receiver.
 */
export function restrictsOutput(connection: { allowedGroups: readonly string[] }): boolean {
  return connection.allowedGroups.length > 0;
}

/**
 * `view` without the data of its impact preview — the sample rows and the database's words of a
 * failed dry run — as a result's output is withheld; the counts stay.
 */
export function withoutSamples(view: ReviewView): ReviewView {
  if (!view.preview || (!view.preview.error && !view.preview.statements.some((s) => s.sample))) return view;
  return { ...view, preview: { ...view.preview, error: null, statements: view.preview.statements.map(({ sample: _sample, ...s }) => s) } };
}

/**
 * A write's impact preview as its requester gets it. A dry run reads the target before anyone
 * approved anything, so where reads are reviewed (reviewMode 'all') its rows and counts would be a
 * read that skipped review: the requester then sees only that there is one, its reviewers all of it.
 */
export function previewForRequester<V extends Pick<ReviewView, 'preview'>>(view: V, connection: { reviewMode: string }): V {
  if (!view.preview || connection.reviewMode !== 'all' || view.preview.state === 'pending') return view;
  return { ...view, preview: { ...view.preview, reason: 'shown to the reviewers only: on this connection reads are reviewed, and a dry run reads the database', error: null, statements: [] } };
}

/** `view` as a place others may read gets it: without the result (and the preview's sample rows) when its connection restricts it. */
export function sharedView(view: ReviewView, connection: { allowedGroups: readonly string[] }): ReviewView & { outputWithheld?: true } {
  return restrictsOutput(connection) ? { ...withoutSamples(view), output: null, error: null, commandTags: [], rowsAffected: null, outputWithheld: true } : view;
}
