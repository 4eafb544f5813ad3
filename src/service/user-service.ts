// A user's life after creation: update (groups, admin, active, name) and the API-key lifecycle
// (list, create, revoke). Admins manage anyone; every user may list, create and revoke their own keys.
import { recordAudit, type AuditContext } from '../db/audit.js';
import type { Db, Tx } from '../db/client.js';
import { slackIdentity } from '../db/identities.js';
import { lockAdminSet } from '../db/locks.js';
import { isUuid } from '../db/reviews.js';
import { AppError, ErrorCode } from '../errors.js';
import type { AuthUser } from './auth-user.js';
import { cleanGroups, generateApiKey, hashApiKey, keyPrefix, keyView, normalizeEmail, userView } from './user-fields.js';

/** The fields of a user update and of a new API key (the HTTP edge refuses any other). */
export const UPDATE_FIELDS = ['groups', 'admin', 'active', 'name'] as const;
export const KEY_FIELDS = ['name'] as const;
const MAX_NAME = 200;

function bad(message: string): AppError {
  return new AppError(ErrorCode.BadInput, message);
}

function optionalName(value: unknown, field: string): string | null | undefined {
  if (value === undefined) return undefined;
  if (value !== null && typeof value !== 'string') throw bad(`"${field}" must be a string (or null to clear it).`);
  const name = value?.trim() || null;
  if (name && name.length > MAX_NAME) throw bad(`"${field}" is longer than ${MAX_NAME} characters.`);
  return name;
}

function flag(value: unknown, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw bad(`"${field}" must be true or false.`);
  return value;
}

interface UserChanges {
  groups?: string[];
  admin?: boolean;
  active?: boolean;
  name?: string | null;
}

function parseUserChanges(b: Record<string, unknown>): UserChanges {
  const changes: UserChanges = {
    groups: b.groups === undefined ? undefined : cleanGroups(b.groups, 'groups'),
    admin: flag(b.admin, 'admin'),
    active: flag(b.active, 'active'),
    name: optionalName(b.name, 'name'),
  };
  if (Object.values(changes).every((v) => v === undefined)) {
    throw bad('Nothing to change: give at least one of "groups", "admin", "active" or "name", e.g. {"active": false}.');
  }
  return changes;
}

const noSuchKey = (id: string) => new AppError(ErrorCode.NotFound, `No API key has the id ${id}. List the keys with hoop admin get keys [EMAIL].`);

