// Who sees a review and who acts on it: one rule for every path (get, list, vote, the Slack buttons).
import type { Actor } from '../core/review-state.js';
import type { AuthUser } from './auth-user.js';
import { canUseConnection } from '../core/access.js';

type Visibility = Parameters<typeof canSee>[1] & { connection: Parameters<typeof canUseConnection>[1] };

/** The core's view of who acts. */
export function actorOf(user: AuthUser): Actor {
  return { userId: user.id, isAdmin: user.isAdmin, groups: user.groups, kind: user.kind };
}

/**
 * Who may see a review: admins, its requester (and an agent's owner, who answers for it), and
 * members of its reviewer groups — for a command run under an access window, the window's reviewer
 * groups (they granted it, and see what it did).
 */
export function canSee(user: AuthUser, row: { requesterId: string; requester?: { ownerId: string | null }; groups: { group: string }[]; grant?: { groups: { group: string }[] } | null }): boolean {
  const groups = row.grant ? [...row.groups, ...row.grant.groups] : row.groups;
  return user.isAdmin || row.requesterId === user.id || (row.requester?.ownerId ?? null) === user.id || groups.some((g) => user.groups.includes(g.group));
}

/** One visibility rule for every path (get, vote, the Reject button): who may see it, on a connection they may use. */
export function visibleTo(user: AuthUser, row: Visibility): boolean {
  return canSee(user, row) && canUseConnection(user, row.connection);
}

