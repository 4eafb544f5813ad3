// Single sign-on's two browser endpoints (registered only when OIDC_* is configured):
//   GET /auth/oidc/login?next=/path  → 302 to the provider, with state, nonce and PKCE (S256); what
//       the callback needs rides in a sealed, httpOnly, SameSite=Lax cookie of this browser.
//   GET /auth/oidc/callback          → checks everything (openid-client), finds the user by verified
//       email (sso-sign-in.ts), starts a web session and 302s to `next`.
// A person never sees a JSON error or a stack trace here: every failure lands on the sign-in page
// as `/?sso_error=<words>`.
import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OidcConfig } from '../config.js';
import { isAppError } from '../errors.js';
import type { AuditContext } from '../db/audit.js';
import type { SsoSignIn } from '../service/sso-sign-in.js';
import type { WebSessions } from '../service/web-sessions.js';
import { createOidcClient, type OidcClient } from './oidc-client.js';
import { createLoginStateSealer, LOGIN_STATE_COOKIE, LOGIN_STATE_TTL_SEC, safeNextPath } from './oidc-login-state.js';
import { sessionTokenOf, setSessionCookie } from './web-auth.js';

export interface OidcRoutesOptions {
  oidc: OidcConfig;
  /** PUBLIC_URL: its scheme decides Secure cookies, its path where the app (and this cookie) live. */
  publicUrl: string;
  signIn: SsoSignIn;
  /** The web app's sessions: a successful sign-in starts one (method 'oidc', with the IdP subject). */
  sessions: WebSessions;
  /** The OpenID client (tests may pass their own); made from `oidc` when absent. */
  client?: OidcClient;
}

/** Registers the two routes on `app` (which must have @fastify/cookie). */
export function registerOidcRoutes(app: FastifyInstance, opts: OidcRoutesOptions): void {
  const client = opts.client ?? createOidcClient(opts.oidc);
  const sealer = createLoginStateSealer(opts.oidc.clientSecret);
  const base = new URL(opts.publicUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const cookieOptions = { path: `${basePath}/auth/oidc`, httpOnly: true, sameSite: 'lax' as const, secure: base.protocol === 'https:' };

  /** Back to the sign-in page with words for the person; the sign-in cookie is spent either way. */
  function toSignInPage(reply: FastifyReply, message: string, next?: string) {
    reply.clearCookie(LOGIN_STATE_COOKIE, cookieOptions);
    const query = new URLSearchParams({ sso_error: message });
    if (next && next !== '/') query.set('next', next);
    return reply.redirect(`${basePath}/?${query}`, 302);
  }

  /** The words a failure shows; anything unforeseen is logged and shown as a generic sentence. */
  function wordsFor(req: FastifyRequest, error: unknown): string {
    if (isAppError(error)) {
      req.log.info({ code: error.code, reason: error.message, cause: (error.cause as Error | undefined)?.message }, 'single sign-on refused');
      return error.userMessage;
    }
    req.log.error({ err: error }, 'single sign-on failed');
    return 'Single sign-on failed on the gateway (it is logged). Try again, and tell an admin if it persists.';
  }

  app.get('/auth/oidc/login', async (req, reply) => {
    const next = safeNextPath((req.query as Record<string, unknown>).next);
    try {
      const { url, state } = await client.begin(next);
      reply.setCookie(LOGIN_STATE_COOKIE, sealer.seal(state), { ...cookieOptions, maxAge: LOGIN_STATE_TTL_SEC });
      return reply.redirect(url, 302);
    } catch (error) {
      return toSignInPage(reply, wordsFor(req, error), next);
    }
  });

  app.get('/auth/oidc/callback', async (req, reply) => {
    const state = sealer.open(req.cookies[LOGIN_STATE_COOKIE]);
    if (!state) {
      return toSignInPage(reply, 'This sign-in was not started in this browser, took longer than 10 minutes, or was already used. Start again with Sign in with SSO.');
    }
    try {
      // The URL the provider sent the browser to: our registered redirect URL with the answer's
      // query (not the Host header, which a client chooses).
      const callbackUrl = new URL(opts.oidc.redirectUrl);
      callbackUrl.search = new URL(req.url, 'http://x').search;
      const identity = await client.finish(callbackUrl, state);
      // Every event of this sign-in names the provider's subject (recordAudit adds it to the detail).
      const where = { source: 'web' as const, ip: req.ip, userAgent: req.headers['user-agent'] ?? null, idp: { issuer: identity.issuer, subject: identity.subject } };
      const user = await opts.signIn.signIn(identity, where);
      const audit: AuditContext = { ...where, actorId: user.id, actor: user.email };
      const session = await opts.sessions.create({ userId: user.id, method: 'oidc', oidcIssuer: identity.issuer, oidcSubject: identity.subject, ip: req.ip, userAgent: where.userAgent }, audit);
      // The session this browser had before (perhaps planted) ends: one browser, one session.
      const previous = sessionTokenOf(req, opts.publicUrl);
      if (previous) await opts.sessions.revoke(previous, audit).catch(() => {});
      reply.clearCookie(LOGIN_STATE_COOKIE, cookieOptions);
      setSessionCookie(req, reply, session.token, session.expiresAt, opts.publicUrl);
      // `next` is a path as the browser saw it (PUBLIC_URL's path included).
      return reply.redirect(state.next, 302);
    } catch (error) {
      return toSignInPage(reply, wordsFor(req, error), state.next);
    }
  });
}
