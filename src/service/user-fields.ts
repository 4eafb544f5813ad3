// What the user and API-key use cases share: how emails, groups and keys are checked and stored,
// and what the API shows of a user or a key (never a key's hash).
import { createHash, randomBytes } from 'node:crypto';
import { externalIdOf } from '../db/identities.js';
import type { KeyView, UserView } from '../contracts/admin-views.js';
import { AppError, ErrorCode } from '../errors.js';

export { normalizeEmail } from '../core/email.js';

/** What a group name may be (the same rule for the API, Slack and single sign-on). */
export const GROUP = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** sha256 of an API key, as stored. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A new random API key (shown once, stored only as its hash). */
export function generateApiKey(): string {
  return `hoop_${randomBytes(24).toString('base64url')}`;
}

/** The start of a key kept to recognise it in lists (`hoop_AbCd`); too short to guess the rest. */
export function keyPrefix(key: string): string {
  return key.slice(0, 9);
}

/** A list of group names from API input, trimmed and deduplicated; BadInput when malformed. */
export function cleanGroups(groups: unknown, field: string): string[] {
  if (groups === undefined) return [];
  if (!Array.isArray(groups) || groups.some((g) => typeof g !== 'string')) {
    throw new AppError(ErrorCode.BadInput, `"${field}" must be a list of group names, e.g. ["dba-team", "security"].`);
  }
  const out = [...new Set(groups.map((g: string) => g.trim()).filter(Boolean))];
  const bad = out.find((g) => !GROUP.test(g));
  if (bad) throw new AppError(ErrorCode.BadInput, `"${bad}" is not a valid group name: use letters, digits, '.', '_' or '-'.`);
  return out;
}

interface StoredUser {
  id: string;
  email: string;
  name: string | null;
  isAdmin: boolean;
  groups: string[];
  /** Their Slack account, as `slackIdentity` (src/db/identities.ts) brings it. */
  identities: { externalId: string }[];
  active: boolean;
  deactivatedAt: Date | null;
  bootstrap: boolean;
  createdAt: Date;
}

/** What the API shows of a user: never API keys. */
export function userView(u: StoredUser): UserView {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    admin: u.isAdmin,
    groups: u.groups,
    slackUserId: externalIdOf(u),
    active: u.active,
    deactivatedAt: u.deactivatedAt?.toISOString() ?? null,
    bootstrap: u.bootstrap,
    createdAt: u.createdAt.toISOString(),
  };
}

interface StoredKey {
  id: string;
  prefix: string;
  name: string | null;
  bootstrap: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  user: { email: string };
}

/** What the API shows of an API key: never its hash (nor, after creation, the key). */
export function keyView(k: StoredKey): KeyView {
  return {
    id: k.id,
    user: k.user.email,
    prefix: k.prefix,
    name: k.name,
    bootstrap: k.bootstrap,
    createdAt: k.createdAt.toISOString(),
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}

export type { KeyView, UserView };
