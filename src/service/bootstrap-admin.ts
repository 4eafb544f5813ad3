// The bootstrap admin of ADMIN_EMAIL / ADMIN_API_KEY, made exactly what the configuration says at
// every start: the configured key works, no earlier bootstrap key does, and a user who was admin
// only because ADMIN_EMAIL named them stops being admin once it names someone else.
import { recordAudit, SYSTEM_ACTOR, type AuditAction } from '../db/audit.js';
import type { Db, Tx } from '../db/client.js';
import { lockAdminSet } from '../db/locks.js';
import { AppError, ErrorCode } from '../errors.js';
import { hashApiKey, keyPrefix, normalizeEmail } from './user-fields.js';

/** One thing start-up changed (audited) or found worth a warning, for the start-up log. */
export interface BootstrapChange {
  level: 'info' | 'warn';
  /** The audit action written, when something changed. */
  action?: AuditAction;
  message: string;
  detail: Record<string, string | boolean | null | Record<string, string | null>>;
}

export interface BootstrapOptions {
  /** ADMIN_EMAIL (compared case-insensitively). */
  email: string;
  /** ADMIN_API_KEY; undefined revokes every bootstrap key. */
  apiKey?: string;
  now?: Date;
}

async function change(tx: Tx, changes: BootstrapChange[], c: BootstrapChange): Promise<void> {
  changes.push(c);
  if (c.action) await recordAudit(tx, SYSTEM_ACTOR, c.action, null, c.detail);
}

/** The configured admin user: created, or made admin (and marked bootstrap) when they were not. */
async function ensureUser(tx: Tx, email: string, changes: BootstrapChange[]) {
  const user = await tx.user.findUnique({ where: { email } });
  if (!user) {
    const created = await tx.user.create({ data: { email, name: 'Bootstrap admin', isAdmin: true, bootstrap: true, groups: [] } });
    await change(tx, changes, { level: 'info', action: 'user.bootstrap_admin', message: `bootstrap admin ${email} created (ADMIN_EMAIL)`, detail: { email, created: true } });
    return created;
  }
  if (!user.active) {
    // Deactivation is deliberate; start-up never undoes it.
    await change(tx, changes, { level: 'warn', message: `ADMIN_EMAIL names ${email}, who is deactivated: ADMIN_API_KEY will not work until an admin reactivates them`, detail: { email } });
  }
  // An admin made explicitly through the API stays an ordinary admin (bootstrap false), so a later
  // change of ADMIN_EMAIL does not take their admin rights away.
  if (user.isAdmin) return user;
  const promoted = await tx.user.update({ where: { id: user.id }, data: { isAdmin: true, bootstrap: true } });
  await change(tx, changes, { level: 'info', action: 'user.bootstrap_admin', message: `${email} made admin (ADMIN_EMAIL)`, detail: { email, created: false } });
  return promoted;
}

/** The configured key: created for `user`, or taken over from an earlier bootstrap admin. */
async function ensureKey(tx: Tx, user: { id: string; email: string }, apiKey: string, changes: BootstrapChange[]): Promise<string> {
  const hash = hashApiKey(apiKey);
  const existing = await tx.apiKey.findUnique({ where: { hash }, include: { user: { select: { email: true } } } });
  if (!existing) {
    const key = await tx.apiKey.create({ data: { userId: user.id, hash, prefix: keyPrefix(apiKey), name: 'ADMIN_API_KEY', bootstrap: true } });
    await change(tx, changes, { level: 'info', action: 'api_key.created', message: `ADMIN_API_KEY ${key.prefix}… registered for ${user.email}`, detail: { keyId: key.id, prefix: key.prefix, user: user.email, bootstrap: true } });
    return hash;
  }
  if (existing.userId !== user.id) {
    if (!existing.bootstrap) {
      // Someone's own key must not silently become an admin key.
      throw new AppError(ErrorCode.BadInput, `ADMIN_API_KEY is already the personal API key ${existing.prefix}… of ${existing.user.email}; set ADMIN_API_KEY to a new random secret and start again.`);
    }
    await tx.apiKey.update({ where: { id: existing.id }, data: { userId: user.id } });
    await change(tx, changes, {
      level: 'info',
      action: 'api_key.reassigned',
      message: `ADMIN_API_KEY ${existing.prefix}… moved from ${existing.user.email} to ${user.email} (ADMIN_EMAIL changed)`,
      detail: { keyId: existing.id, prefix: existing.prefix, from: existing.user.email, to: user.email, before: { user: existing.user.email }, after: { user: user.email } },
    });
  } else if (!existing.bootstrap) {
    await tx.apiKey.update({ where: { id: existing.id }, data: { bootstrap: true } });
  }
  if (existing.revokedAt) {
    // A revocation through the API (a leaked key) outlives restarts; only a new key undoes it.
    await change(tx, changes, { level: 'warn', message: `ADMIN_API_KEY ${existing.prefix}… was revoked at ${existing.revokedAt.toISOString()} and stays revoked; set a new ADMIN_API_KEY`, detail: { keyId: existing.id, prefix: existing.prefix } });
  }
  return hash;
}

/**
 * Makes the bootstrap admin exactly the configured one, in one transaction under the admin-set
 * lock (replicas starting together run it one after the other; the later ones find nothing to
 * do). Returns what changed, for the log.
 */
export async function ensureBootstrapAdmin(db: Db, opts: BootstrapOptions): Promise<BootstrapChange[]> {
  const email = normalizeEmail(opts.email);
  const now = opts.now ?? new Date();
  return db.$transaction(
    async (tx) => {
      await lockAdminSet(tx);
      const changes: BootstrapChange[] = [];
      for (const previous of await tx.user.findMany({ where: { bootstrap: true, email: { not: email } }, orderBy: { email: 'asc' } })) {
        await tx.user.update({ where: { id: previous.id }, data: { isAdmin: false, bootstrap: false } });
        await change(tx, changes, {
          level: 'info',
          action: 'user.bootstrap_admin_removed',
          message: `${previous.email} is no longer admin: ADMIN_EMAIL now names ${email}`,
          detail: { email: previous.email, adminEmail: email },
        });
      }
      let keep: string | null = null;
      if (opts.apiKey) keep = await ensureKey(tx, await ensureUser(tx, email, changes), opts.apiKey, changes);
      const stale = await tx.apiKey.findMany({
        where: { bootstrap: true, revokedAt: null, ...(keep ? { hash: { not: keep } } : {}) },
        include: { user: { select: { email: true } } },
        orderBy: { createdAt: 'asc' },
      });
      for (const key of stale) {
        await tx.apiKey.update({ where: { id: key.id }, data: { revokedAt: now } });
        await change(tx, changes, {
          level: 'info',
          action: 'api_key.revoked',
          message: `earlier ADMIN_API_KEY ${key.prefix}… of ${key.user.email} revoked (${keep ? 'ADMIN_API_KEY changed' : 'ADMIN_API_KEY is not set'})`,
          detail: { keyId: key.id, prefix: key.prefix, user: key.user.email, bootstrap: true, reason: keep ? 'admin_api_key_changed' : 'admin_api_key_unset', before: { revokedAt: null }, after: { revokedAt: now.toISOString() } },
        });
      }
      if ((await tx.user.count({ where: { isAdmin: true, active: true } })) === 0) {
        await change(tx, changes, { level: 'warn', message: 'no active admin is left: set ADMIN_API_KEY (and ADMIN_EMAIL) to bootstrap one', detail: {} });
      }
      return changes;
    },
    // Replicas queue on the lock; the default 5 s could run out while one waits for another.
    { timeout: 30_000, maxWait: 30_000 },
  );
}
