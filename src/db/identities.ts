// A person's accounts on other systems are Identity rows (provider, externalId), one per provider
// and user. These helpers bring a user's account of one provider with the user, so the places that
// show it (the API's `slackUserId`, a review's `requesterSlackId`) read it the same way.
import type { Db, Prisma, Tx } from './client.js';

/** The systems a hoop user can have an account on. */
export type IdentityProvider = 'slack' | 'teams' | 'oidc';

/** The part of a user select (or include) that brings their account on `provider`, if any. */
function identityOf(provider: IdentityProvider) {
  return { identities: { where: { provider }, select: { externalId: true } } } satisfies Prisma.UserSelect;
}

/** The Slack account (Identity 'slack'), as a user select or include brings it. */
export const slackIdentity = identityOf('slack');

/** The account id a user loaded with `identityOf(...)` has there; null when none. */
export function externalIdOf(user: { identities: { externalId: string }[] }): string | null {
  return user.identities[0]?.externalId ?? null;
}

/** The user whose account on `provider` is `externalId`, or null. */
export async function userByIdentity(db: Db | Tx, provider: IdentityProvider, externalId: string) {
  const row = await db.identity.findUnique({ where: { provider_externalId: { provider, externalId } }, include: { user: { include: { ...identityOf(provider), ...ownerEmail } } } });
  return row?.user ?? null;
}

/** What to include with a user to know whether it is an agent and whose (see `kindOf`). */
export const ownerEmail = { owner: { select: { email: true } } } as const;

/** A person or an agent, and an agent's owner, as an authenticated user carries them. Anything not 'agent' is a person. */
export function kindOf(user: { kind: string; owner?: { email: string } | null }): { kind: 'person' | 'agent'; owner: string | null } {
  return user.kind === 'agent' ? { kind: 'agent', owner: user.owner?.email ?? null } : { kind: 'person', owner: null };
}
