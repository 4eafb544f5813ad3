// The web app's sessions: a browser signs in by exchanging an API key (or through single sign-on)
// for a random token kept in an httpOnly cookie. Only the token's sha256 is stored, in PostgreSQL,
// so every replica accepts a session and sign-out ends it everywhere. A session ends at its
// expiry, after WEB_SESSION_IDLE_SEC unused, at sign-out, and when its user is deactivated or
// the key it was exchanged for is revoked. Its CSRF token is derived from the cookie's token, so
// only a page that was given it (same origin, after sign-in) can send it back.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/ports.js';
import { recordAudit, type AuditContext } from '../db/audit.js';
import type { Db } from '../db/client.js';
import { externalIdOf, kindOf, ownerEmail, slackIdentity } from '../db/identities.js';
import { AppError, ErrorCode } from '../errors.js';
import type { AuthUser, SessionOfUser } from './auth-user.js';

export type { SessionOfUser };

export type SessionMethod = 'api-key' | 'oidc';

export interface NewSession {
  userId: string;
  method: SessionMethod;
  /** The key exchanged for it (method 'api-key'): revoking the key ends the session. */
  apiKeyId?: string | null;
  oidcIssuer?: string | null;
  oidcSubject?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

export interface CreatedSession {
  id: string;
  /** The cookie's value; never stored. */
  token: string;
  csrfToken: string;
  expiresAt: Date;
}

export interface WebSessions {
  create(input: NewSession, audit: AuditContext): Promise<CreatedSession>;
  /** The user of a session token; Unauthenticated (in words) when it does not work. */
  authenticate(token: string): Promise<AuthUser & { session: SessionOfUser }>;
  /** Ends the session of `token` (no error when it already ended). */
  revoke(token: string, audit: AuditContext): Promise<void>;
  /** The CSRF token of a session token. */
  csrfOf(token: string): string;
  /** Whether `presented` is the CSRF token of `token` (in constant time). */
  checkCsrf(token: string, presented: string | undefined): boolean;
  readonly ttlSec: number;
}

const TOKEN_PREFIX = 'hoop_web_';
/** lastSeenAt is written at most this often per session. */
const TOUCH_EVERY_MS = 60_000;

export const hashSessionToken = (token: string) => createHash('sha256').update(token).digest('hex');

export function createWebSessions({ db, clock, ttlSec, idleSec }: { db: Db; clock: Clock; ttlSec: number; idleSec: number }): WebSessions {
  const csrfOf = (token: string) => createHmac('sha256', token).update('hoop-web-csrf').digest('base64url');
  const ended = (why: string) => new AppError(ErrorCode.Unauthenticated, `Your web session ${why}. Sign in again.`);

  return {
    ttlSec,
    csrfOf,
    checkCsrf(token, presented) {
      if (!presented) return false;
      const a = Buffer.from(csrfOf(token));
      const b = Buffer.from(presented);
      return a.length === b.length && timingSafeEqual(a, b);
    },

    async create(input, audit) {
      const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const now = clock.now();
      const expiresAt = new Date(now.getTime() + ttlSec * 1000);
      const row = await db.$transaction(async (tx) => {
        const created = await tx.webSession.create({
          data: {
            hash: hashSessionToken(token),
            userId: input.userId,
            method: input.method,
            apiKeyId: input.apiKeyId ?? null,
            oidcIssuer: input.oidcIssuer ?? null,
            oidcSubject: input.oidcSubject ?? null,
            ip: input.ip ?? null,
            userAgent: input.userAgent?.slice(0, 512) ?? null,
            createdAt: now,
            lastSeenAt: now,
            expiresAt,
          },
        });
        await recordAudit(tx, audit, 'web.sign_in', null, { method: input.method, session: created.id, ...(input.oidcSubject ? { idpSubject: input.oidcSubject, idpIssuer: input.oidcIssuer } : {}) });
        return created;
      });
      // Ended sessions are kept a day (an audit event names them), then dropped as others sign in.
      void db.webSession.deleteMany({ where: { expiresAt: { lt: new Date(now.getTime() - 86_400_000) } } }).catch(() => {});
      return { id: row.id, token, csrfToken: csrfOf(token), expiresAt };
    },

    async authenticate(token) {
      if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) throw ended('is not valid');
      const row = await db.webSession.findUnique({ where: { hash: hashSessionToken(token) }, include: { user: { include: { ...slackIdentity, ...ownerEmail } }, apiKey: { select: { revokedAt: true } } } });
      const now = clock.now();
      if (!row) throw ended('is not valid (unknown or signed out)');
      if (row.revokedAt) throw ended('was signed out');
      if (row.expiresAt <= now) throw ended('expired');
      if (now.getTime() - row.lastSeenAt.getTime() > idleSec * 1000) throw ended(`ended after ${Math.round(idleSec / 60)} minutes without use`);
      if (row.apiKey?.revokedAt) throw ended('ended because the API key it was made with was revoked');
      const u = row.user;
      if (!u.active) throw new AppError(ErrorCode.Unauthenticated, `The user ${u.email} is deactivated, so their web sessions do not work; an admin can reactivate them (hoop admin update user ${u.email} --activate).`);
      if (now.getTime() - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
        // Best effort, and once across replicas: a failed write only shortens the idle allowance.
        void db.webSession.updateMany({ where: { id: row.id, lastSeenAt: row.lastSeenAt }, data: { lastSeenAt: now } }).catch(() => {});
      }
      return {
        id: u.id,
        email: u.email,
        isAdmin: u.isAdmin,
        groups: u.groups,
        slackUserId: externalIdOf(u),
        ...kindOf(u),
        session: { id: row.id, method: row.method as SessionMethod, oidcIssuer: row.oidcIssuer, oidcSubject: row.oidcSubject, expiresAt: row.expiresAt },
      };
    },

    async revoke(token, audit) {
      await db.$transaction(async (tx) => {
        const row = await tx.webSession.findUnique({ where: { hash: hashSessionToken(token) }, select: { id: true, revokedAt: true } });
        if (!row || row.revokedAt) return;
        await tx.webSession.update({ where: { id: row.id }, data: { revokedAt: clock.now() } });
        await recordAudit(tx, audit, 'web.sign_out', null, { session: row.id });
      });
    },
  };
}
