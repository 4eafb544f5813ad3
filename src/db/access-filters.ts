// The access rules of core/access.ts and service/review-access.ts as Prisma filters, so a page of a
// list holds `take` rows the user may see. Kept next to each other: a change to a rule changes both.
import type { Prisma } from './client.js';

interface Viewer {
  id: string;
  isAdmin: boolean;
  groups: string[];
}

/** canUseConnection as a query: admins all; others those with no allowed groups, or one of theirs (as member or reviewer). */
export function usableConnectionsWhere(user: Viewer): Prisma.ConnectionWhereInput {
  return user.isAdmin ? {} : { OR: [{ allowedGroups: { isEmpty: true } }, { allowedGroups: { hasSome: user.groups } }, { reviewers: { hasSome: user.groups } }] };
}

/** visibleTo as a query: their own requests, their groups' reviews and what ran under their groups' access grants, on connections they may use. */
export function visibleReviewsWhere(user: Viewer): Prisma.ReviewWhereInput {
  const theirGroups = { groups: { some: { group: { in: user.groups } } } };
  // An agent's owner answers for it: they see its requests (and accept a change made to one).
  return user.isAdmin ? {} : { OR: [{ requesterId: user.id }, { requester: { ownerId: user.id } }, theirGroups, { grant: theirGroups }], connection: usableConnectionsWhere(user) };
}
