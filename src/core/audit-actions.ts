// Every action name an audit event can carry. The one writer (src/db/audit.ts) takes only these,
// so a misspelt action does not compile, and the web app, the CLI and the exports can list and
// filter by the same names. Pure: imports nothing.

/** Every audit action the code writes, grouped by what it is about. */
export const AUDIT_ACTIONS = [
  // Requests (reviews) and their lifecycle.
  'review.created',
  'review.blocked',
  'review.auto_approved',
  'review.no_review_required',
  'review.group_approved',
  'review.approved',
  'review.rejected',
  'review.vote_denied',
  // A reviewer's "Suggest a change" (on the original and on its correction), and the requester's consent.
  'review.correction_suggested',
  'review.correction_accepted',
  'review.expired',
  'review.reminded',
  // What a write would change, measured before review (issue 14); a run stopped at its approved row bound.
  'review.previewed',
  'review.bound_exceeded',
  'review.execution_started',
  'review.executed',
  'review.failed',
  // Access windows (Just-in-Time access): granted, ended on time, revoked early.
  'review.access_granted',
  'review.access_ended',
  'review.access_revoked',
  'review.revoke_denied',
  // Reads that run without review (src/db/read-audit.ts).
  'read.started',
  'read.executed',
  'read.failed',
  'read.held',
  'read.discarded',
  // Users, identities and sign-in.
  'user.created',
  'user.updated',
  'agent.created',
  'user.bootstrap_admin',
  'user.bootstrap_admin_removed',
  'user.slack_linked',
  'user.slack_unlinked',
  'user.slack_link_refused',
  'identity.linked',
  'identity.unlinked',
  'slack.other_workspace_refused',
  'web.sign_in',
  'web.sign_out',
  // API keys, connections, webhooks.
  'api_key.created',
  'api_key.revoked',
  'api_key.reassigned',
  'connection.created',
  'connection.updated',
  'webhook.created',
  'webhook.updated',
  'webhook.secret_rotated',
  'webhook.deleted',
  'webhook.delivery_replayed',
  'webhook.disabled',
  // Exports of the trail and of the requests (who, which filters, how many rows).
  'audit.exported',
  'reviews.exported',
] as const;

/** One audit action name. */
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

const known: ReadonlySet<string> = new Set(AUDIT_ACTIONS);

/** True when `name` is an action the code writes (for filters given by people). */
export function isAuditAction(name: string): name is AuditAction {
  return known.has(name);
}
