// Who a single sign-on is: the hoop user whose email the provider verified (created, without
// groups, when OIDC_AUTO_CREATE allows), with their groups taken from the provider's groups claim
// when it sends one, and the provider account recorded as the user's Identity 'oidc'. Every
// change (user created, groups replaced, account linked) is audited in the same transaction.
//
// Groups: when the claim is present it is the truth, so it replaces the user's groups at every
// sign-in (a person removed from a group at the provider loses it here at their next sign-in); when
// the provider sends no such claim the groups an admin gave stay as they are.
import { recordAudit, type AuditContext } from '../db/audit.js';
import type { Db, Tx } from '../db/client.js';
import { AppError, ErrorCode } from '../errors.js';
import { EMAIL, GROUP, normalizeEmail } from './user-fields.js';
import { AGENT_EMAIL_DOMAIN } from '../core/agents.js';

/** What the provider said about who signed in (checked by openid-client before it gets here). */
export interface SsoIdentity {
  issuer: string;
  subject: string;
  claims: Record<string, unknown>;
}

export interface SsoSignInOptions {
  autoCreate: boolean;
  /** OIDC_GROUPS_CLAIM: a claim name or a dotted path into the claims. */
  groupsClaim: string;
}

/** The user a sign-in is for, as it stands after the sign-in's changes. */
export interface SsoUser {
  id: string;
  email: string;
  isAdmin: boolean;
  groups: string[];
}

/** More entries than this in a groups claim is a misconfigured claim, not someone's groups. */
const MAX_CLAIM_GROUPS = 1000;

function refused(message: string): AppError {
  return new AppError(ErrorCode.Unauthenticated, message);
}

/** The Identity row's externalId: a subject is unique only at its issuer. */
export function oidcExternalId(issuer: string, subject: string): string {
  return `${issuer}#${subject}`;
}

/** The value at `path`: the claim of that exact name when there is one (names may hold dots), else the dotted path. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let v: unknown = claims;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * The groups the claim names: undefined when the claim is absent; names hoop cannot use as a group
 * (spaces, slashes...) are left out and reported, so the audit event shows them.
 */
export function groupsFromClaim(claims: Record<string, unknown>, path: string): { groups: string[]; ignored: string[] } | undefined {
  const value = claimAt(claims, path);
  if (value === undefined || value === null) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((g) => typeof g !== 'string')) {
    throw refused(`The sign-in provider's "${path}" claim (OIDC_GROUPS_CLAIM) is not a list of group names, so your groups cannot be read. Tell an admin.`);
  }
  if (list.length > MAX_CLAIM_GROUPS) {
    throw refused(`The sign-in provider's "${path}" claim lists ${list.length} groups, more than ${MAX_CLAIM_GROUPS}; an admin should have the provider send only the groups hoop uses.`);
  }
  const names = [...new Set((list as string[]).map((g) => g.trim()).filter(Boolean))];
  return { groups: names.filter((g) => GROUP.test(g)).sort(), ignored: names.filter((g) => !GROUP.test(g)).map((g) => g.slice(0, 100)) };
}

/** The verified, normalised email of the identity; refused in words otherwise. */
function verifiedEmail(claims: Record<string, unknown>): string {
  const raw = claims.email;
  if (typeof raw !== 'string' || !EMAIL.test(normalizeEmail(raw))) {
    throw refused('The sign-in provider did not send your email address, which is how hoop knows you. An admin should let it share the email (the "email" scope in OIDC_SCOPES).');
  }
  if (claims.email_verified !== true) {
    throw refused(`The sign-in provider has not verified the email ${normalizeEmail(raw)}. Verify it there (or ask its admin to), then sign in again.`);
  }
  // Agents sign in with their API key only: an identity provider cannot speak for one (nor make a person look like one).
  if (normalizeEmail(raw).endsWith(`@${AGENT_EMAIL_DOMAIN}`)) {
    throw refused(`${normalizeEmail(raw)} is an agent's address (@${AGENT_EMAIL_DOMAIN}); agents cannot sign in through single sign-on. Sign in with your own email.`);
  }
  return normalizeEmail(raw);
}

function sameGroups(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((g, i) => g === [...b].sort()[i]);
}

