// Where a person's Slack account is found for the App Home and the reminders: one small function
// per lookup over the Identity rows (provider 'slack').
import type { Db } from './client.js';
import { externalIdOf, slackIdentity } from './identities.js';

/** A hoop user as the Home tab and the reminders see them. */
export interface SlackViewer {
  id: string;
  email: string;
  isAdmin: boolean;
  groups: string[];
  active: boolean;
  slackUserId: string;
}

const viewerSelect = { id: true, email: true, isAdmin: true, groups: true, active: true, ...slackIdentity } as const;

/** The hoop user linked to Slack account `slackUserId`, or null. */
export async function viewerBySlackId(db: Db, slackUserId: string): Promise<SlackViewer | null> {
  const row = await db.identity.findUnique({ where: { provider_externalId: { provider: 'slack', externalId: slackUserId } }, select: { user: { select: viewerSelect } } });
  if (!row) return null;
  const { identities: _, ...u } = row.user;
  return { ...u, slackUserId };
}

/** Hoop user `userId` with their linked Slack account, or null when none is linked. */
export async function viewerByUserId(db: Db, userId: string): Promise<SlackViewer | null> {
  const row = await db.user.findUnique({ where: { id: userId }, select: viewerSelect });
  const slackUserId = row && externalIdOf(row);
  if (!row || !slackUserId) return null;
  const { identities: _, ...u } = row;
  return { ...u, slackUserId };
}

/**
 * The active users with a linked Slack account among `userIds` and the members of `groups`: hoop
 * user id and Slack id. Members are people: an agent in a group never decides, so it gets no
 * request to decide.
 */
export async function linkedUsers(db: Db, opts: { userIds?: string[]; groups?: string[] }): Promise<{ id: string; slackUserId: string }[]> {
  const or = [...(opts.userIds?.length ? [{ id: { in: opts.userIds } }] : []), ...(opts.groups?.length ? [{ groups: { hasSome: opts.groups }, kind: 'person' }] : [])];
  if (or.length === 0) return [];
  const rows = await db.identity.findMany({
    where: { provider: 'slack', user: { active: true, OR: or } },
    select: { userId: true, externalId: true },
    orderBy: { user: { email: 'asc' } },
  });
  return rows.map((r) => ({ id: r.userId, slackUserId: r.externalId }));
}
