// What POST /api/connections/:name/classify answers: how the gateway would treat a command on a
// connection, decided without creating, running or auditing anything. The CLI and MCP read it.
import type { ReviewClassification } from './review-view.js';

export interface ClassifyView {
  connection: string;
  /** The classifier's view, as a request would store it. */
  classification: ReviewClassification;
  /** The guardrail that would refuse it (no request would be made); null when none would. */
  blockedBy: { rule: string; message: string; statement: number } | null;
  /**
   * What submitting it would do, as the parser sees it: `blocked`; `read-only` (runs at once in a
   * read-only transaction); `direct` (runs at once without review); `review` (held for `groups`).
   */
  route: 'blocked' | 'read-only' | 'direct' | 'review';
  /** The reviewer groups that would each have to approve (empty unless route is review). */
  groups: string[];
  /** What this answer cannot know, in words (e.g. the database's catalog may still hold a read for review). */
  note: string;
}