/** Users' updates and API keys over the database. */
export function createUserService(db: Db) {
  /** A user by id or by email (any case); NotFound when there is none. */
  async function findUser(client: Db | Tx, ref: string) {
    const r = String(ref ?? '').trim();
    const user = await client.user.findUnique({ where: isUuid(r) ? { id: r } : { email: normalizeEmail(r) }, include: slackIdentity });
    if (!user) throw new AppError(ErrorCode.NotFound, `No user is "${r}". List the users with hoop admin get users (GET /api/users).`);
    return user;
  }

  /** Whose keys `actor` may manage through `ref`: anyone's for an admin, otherwise only their own. */
  async function keyOwner(actor: AuthUser, ref: string): Promise<{ id: string; email: string }> {
    if (actor.isAdmin) return findUser(db, ref);
    const r = String(ref ?? '').trim();
    // Decided before any lookup, so a non-admin cannot learn which emails have users.
    if (r !== actor.id && normalizeEmail(r) !== actor.email) {
      throw new AppError(ErrorCode.Forbidden, 'You can only manage your own API keys (GET /api/me/keys, hoop admin get keys); ask an admin about someone else\'s.');
    }
    return { id: actor.id, email: actor.email }; // authenticated a moment ago: no need to look it up again
  }

  /** The keys of a user (an id or an email), newest first; revoked ones included. */
  async function listKeys(actor: AuthUser, ref: string) {
    const owner = await keyOwner(actor, ref);
    const keys = await db.apiKey.findMany({ where: { userId: owner.id }, include: { user: { select: { email: true } } }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] });
    return keys.map(keyView);
  }

  /** A new key for a user; the key itself is returned this once and stored only as its hash. */
  async function createKey(actor: AuthUser, ref: string, input: Record<string, unknown>, ctx: AuditContext) {
    const name = optionalName(input.name, 'name') ?? null;
    const owner = await keyOwner(actor, ref);
    const apiKey = generateApiKey();
    const key = await db.$transaction(async (tx) => {
      const created = await tx.apiKey.create({ data: { userId: owner.id, hash: hashApiKey(apiKey), prefix: keyPrefix(apiKey), name }, include: { user: { select: { email: true } } } });
      // Never the key nor its hash: the prefix is what lists show.
      await recordAudit(tx, ctx, 'api_key.created', null, { keyId: created.id, prefix: created.prefix, user: owner.email, name, after: { user: owner.email, name, revokedAt: null } });
      return created;
    });
    return { key: keyView(key), apiKey };
  }

  /** Revokes a key at once: the next request made with it gets 401. Conflict when already revoked. */
  async function revokeKey(actor: AuthUser, keyId: string, ctx: AuditContext, now = new Date()) {
    if (!isUuid(keyId)) throw noSuchKey(keyId);
    return db.$transaction(async (tx) => {
      const key = await tx.apiKey.findUnique({ where: { id: keyId }, include: { user: { select: { email: true } } } });
      // Someone else's key is as invisible to a non-admin as a key that does not exist.
      if (!key || (!actor.isAdmin && key.userId !== actor.id)) throw noSuchKey(keyId);
      const { count } = await tx.apiKey.updateMany({ where: { id: keyId, revokedAt: null }, data: { revokedAt: now } });
      if (count !== 1) {
        throw new AppError(ErrorCode.WrongState, `The key ${key.prefix}… (${key.id}) was already revoked${key.revokedAt ? ` at ${key.revokedAt.toISOString()}` : ''}; nothing changed.`);
      }
      await recordAudit(tx, ctx, 'api_key.revoked', null, { keyId, prefix: key.prefix, user: key.user.email, name: key.name, bootstrap: key.bootstrap, before: { revokedAt: null }, after: { revokedAt: now.toISOString() } });
      return keyView({ ...key, revokedAt: now });
    });
  }

  /** One user (an id or an email), as the list shows them but alone (admins only). */
  async function getUser(actor: AuthUser, ref: string) {
    if (!actor.isAdmin) throw new AppError(ErrorCode.Forbidden, 'Only an admin can see other users; GET /api/me shows you.');
    return userView(await findUser(db, ref));
  }

  /** Changes a user's groups, admin flag, activation or name (admins only), audited before/after. */
  async function updateUser(actor: AuthUser, ref: string, input: Record<string, unknown>, ctx: AuditContext, now = new Date()) {
    if (!actor.isAdmin) throw new AppError(ErrorCode.Forbidden, 'Only an admin can change users; ask an admin of your gateway.');
    const changes = parseUserChanges(input);
    const updated = await db.$transaction(async (tx) => {
      await lockAdminSet(tx);
      const user = await findUser(tx, ref);
      if (changes.admin === false && user.bootstrap) {
        throw new AppError(
          ErrorCode.Conflict,
          `${user.email} is the bootstrap admin named by ADMIN_EMAIL and is made admin again at every start. To retire them, set ADMIN_EMAIL to someone else and restart (or deactivate them: --deactivate).`,
        );
      }
      if (changes.admin === true && user.kind === 'agent') {
        throw new AppError(ErrorCode.BadInput, `${user.email} is an agent, and agents are never admins; make its owner or another person admin instead.`);
      }
      const before = { groups: user.groups, admin: user.isAdmin, active: user.active, name: user.name };
      const after = {
        groups: changes.groups ?? before.groups,
        admin: changes.admin ?? before.admin,
        active: changes.active ?? before.active,
        name: changes.name === undefined ? before.name : changes.name,
      };
      if (before.admin && before.active && !(after.admin && after.active)) {
        // Lockout: some active admin must remain to undo mistakes (checked under the admin-set lock).
        const others = await tx.user.count({ where: { isAdmin: true, active: true, id: { not: user.id } } });
        if (others === 0) {
          throw new AppError(
            ErrorCode.Conflict,
            `${user.email} is the last active admin; ${after.active ? 'demoting' : 'deactivating'} them would leave nobody to manage the gateway. Make someone else admin first (hoop admin update user EMAIL --admin).`,
          );
        }
      }
      const changed = (Object.keys(after) as (keyof typeof after)[]).filter((k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]));
      // An explicit "admin: true" makes a bootstrap admin an ordinary one: they stay admin when
      // ADMIN_EMAIL later names someone else.
      const clearsBootstrap = changes.admin === true && user.bootstrap;
      if (changed.length === 0 && !clearsBootstrap) return user;
      const saved = await tx.user.update({
        where: { id: user.id },
        data: {
          groups: after.groups,
          isAdmin: after.admin,
          active: after.active,
          name: after.name,
          deactivatedAt: after.active === before.active ? undefined : after.active ? null : now,
          bootstrap: clearsBootstrap ? false : undefined,
        },
        include: slackIdentity,
      });
      await recordAudit(tx, ctx, 'user.updated', null, {
        userId: user.id,
        email: user.email,
        before: Object.fromEntries(changed.map((k) => [k, before[k]])),
        after: Object.fromEntries(changed.map((k) => [k, after[k]])),
        ...(clearsBootstrap ? { bootstrapCleared: true } : {}),
      });
      return saved;
    });
    return userView(updated);
  }

  return { getUser, listKeys, myKeys: (actor: AuthUser) => listKeys(actor, actor.id), createKey, revokeKey, updateUser };
}
