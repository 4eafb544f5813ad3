// The HTTP edge: JSON API under /api, Slack at /slack/events, on one port. Turns requests into
// service calls and AppErrors into `{error: {code, message}}` with a fitting status.
import cookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ReviewStatus } from '../core/review-state.js';
import { isConnectionLost, isDatabaseBusy } from '../db/database-busy.js';
import { AppError, ErrorCode, isAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { GatewaySlackReceiver } from '../bot/slack-receiver.js';
import type { AdminService } from '../service/admin-service.js';
import type { AuthUser, ReviewService } from '../service/review-service.js';
import type { ReviewViewForViewer } from '../contracts/review-view.js';
import { toReviewListView, toReviewView } from '../db/review-views.js';
import { CONNECTION_NAME } from '../service/admin-service.js';
import { EMAIL } from '../service/user-fields.js';
import { applyHardening } from './http-hardening.js';
import { auditCtx } from './audit-context.js';
import { trackRoutes } from './route-list.js';
import type { HttpDrainHooks } from './http-drain.js';
import { registerHttpMetrics, registerMetricsRoute, type MetricsEndpointOptions } from './metrics-endpoint.js';
import { decodeCursor, keyPage, MAX_PAGE, pageOf, pagingParams, TIME_ID_CURSOR, type PageQuery } from './paging.js';
import { checkQueryHook } from './query-params.js';
import { acceptJsonBodiesOnly, objectBody as body, optionalNumber, optionalString } from './request-body.js';
import type { Readiness } from './readiness.js';
import type { RequestLimits } from './request-limits.js';
import { registerUserRoutes } from './user-routes.js';
import { registerWebhookRoutes, type WebhookRoutesOptions } from './webhook-routes.js';
import { registerDoctorRoute } from './doctor-routes.js';
import { registerAnalyticsRoute, type AnalyticsRoutesOptions } from './analytics-routes.js';
import { registerAuditRoutes } from './audit-routes.js';
import type { AuditTrail } from '../service/audit-trail.js';
import type { DoctorReport } from '../contracts/doctor.js';
import type { WebSessions } from '../service/web-sessions.js';
import { assertCsrf, registerWebAuthRoutes, sessionTokenOf } from './web-auth.js';
import { registerWebApp } from './web-app.js';
import { registerReviewStream, type ReviewStreamOptions } from './review-stream.js';
import { registerExportRoutes } from './export-routes.js';
import { registerAgentRoutes } from './agent-routes.js';
import { registerMcpRoute } from './mcp-route.js';
import type { McpSessions } from './mcp-sessions.js';
import { expiredAnswer, waitForReview } from './review-wait.js';
import { forRequester, reviewForViewer } from './review-for-viewer.js';
import type { ExportService } from '../service/export-service.js';

export interface HttpServerOptions {
  admin: AdminService;
  reviews: ReviewService;
  slack?: GatewaySlackReceiver;
  log: Logger;
  /** Submit, authentication and long-poll limits (none when absent). */
  limits?: RequestLimits;
  /** Longest `?wait=` honoured, in seconds. */
  maxWaitSec?: number;
  trustProxy?: boolean;
  /** The graceful stop's hooks: 503 while draining, long-polls answered at once. */
  drain?: HttpDrainHooks;
  /** The dependencies /readyz reports on (none: always ready). */
  readiness?: Readiness;
  /** Serve /metrics on this server (absent: not here, e.g. when METRICS_PORT has its own). */
  metrics?: MetricsEndpointOptions;
  /** Custom webhooks' admin routes (absent: /api/webhooks is not served). */
  webhooks?: WebhookRoutesOptions['webhooks'];
  /** GET /api/audit/export and /api/reviews/export (absent: not served). */
  exports?: ExportService;
  /** GET /api/audit/verify and /api/audit/head (absent: not served). */
  audit?: AuditTrail;
  /** GET /api/admin/doctor answers this (absent: no such route). */
  doctor?: () => Promise<DoctorReport>;
  /** GET /api/analytics reads this database (absent: no such route). */
  analytics?: AnalyticsRoutesOptions;
  /** MCP over Streamable HTTP at /mcp (absent: not served); sessions absent: served without them. */
  mcp?: { sessions?: McpSessions };
  /** The web app: its sessions (absent: no sign-in, the cookie is not accepted), its files, live updates. */
  web?: {
    sessions: WebSessions;
    /** PUBLIC_URL. */
    publicUrl: string;
    /** Single sign-on is configured (the routes are registered by `registerSso`). */
    sso?: boolean;
    /** Registers /auth/oidc/* on the server (given when OIDC is configured). */
    registerSso?: (app: FastifyInstance) => void;
    /** Where the built app is (default: found next to the code). */
    dir?: string;
    /** GET /api/events (absent: not served). */
    stream?: Omit<ReviewStreamOptions, 'reauthenticate' | 'stopping'>;
  };
}

const STATUSES = ['pending', 'approved', 'running', 'executed', 'failed', 'rejected', 'expired', 'granted', 'ended'] as const;
const INCLUDES = ['output', 'input', 'classification'] as const;
const BODY_LIMIT = 2 * 1024 * 1024;
/** Seconds a client is told to wait when our database is busy. */
const BUSY_RETRY_SEC = 2;

declare module 'fastify' {
  interface FastifyRequest {
    user?: AuthUser;
  }
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

/** Builds the gateway's HTTP server (not yet listening). */
export function createHttpServer(opts: HttpServerOptions): FastifyInstance {
  const { admin, reviews, limits } = opts;
  const maxWaitSec = opts.maxWaitSec ?? 600;
  const app = Fastify({ loggerInstance: opts.log as FastifyBaseLogger, trustProxy: opts.trustProxy ?? false, bodyLimit: BODY_LIMIT });
  trackRoutes(app);
  applyHardening(app);
  app.register(cookie);
  registerHttpMetrics(app);
  opts.drain?.register(app);

  app.setErrorHandler((error: unknown, req, reply) => {
    if (!isAppError(error) && isConnectionLost(error)) {
      // Not "nothing was changed": a write whose COMMIT was in flight may have happened. The use
      // cases whose retry would do a thing twice (submit, vote) find out before they answer.
      req.log.warn({ err: error }, 'state database connection lost');
      const reading = req.method === 'GET' || req.method === 'HEAD';
      const next = reading ? `Try again in ${BUSY_RETRY_SEC} s.` : `The change may or may not have been made: look (GET) before trying again in ${BUSY_RETRY_SEC} s.`;
      error = new AppError(ErrorCode.Unavailable, `The gateway lost its connection to its database while handling this request. ${next}`, { retryAfterSec: BUSY_RETRY_SEC });
    } else if (!isAppError(error) && isDatabaseBusy(error)) {
      req.log.warn({ err: error }, 'database busy');
      error = new AppError(ErrorCode.Unavailable, `The gateway's database is busy; nothing was changed. Try again in ${BUSY_RETRY_SEC} s.`, { retryAfterSec: BUSY_RETRY_SEC });
    }
    if (isAppError(error)) {
      if (error.retryAfterSec) reply.header('retry-after', String(error.retryAfterSec));
      return reply.status(error.httpStatus).send(error.toJSON());
    }
    const e = error as { statusCode?: number; code?: string; message?: string };
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return reply.status(e.statusCode).send({ error: clientError(e) });
    req.log.error({ err: error }, 'request failed');
    return reply.status(500).send({ error: { code: ErrorCode.Internal, message: 'The gateway failed to handle this request; it is logged. Try again, and tell an admin if it persists.' } });
  });
  const webApp = opts.web ? registerWebApp(app, { dir: opts.web.dir }) : undefined;
  app.setNotFoundHandler((req, reply) => {
    if (webApp?.pageFor(req, reply)) return;
    reply.status(404).send({ error: { code: ErrorCode.NotFound, message: `No route ${req.method} ${req.url}. The API lives under /api (see the README).` } });
  });

  app.get('/healthz', async () => ({ ok: true }));
  if (opts.metrics) registerMetricsRoute(app, opts.metrics);
  // Not ready while the state database or Redis does not answer: a monitor sees which. A load
  // balancer asks `?require=database`: the API answers from PostgreSQL while only Redis is away
  // (see the README), and taking every replica out of rotation for a Redis outage would not.
  app.get('/readyz', async (req, reply) => {
    const report = opts.readiness ? await opts.readiness() : { ready: true, dependencies: {} };
    const known = Object.keys(report.dependencies);
    const asked = new URLSearchParams(req.url.split('?')[1] ?? '').getAll('require').flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
    const unknown = asked.filter((name) => !known.includes(name));
    if (unknown.length) {
      throw new AppError(ErrorCode.BadInput, `/readyz has no dependency ${unknown.map((n) => JSON.stringify(n.slice(0, 40))).join(', ')}; require one of: ${known.join(', ')}.`);
    }
    const required = asked.length ? asked : known;
    const down = required.flatMap((name) => {
      const r = report.dependencies[name];
      return r && !r.ok ? [`${name} (${r.error})`] : [];
    });
    if (!down.length) return { ...report, ready: true };
    const error = new AppError(ErrorCode.Unavailable, `Not ready: ${down.join('; ')} does not answer.`, { retryAfterSec: 5 });
    reply.header('retry-after', '5');
    return reply.status(503).send({ ...report, ready: false, ...error.toJSON() });
  });

  // Slack needs the raw body to check its signature, so this scope parses nothing itself.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, raw, done) => done(null, raw));
    scope.post('/slack/events', async (req, reply) => {
      if (!opts.slack) {
        return reply.status(503).send({ error: { code: ErrorCode.Unavailable, message: 'Slack is switched off on this gateway: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.' } });
      }
      const res = await opts.slack.handle({ rawBody: String(req.body ?? ''), headers: req.headers, ip: req.ip });
      return reply.status(res.status).type(res.contentType).send(res.body);
    });
  });

  const web = opts.web;
  if (web) {
    app.register(async (scope) => {
      acceptJsonBodiesOnly(scope);
      registerWebAuthRoutes(scope, { sessions: web.sessions, admin, limits, publicUrl: web.publicUrl, sso: web.sso ?? false, auditCtx });
      web.registerSso?.(scope);
    });
  }

  /** The user of a request as the database has it now: its key, or its web session. */
  async function reauthenticate(req: FastifyRequest): Promise<AuthUser> {
    const token = bearer(req);
    const session = token ? undefined : web && sessionTokenOf(req, web.publicUrl);
    return session ? web!.sessions.authenticate(session) : admin.authenticate(token);
  }

  /** Authenticates `req` by its bearer key; a failure counts toward the client's blocking. */
  async function authenticateKey(req: FastifyRequest): Promise<void> {
    const token = bearer(req);
    await limits?.checkAuthBlocked(req.ip, token);
    try {
      req.user = await admin.authenticate(token);
    } catch (error) {
      if (isAppError(error, ErrorCode.Unauthenticated)) await limits?.recordAuthFailure(req.ip, token);
      throw error;
    }
  }

  if (opts.mcp) {
    registerMcpRoute(app, { admin, reviews, limits, stopping: opts.drain?.drain.signal, log: opts.log, sessions: opts.mcp.sessions, authenticate: authenticateKey, reauthenticate: (req) => admin.authenticate(bearer(req)) });
  }

  app.register(async (api) => {
    acceptJsonBodiesOnly(api);
    // onRequest, before the body is read: an unauthenticated request costs no parsing, and a
    // client that keeps failing is refused before its key is looked up in the database.
    api.addHook('onRequest', async (req) => {
      const token = bearer(req);
      // The web app's session cookie, when no key is sent: a change also needs its CSRF token.
      const session = token ? undefined : web && sessionTokenOf(req, web.publicUrl);
      if (session) {
        await limits?.checkAuthBlocked(req.ip, session);
        try {
          req.user = await web!.sessions.authenticate(session);
        } catch (error) {
          if (isAppError(error, ErrorCode.Unauthenticated)) await limits?.recordAuthFailure(req.ip, session);
          throw error;
        }
        assertCsrf(req, web!.sessions, session, web!.publicUrl);
        return;
      }
      // A command may be a read that runs at once: its user may come from this process's recent
      // authentications, checked by the read's audit write (every other path checks afresh).
      const hot = req.method === 'POST' && req.routeOptions.url === '/api/connections/:name/exec';
      const cached = hot ? admin.authenticateHot(token) : undefined;
      if (cached) {
        req.user = cached;
        // Both limits in one round trip to Redis.
        await Promise.all([limits?.checkAuthBlocked(req.ip, token), limits?.hitCommand(cached.id)]);
        return;
      }
      await authenticateKey(req);
    });
    api.addHook('preHandler', checkQueryHook);

    api.get('/me', async (req) => ({ user: { id: req.user!.id, email: req.user!.email, admin: req.user!.isAdmin, groups: req.user!.groups, slackUserId: req.user!.slackUserId, kind: req.user!.kind } }));

    api.post('/users', async (req, reply) => {
      const b = body(req);
      const result = await admin.createUser(req.user!, { email: b.email as string, name: optionalString(b, 'name'), groups: b.groups as string[] | undefined, admin: b.admin === true }, auditCtx(req));
      return reply.status(201).send(result);
    });
    api.get('/users', { config: { query: pagingParams(MAX_PAGE) } }, async (req) => {
      const { page, nextCursor } = await keyPage('users', req.query as PageQuery, (p) => admin.listUsers(req.user!, p), (u) => u.email);
      return { users: page, nextCursor };
    });
    registerUserRoutes(api, { admin, auditCtx });
    registerAgentRoutes(api, { agents: admin, auditCtx });
    if (opts.webhooks) registerWebhookRoutes(api, { webhooks: opts.webhooks, auditCtx });
    if (opts.doctor) registerDoctorRoute(api, opts.doctor);
    if (opts.exports) registerExportRoutes(api, { exports: opts.exports, auditCtx, stopping: opts.drain?.drain.signal });
    if (opts.analytics) registerAnalyticsRoute(api, opts.analytics);
    if (opts.audit) registerAuditRoutes(api, opts.audit);
    if (web?.stream) registerReviewStream(api, { ...web.stream, reauthenticate, stopping: opts.drain?.drain.signal });

    api.post('/connections', { config: { query: { overwrite: { type: 'boolean' } } } }, async (req, reply) => {
      const b = body(req);
      const overwrite = (req.query as { overwrite?: boolean }).overwrite === true;
      const slackChannel = b.slackChannel === null ? null : optionalString(b, 'slackChannel');
      const { connection, created, changed } = await admin.upsertConnection(
        req.user!,
        {
          name: b.name as string,
          url: optionalString(b, 'url'),
          reviewers: b.reviewers as string[] | undefined,
          slackChannel,
          reviewMode: b.reviewMode,
          guardrails: b.guardrails,
          allowedGroups: b.allowedGroups,
          maskColumns: b.maskColumns,
          maskDetectors: b.maskDetectors,
          allowFunctions: b.allowFunctions,
          distinctApprovers: b.distinctApprovers,
          plugins: b.plugins,
          teamsWebhookUrl: b.teamsWebhookUrl,
          accessMode: b.accessMode,
          maxAccessDuration: b.maxAccessDuration,
          jitAgents: b.jitAgents,
          previewMode: b.previewMode,
          previewTimeoutMs: b.previewTimeoutMs,
          previewLockTimeoutMs: b.previewLockTimeoutMs,
          rowTolerancePct: b.rowTolerancePct,
        },
        overwrite,
        auditCtx(req),
      );
      // A window granted under rules an admin just changed ends now: it was approved for those rules.
      if (changed.length) await reviews.revokeOnPolicyChange(req.user!, connection.name, changed, auditCtx(req));
      return reply.status(created ? 201 : 200).send({ connection });
    });
    api.get('/connections', { config: { query: pagingParams(MAX_PAGE) } }, async (req) => {
      const { page, nextCursor } = await keyPage('connections', req.query as PageQuery, (p) => admin.listConnections(req.user!, p), (c) => c.name);
      return { connections: page, nextCursor };
    });

    api.post<{ Params: { name: string } }>('/connections/:name/exec', async (req, reply) => {
      // Per person, not per key: a user who makes more keys gets no more room. Every command counts
      // (in onRequest for a cached key); what is not a read run at once counts as a request too.
      if (!req.user!.key?.cached) await limits?.hitCommand(req.user!.id);
      const user = req.user!;
      const admit = async () => limits?.hitSubmit(user.id);
      const b = body(req, ['input', 'reason']);
      const input = optionalString(b, 'input');
      if (input === undefined) throw new AppError(ErrorCode.BadInput, 'Give the SQL to run in "input", e.g. {"input": "UPDATE users SET ... WHERE id = 1", "reason": "..."}.');
      const view = await reviews.submit(req.user!, { connection: req.params.name, input, reason: optionalString(b, 'reason'), admit }, auditCtx(req));
      return reply.status(201).send(view);
    });

    // How a command would be treated, creating nothing. Not audited: it runs nothing on the target
    // and reveals only what GET /api/connections (the policy) and `hoop sql classify` (the
    // classifier) already give whoever may use the connection; an audit event per dry run would
    // let a client flood the hash-chained trail. Counted as a command: it costs a classification.
    api.post<{ Params: { name: string } }>('/connections/:name/classify', async (req) => {
      await limits?.hitCommand(req.user!.id);
      const input = optionalString(body(req, ['input']), 'input');
      if (input === undefined) throw new AppError(ErrorCode.BadInput, 'Give the SQL to classify in "input", e.g. {"input": "DELETE FROM users WHERE id = 1"}.');
      return reviews.classify(req.user!, { connection: req.params.name, input });
    });

    const listQuery = {
      status: { type: 'enum', values: STATUSES },
      connection: { type: 'string', maxLength: 63, pattern: CONNECTION_NAME, hint: "a connection's name, e.g. prod-db" },
      requester: { type: 'string', maxLength: 254, pattern: EMAIL, hint: "the requester's email, e.g. alice@example.com" },
      include: { type: 'list', values: INCLUDES },
      ...pagingParams(50),
    } as const;
    api.get('/reviews', { config: { query: listQuery } }, async (req) => {
      const q = req.query as { status?: string; connection?: string; requester?: string; include?: string[]; limit?: number; cursor?: string };
      const limit = q.limit ?? 50;
      const cursor = q.cursor ? decodeCursor('reviews', q.cursor, TIME_ID_CURSOR) : undefined;
      const include = { output: false, input: false, classification: false };
      for (const i of q.include ?? []) include[i as keyof typeof include] = true;
      const rows = await reviews.list(req.user!, {
        status: q.status?.toUpperCase() as ReviewStatus | undefined,
        connection: q.connection,
        requester: q.requester,
        take: limit + 1,
        after: cursor && { createdAt: new Date(cursor[0]), id: cursor[1] },
        include,
      });
      const { page, nextCursor } = pageOf('reviews', rows, limit, (r) => [r.createdAt.toISOString(), r.id]);
      return { reviews: page.map((r) => forRequester(req.user!, r, toReviewListView(r))), nextCursor };
    });

    const waitQuery = { wait: { type: 'number', min: 0, hint: `seconds to wait for a decision, at most ${maxWaitSec}` } } as const;
    api.get<{ Params: { id: string } }>('/reviews/:id', { config: { query: waitQuery } }, async (req, reply) => {
      const q = req.query as { wait?: number };
      if (q.wait === undefined) return forViewer(req.user!, await reviews.get(req.user!, req.params.id));
      const waitMs = Math.min(q.wait, maxWaitSec) * 1000;
      const view = forViewer(req.user!, await waitFor(req, reply, req.params.id, waitMs));
      if (view.status === 'EXPIRED') {
        // The seeds: on timeout "the user sees a timeout error".
        return reply.status(408).send(expiredAnswer(view));
      }
      return view;
    });

    api.get<{ Params: { id: string } }>('/reviews/:id/events', async (req) => ({ events: await reviews.history(req.user!, req.params.id) }));

    const decideRoute = (action: 'approve' | 'reject') =>
      api.put<{ Params: { id: string } }>(`/reviews/:id/${action}`, async (req) => {
        // An approval may limit the rows the command changes ("approve, at most 10 rows"; issue 14).
        const b = body(req, action === 'approve' ? ['group', 'reason', 'maxRows'] : ['group', 'reason']);
        const row = await reviews.vote(req.user!, req.params.id, { action, group: optionalString(b, 'group'), reason: optionalString(b, 'reason'), maxRows: optionalNumber(b, 'maxRows') }, auditCtx(req));
        return forViewer(req.user!, row);
      });
    decideRoute('approve');
    decideRoute('reject');

    // Corrections (issue 14): a reviewer changes the command instead of only rejecting it; the
    // requester's acceptance (consent, not an approval) lets the correction run.
    api.post<{ Params: { id: string } }>('/reviews/:id/suggest', async (req, reply) => {
      const b = body(req, ['input', 'comment', 'group']);
      const input = optionalString(b, 'input') ?? '';
      // A correction is a new request: it counts against the suggester's requests like a submit.
      await limits?.hitSubmit(req.user!.id);
      const done = await reviews.suggest(req.user!, req.params.id, { input, comment: optionalString(b, 'comment') ?? '', group: optionalString(b, 'group') }, auditCtx(req));
      return reply.status(201).send({ original: forViewer(req.user!, done.original), correction: forViewer(req.user!, done.correction) });
    });
    api.put<{ Params: { id: string } }>('/reviews/:id/accept', async (req) => {
      body(req, []);
      return forViewer(req.user!, await reviews.acceptCorrection(req.user!, req.params.id, auditCtx(req)));
    });

    // Just-in-Time access: a window on a connection, reviewed like a command; revoked at once.
    api.post<{ Params: { name: string } }>('/connections/:name/access', async (req, reply) => {
      const user = req.user!;
      const b = body(req, ['duration', 'reason']);
      const view = await reviews.requestAccess(user, { connection: req.params.name, duration: b.duration, reason: optionalString(b, 'reason'), admit: async () => limits?.hitSubmit(user.id) }, auditCtx(req));
      return reply.status(201).send(view);
    });
    api.put<{ Params: { id: string } }>('/reviews/:id/revoke', async (req) => {
      body(req, []);
      return forViewer(req.user!, await reviews.revokeAccess(req.user!, req.params.id, auditCtx(req)));
    });
  }, { prefix: '/api' });

  /** A review as `user` asked for it: with what they may decide on it now (ReviewViewForViewer). */
  function forViewer(user: AuthUser, row: Parameters<typeof toReviewView>[0]): ReviewViewForViewer {
    return reviewForViewer(reviews, user, row);
  }

  /** The body of a 4xx raised by fastify itself (parsing, sizes, media types). */
  function clientError(e: { statusCode?: number; code?: string; message?: string }) {
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { code: ErrorCode.BadInput, message: 'Send JSON with "Content-Type: application/json".' };
    if (e.statusCode === 413) {
      return { code: ErrorCode.TooLarge, message: `The request body is larger than ${BODY_LIMIT / 1024 / 1024} MiB, the gateway's limit (a command may have 1 MiB): split it into smaller requests.` };
    }
    if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || /JSON/.test(e.message ?? '')) {
      return { code: ErrorCode.BadInput, message: `The body is not valid JSON (${e.message ?? 'parse error'}). Send a JSON object, e.g. {"input": "SELECT 1"}.` };
    }
    return { code: ErrorCode.BadInput, message: e.message ?? 'Bad request.' };
  }

  async function waitFor(req: FastifyRequest, reply: FastifyReply, id: string, waitMs: number) {
    // A client that hangs up ends the wait early and frees its slot; the review is untouched.
    // Listening before the slot is taken, and checking the socket, misses no hang-up.
    const hangUp = new AbortController();
    reply.raw.on('close', () => hangUp.abort());
    if (req.raw.socket?.destroyed) hangUp.abort();
    // A stopping gateway answers at once with the review as it stands; the client asks again.
    return waitForReview({ reviews, limits, stopping: opts.drain?.drain.signal }, req.user!, id, waitMs, hangUp.signal, () => reauthenticate(req));
  }

  return app;
}
