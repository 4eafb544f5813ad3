// Where a person's Slack account is found: one small function per lookup, so the day Slack ids move
// out of User (into an identity table of provider and external id) only this file changes for the
// App Home and the reminders.
import type { Db } from './client.js';

/** A hoop user as the Home tab and the reminders see them. */
export interface SlackViewer {
  id: string;
  email: string;
  isAdmin: boolean;
  groups: string[];
  active: boolean;
  slackUserId: string;
}

const viewerSelect = { id: true, email: true, isAdmin: true, groups: true, active: true, slackUserId: true } as const;

/** The hoop user linked to Slack account `slackUserId`, or null. */
export async function viewerBySlackId(db: Db, slackUserId: string): Promise<SlackViewer | null> {
  const u = await db.user.findUnique({ where: { slackUserId }, select: viewerSelect });
  return u ? { ...u, slackUserId } : null;
}

/** Hoop user `userId` with their linked Slack account, or null when none is linked. */
export async function viewerByUserId(db: Db, userId: string): Promise<SlackViewer | null> {
  const u = await db.user.findUnique({ where: { id: userId }, select: viewerSelect });
  return u?.slackUserId ? { ...u, slackUserId: u.slackUserId } : null;
}

/** The active users with a linked Slack account among `userIds` and the members of `groups`: hoop user id and Slack id. */
export async function linkedUsers(db: Db, opts: { userIds?: string[]; groups?: string[] }): Promise<{ id: string; slackUserId: string }[]> {
  const or = [...(opts.userIds?.length ? [{ id: { in: opts.userIds } }] : []), ...(opts.groups?.length ? [{ groups: { hasSome: opts.groups } }] : [])];
  if (or.length === 0) return [];
  const rows = await db.user.findMany({ where: { slackUserId: { not: null }, active: true, OR: or }, select: { id: true, slackUserId: true }, orderBy: { email: 'asc' } });
  return rows.map((r) => ({ id: r.id, slackUserId: r.slackUserId! }));
}
