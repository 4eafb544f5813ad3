// Security headers and the CORS policy of every response (API, Slack, /healthz, errors, 404s).
// The API serves JSON: nothing may frame it, sniff it, cache it or read it from another origin.
// The web app's pages replace the Content-Security-Policy with their own (src/gateway/web-app.ts).
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import { firstNulPath } from '../core/nul-char.js';
import { AppError, ErrorCode } from '../errors.js';

/** Registers on the root of `app`: helmet, `Cache-Control: no-store`, the refusal of CORS preflights. */
export function applyHardening(app: FastifyInstance): void {
  app.register(helmet, {
    // No page, no script, no frame: the strictest policy a JSON API can have.
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
    frameguard: { action: 'deny' },
    // Browsers keep HTTPS for this host only: sibling hosts are not ours to decide.
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: false },
    // Cross-origin readers are refused below; the API has no public resources to share.
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  // Answers carry reviews, outputs and keys (once): no proxy or browser cache may keep them.
  // Only the web app's own files (src/gateway/web-app.ts) say otherwise: they carry no data.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    reply.removeHeader('x-powered-by');
    return payload;
  });
  // A NUL character (U+0000) anywhere in a body, a query or a path is refused before any handler:
  // the state database cannot store one, and a handler would fail on it halfway (an internal error).
  app.addHook('preValidation', async (req) => {
    for (const [where, value] of [['body', req.body], ['query', req.query], ['path', req.params]] as const) {
      const at = firstNulPath(value);
      if (at) throw new AppError(ErrorCode.BadInput, `The ${where} carries a NUL character (U+0000) in ${at.slice(0, 80)}; the gateway cannot store one. Remove it and send again.`);
    }
  });
  // CORS: none. No response carries Access-Control-Allow-Origin, and a preflight is refused
  // outright, so a browser page on another origin can neither send credentials nor read answers.
  app.options('*', async (_req, reply) =>
    reply.status(403).send({
      error: {
        code: ErrorCode.Forbidden,
        message: 'This gateway does not allow cross-origin requests (it sends no CORS headers). Call the API from a server, a script or the hoop CLI.',
      },
    }),
  );
}
