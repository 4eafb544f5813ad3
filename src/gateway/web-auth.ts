// The web app's sign-in and sign-out (the only endpoints outside /api), and how a browser's
// session cookie authenticates an /api request: the cookie is httpOnly and SameSite=Lax, Secure
// (with the __Host- prefix) behind HTTPS; a request that changes something must also carry the
// session's CSRF token and must not come from another site.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditContext } from '../db/audit.js';
import { AppError, ErrorCode, isAppError } from '../errors.js';
import type { AdminService } from '../service/admin-service.js';
import type { AuthUser } from '../service/auth-user.js';
import type { WebSessions } from '../service/web-sessions.js';
import { objectBody, optionalString } from './request-body.js';
import type { RequestLimits } from './request-limits.js';

const COOKIE = 'hoop_session';
/** Over HTTPS: the __Host- prefix makes the browser refuse it from a sibling host or over HTTP. */
const SECURE_COOKIE = `__Host-${COOKIE}`;
export const CSRF_HEADER = 'x-csrf-token';

export interface WebAuthOptions {
  sessions: WebSessions;
  admin: AdminService;
  limits?: RequestLimits;
  /** PUBLIC_URL: its origin is where the pages are, and https there means Secure cookies. */
  publicUrl: string;
  /** Whether single sign-on is configured (the sign-in page offers it). */
  sso: boolean;
  auditCtx(req: FastifyRequest, user?: AuthUser): AuditContext;
}

/**
 * The session token a request's cookie carries, if any. Over HTTPS only the __Host- cookie counts:
 * a sibling host or a plain-HTTP answer can plant `hoop_session` but never `__Host-hoop_session`,
 * so taking the plain name there would let them sign a browser in to their own account.
 */
export function sessionTokenOf(req: FastifyRequest, publicUrl: string): string | undefined {
  const cookies = req.cookies ?? {};
  return (isSecure(req, publicUrl) ? cookies[SECURE_COOKIE] : cookies[COOKIE]) || undefined;
}

function isSecure(req: FastifyRequest, publicUrl: string): boolean {
  return req.protocol === 'https' || publicUrl.startsWith('https://');
}

/** Sets the session cookie on `reply` (used by sign-in with a key and by single sign-on). */
export function setSessionCookie(req: FastifyRequest, reply: FastifyReply, token: string, expiresAt: Date, publicUrl: string): void {
  const secure = isSecure(req, publicUrl);
  reply.setCookie(secure ? SECURE_COOKIE : COOKIE, token, { httpOnly: true, sameSite: 'lax', secure, path: '/', expires: expiresAt });
}

function clearSessionCookie(req: FastifyRequest, reply: FastifyReply, publicUrl: string): void {
  const secure = isSecure(req, publicUrl);
  reply.clearCookie(secure ? SECURE_COOKIE : COOKIE, { httpOnly: true, sameSite: 'lax', secure, path: '/' });
}

/**
 * Refuses a request from another site: the browser's Sec-Fetch-Site says so, or its Origin is
 * neither this host nor PUBLIC_URL. (A request without either header comes from a program, not a
 * page; the CSRF token still stands in its way.)
 */
export function assertSameSite(req: FastifyRequest, publicUrl: string): void {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') throw crossSite();
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const own = [`${req.protocol}://${req.host}`, new URL(publicUrl).origin];
    if (!own.includes(origin)) throw crossSite();
  }
}

const crossSite = () =>
  new AppError(ErrorCode.Forbidden, 'This request came from another site with the web app\'s session, so it was refused. Use the web app itself, or call the API with "Authorization: Bearer <api key>".');

/**
 * For a request authenticated by the session cookie: a change needs the session's CSRF token in
 * x-csrf-token, from this site. GET and HEAD change nothing and need neither.
 */
export function assertCsrf(req: FastifyRequest, sessions: WebSessions, token: string, publicUrl: string): void {
  if (req.method === 'GET' || req.method === 'HEAD') return;
  assertSameSite(req, publicUrl);
  const presented = req.headers[CSRF_HEADER];
  if (!sessions.checkCsrf(token, typeof presented === 'string' ? presented : undefined)) {
    throw new AppError(ErrorCode.Forbidden, `This change came with the web app's session but without its CSRF token (header ${CSRF_HEADER}), so it was refused. Reload the page and try again; a script should call the API with "Authorization: Bearer <api key>" instead.`);
  }
}

/** GET/POST/DELETE /auth/session. */
export function registerWebAuthRoutes(app: FastifyInstance, opts: WebAuthOptions): void {
  const { sessions, admin, limits, publicUrl } = opts;
  const sso = { enabled: opts.sso };
  const sessionBody = (user: AuthUser & { session: { method: string; expiresAt: Date } }, token: string) => ({
    user: { id: user.id, email: user.email, name: null as string | null, admin: user.isAdmin, groups: user.groups, method: user.session.method },
    csrfToken: sessions.csrfOf(token),
    expiresAt: user.session.expiresAt.toISOString(),
    sso,
  });

  // Signed out is an answer, not an error: the page asks this at every load.
  app.get('/auth/session', async (req, reply) => {
    const token = sessionTokenOf(req, publicUrl);
    if (!token) return { user: null, sso };
    try {
      const user = await sessions.authenticate(token);
      return sessionBody(user, token);
    } catch (error) {
      if (!isAppError(error, ErrorCode.Unauthenticated)) throw error;
      clearSessionCookie(req, reply, publicUrl);
      return { user: null, ended: error.message, sso };
    }
  });

  app.post('/auth/session', async (req, reply) => {
    // A page of another site must not sign a browser in to someone else's account either.
    assertSameSite(req, publicUrl);
    const apiKey = optionalString(objectBody(req, ['apiKey']), 'apiKey')?.trim();
    if (!apiKey) throw new AppError(ErrorCode.BadInput, 'Give your API key in "apiKey" (the key `hoop login` uses; an admin makes one with `hoop admin create user`).');
    await limits?.checkAuthBlocked(req.ip, apiKey);
    let user: AuthUser;
    try {
      user = await admin.authenticate(apiKey);
    } catch (error) {
      if (isAppError(error, ErrorCode.Unauthenticated)) await limits?.recordAuthFailure(req.ip, apiKey);
      throw error;
    }
    const created = await sessions.create(
      { userId: user.id, method: 'api-key', apiKeyId: user.key?.id ?? null, ip: req.ip, userAgent: req.headers['user-agent'] ?? null },
      { ...opts.auditCtx(req, user), source: 'web' },
    );
    // The session this browser had (maybe planted, maybe forgotten in a shared browser) ends: one
    // browser, one session. Best effort: an unknown or ended token is nothing to end.
    const previous = sessionTokenOf(req, publicUrl);
    if (previous) await sessions.revoke(previous, { ...opts.auditCtx(req, user), source: 'web' }).catch(() => {});
    setSessionCookie(req, reply, created.token, created.expiresAt, publicUrl);
    const signedIn = await sessions.authenticate(created.token);
    return reply.status(201).send(sessionBody(signedIn, created.token));
  });

  app.delete('/auth/session', async (req, reply) => {
    const token = sessionTokenOf(req, publicUrl);
    if (token) {
      assertCsrf(req, sessions, token, publicUrl);
      const user = await sessions.authenticate(token).catch(() => undefined);
      await sessions.revoke(token, { ...opts.auditCtx(req, user), source: 'web' });
    }
    clearSessionCookie(req, reply, publicUrl);
    return reply.status(204).send();
  });
}