/** Single sign-on's use case over the database. */
export function createSsoSignIn(db: Db, options: SsoSignInOptions) {
  /** The user `identity` signs in as, after creating them, replacing their groups and linking the account as needed. */
  async function signIn(identity: SsoIdentity, ctx: Omit<AuditContext, 'actorId' | 'actor'>): Promise<SsoUser> {
    const email = verifiedEmail(identity.claims);
    const claimed = groupsFromClaim(identity.claims, options.groupsClaim);
    try {
      return await db.$transaction((tx) => apply(tx, identity, email, claimed, ctx));
    } catch (error) {
      // Two first sign-ins of one new person at once: one created the user; the other finds it now.
      if ((error as { code?: string }).code !== 'P2002') throw error;
      return db.$transaction((tx) => apply(tx, identity, email, claimed, ctx));
    }
  }

  async function apply(tx: Tx, identity: SsoIdentity, email: string, claimed: ReturnType<typeof groupsFromClaim>, base: Omit<AuditContext, 'actorId' | 'actor'>): Promise<SsoUser> {
    // The provider's issuer and subject come with `base.idp` into every event's detail.
    const via = { via: 'oidc' };
    let user = await tx.user.findUnique({ where: { email } });
    if (!user) {
      if (!options.autoCreate) {
        throw refused(`No hoop user has the email ${email}. Ask an admin to add you (hoop admin create user ${email}), then sign in again.`);
      }
      user = await tx.user.create({ data: { email, name: typeof identity.claims.name === 'string' ? identity.claims.name.trim().slice(0, 200) || null : null, groups: [] } });
      await recordAudit(tx, { ...base, actorId: user.id, actor: email }, 'user.created', null, { email, groups: [], admin: false, ...via });
    }
    if (!user.active) {
      throw refused(`The user ${email} is deactivated, so they cannot sign in. An admin can reactivate them (hoop admin update user ${email} --activate).`);
    }
    const ctx: AuditContext = { ...base, actorId: user.id, actor: email };
    if (claimed && !sameGroups(claimed.groups, user.groups)) {
      const before = user.groups;
      user = await tx.user.update({ where: { id: user.id }, data: { groups: claimed.groups } });
      await recordAudit(tx, ctx, 'user.updated', null, {
        userId: user.id,
        email,
        before: { groups: before },
        after: { groups: claimed.groups },
        ...via,
        ...(claimed.ignored.length ? { ignoredGroups: claimed.ignored } : {}),
      });
    }
    await linkIdentity(tx, user.id, oidcExternalId(identity.issuer, identity.subject), ctx, email);
    return { id: user.id, email: user.email, isAdmin: user.isAdmin, groups: user.groups };
  }

  /** Makes `externalId` the user's one 'oidc' account, moving it from another user if the provider now gives it this email. */
  async function linkIdentity(tx: Tx, userId: string, externalId: string, ctx: AuditContext, email: string): Promise<void> {
    const mine = await tx.identity.findUnique({ where: { userId_provider: { userId, provider: 'oidc' } } });
    if (mine?.externalId === externalId) return;
    const elsewhere = await tx.identity.findUnique({ where: { provider_externalId: { provider: 'oidc', externalId } } });
    // Each account that stops naming someone is an unlink of its own: the other user's, moved
    // here because the provider now gives it this email, and this user's earlier one, replaced.
    if (elsewhere) {
      await tx.identity.delete({ where: { id: elsewhere.id } });
      await recordAudit(tx, ctx, 'identity.unlinked', null, { userId: elsewhere.userId, provider: 'oidc', externalId, reason: 'moved', movedToUserId: userId });
    }
    if (mine) {
      await tx.identity.update({ where: { id: mine.id }, data: { externalId } });
      await recordAudit(tx, ctx, 'identity.unlinked', null, { userId, email, provider: 'oidc', externalId: mine.externalId, reason: 'replaced', replacedBy: externalId });
    } else await tx.identity.create({ data: { userId, provider: 'oidc', externalId } });
    await recordAudit(tx, ctx, 'identity.linked', null, { userId, email, provider: 'oidc', externalId, ...(mine ? { replaced: mine.externalId } : {}), ...(elsewhere ? { movedFromUserId: elsewhere.userId } : {}) });
  }

  return { signIn };
}

export type SsoSignIn = ReturnType<typeof createSsoSignIn>;
