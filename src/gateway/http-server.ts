// The HTTP edge: JSON API under /api, Slack at /slack/events, on one port. Turns requests into
// service calls and AppErrors into `{error: {code, message}}` with a fitting status.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ReviewStatus } from '../core/review-state.js';
import type { AuditContext } from '../db/audit.js';
import { AppError, ErrorCode, isAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { GatewaySlackReceiver } from '../bot/slack-receiver.js';
import type { AdminService } from '../service/admin-service.js';
import type { AuthUser, ReviewService } from '../service/review-service.js';
import { toReviewView } from '../service/review-view.js';
import { registerUserRoutes } from './user-routes.js';

export interface HttpServerOptions {
  admin: AdminService;
  reviews: ReviewService;
  slack?: GatewaySlackReceiver;
  log: Logger;
  /** Longest `?wait=` honoured, in seconds. */
  maxWaitSec?: number;
  trustProxy?: boolean;
}

const STATUSES: Record<string, ReviewStatus> = {
  pending: 'PENDING', approved: 'APPROVED', running: 'RUNNING', executed: 'EXECUTED', failed: 'FAILED', rejected: 'REJECTED', expired: 'EXPIRED',
};

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

function auditCtx(req: FastifyRequest): AuditContext {
  const user = req.user;
  return { actorId: user?.id ?? null, actor: user?.email ?? 'anonymous', source: 'api', ip: req.ip, userAgent: req.headers['user-agent'] ?? null };
}

function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (b === undefined || b === null || b === '') return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new AppError(ErrorCode.BadInput, 'The request body must be a JSON object.');
  return b as Record<string, unknown>;
}

function optionalString(b: Record<string, unknown>, field: string): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new AppError(ErrorCode.BadInput, `"${field}" must be a string.`);
  return v;
}

/** Builds the gateway's HTTP server (not yet listening). */
export function createHttpServer(opts: HttpServerOptions): FastifyInstance {
  const { admin, reviews } = opts;
  const maxWaitSec = opts.maxWaitSec ?? 600;
  const app = Fastify({ loggerInstance: opts.log as FastifyBaseLogger, trustProxy: opts.trustProxy ?? false, bodyLimit: 2 * 1024 * 1024 });

  app.setErrorHandler((error: unknown, req, reply) => {
    if (isAppError(error)) {
      if (error.retryAfterSec !== undefined) reply.header('retry-after', String(error.retryAfterSec));
      return reply.status(error.httpStatus).send(error.toJSON());
    }
    const e = error as { statusCode?: number; code?: string; message?: string };
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      const message = e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'Send JSON with "Content-Type: application/json".' : e.message ?? 'Bad request.';
      return reply.status(e.statusCode).send({ error: { code: ErrorCode.BadInput, message } });
    }
    req.log.error({ err: error }, 'request failed');
    return reply.status(500).send({ error: { code: ErrorCode.Internal, message: 'The gateway failed to handle this request; it is logged. Try again, and tell an admin if it persists.' } });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: ErrorCode.NotFound, message: `No route ${req.method} ${req.url}. The API lives under /api (see the README).` } });
  });

  app.get('/healthz', async () => ({ ok: true }));

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

  app.register(async (api) => {
    api.addHook('preHandler', async (req) => {
      req.user = await admin.authenticate(bearer(req));
    });

    api.get('/me', async (req) => ({ user: { id: req.user!.id, email: req.user!.email, admin: req.user!.isAdmin, groups: req.user!.groups, slackUserId: req.user!.slackUserId } }));

    api.post('/users', async (req, reply) => {
      const b = body(req);
      const result = await admin.createUser(req.user!, { email: b.email as string, name: optionalString(b, 'name'), groups: b.groups as string[] | undefined, admin: b.admin === true }, auditCtx(req));
      return reply.status(201).send(result);
    });
    api.get('/users', async (req) => ({ users: await admin.listUsers(req.user!) }));
    registerUserRoutes(api, { admin, auditCtx });

    api.post('/connections', async (req, reply) => {
      const b = body(req);
      const overwrite = (req.query as Record<string, string>).overwrite === 'true';
      const slackChannel = b.slackChannel === null ? null : optionalString(b, 'slackChannel');
      const { connection, created } = await admin.upsertConnection(
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
        },
        overwrite,
        auditCtx(req),
      );
      return reply.status(created ? 201 : 200).send({ connection });
    });
    api.get('/connections', async (req) => ({ connections: await admin.listConnections(req.user!) }));

    api.post<{ Params: { name: string } }>('/connections/:name/exec', async (req, reply) => {
      const b = body(req);
      const input = optionalString(b, 'input');
      if (input === undefined) throw new AppError(ErrorCode.BadInput, 'Give the SQL to run in "input", e.g. {"input": "UPDATE users SET ... WHERE id = 1", "reason": "..."}.');
      const row = await reviews.submit(req.user!, { connection: req.params.name, input, reason: optionalString(b, 'reason') }, auditCtx(req));
      return reply.status(201).send(toReviewView(row));
    });

    api.get('/reviews', async (req) => {
      const q = req.query as Record<string, string | undefined>;
      let status: ReviewStatus | undefined;
      if (q.status) {
        status = STATUSES[q.status.toLowerCase()];
        if (!status) throw new AppError(ErrorCode.BadInput, `Unknown status "${q.status}"; use one of: ${Object.keys(STATUSES).join(', ')}.`);
      }
      const limit = q.limit ? Number(q.limit) : undefined;
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new AppError(ErrorCode.BadInput, '"limit" must be a positive integer.');
      return { reviews: (await reviews.list(req.user!, { status, limit })).map(toReviewView) };
    });

    api.get<{ Params: { id: string } }>('/reviews/:id', async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      if (q.wait === undefined) return toReviewView(await reviews.get(req.user!, req.params.id));
      const wait = Number(q.wait);
      if (!Number.isFinite(wait) || wait < 0) throw new AppError(ErrorCode.BadInput, '"wait" must be a number of seconds, e.g. ?wait=30.');
      const waitMs = Math.min(wait, maxWaitSec) * 1000;
      const view = toReviewView(await waitFor(req, reply, req.params.id, waitMs));
      if (view.status === 'EXPIRED') {
        // The seeds: on timeout "the user sees a timeout error".
        return reply.status(408).send({
          error: { code: ErrorCode.Timeout, message: `Request ${view.id} expired at ${view.decidedAt ?? view.expiresAt} without every approval; it was not executed. Resubmit the command.` },
          review: view,
        });
      }
      return view;
    });

    api.get<{ Params: { id: string } }>('/reviews/:id/events', async (req) => ({ events: await reviews.history(req.user!, req.params.id) }));

    const decideRoute = (action: 'approve' | 'reject') =>
      api.put<{ Params: { id: string } }>(`/reviews/:id/${action}`, async (req) => {
        const b = body(req);
        const row = await reviews.vote(req.user!, req.params.id, { action, group: optionalString(b, 'group'), reason: optionalString(b, 'reason') }, auditCtx(req));
        return toReviewView(row);
      });
    decideRoute('approve');
    decideRoute('reject');
  }, { prefix: '/api' });

  async function waitFor(req: FastifyRequest, reply: FastifyReply, id: string, waitMs: number) {
    // A client that hangs up ends the wait early; the review itself is untouched.
    const controller = new AbortController();
    reply.raw.on('close', () => controller.abort());
    return reviews.waitForDecision(req.user!, id, waitMs, controller.signal);
  }

  return app;
}
