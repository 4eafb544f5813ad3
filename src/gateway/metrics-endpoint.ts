// /metrics for Prometheus: on the gateway's port, or on METRICS_PORT (a tiny server with only
// /metrics and /healthz, for a workers-only process). With METRICS_TOKEN set it asks for
// `Authorization: Bearer <token>`. Also the hook that times every HTTP request by route pattern.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { METRICS_CONTENT_TYPE, observeHttpRequest, UNMATCHED_ROUTE } from '../metrics.js';

export interface MetricsEndpointOptions {
  /** Refreshes the scrape-time gauges and renders every metric. */
  scrape: () => Promise<string>;
  /** METRICS_TOKEN: when set, a scrape must present it as a bearer token. */
  token?: string;
}

const UNAUTHORIZED = { error: { code: ErrorCode.Unauthenticated, message: 'Metrics need "Authorization: Bearer <METRICS_TOKEN>".' } };

const digest = (s: string) => createHash('sha256').update(s).digest();

/** True when no token is configured, or the header carries it (compared in constant time). */
export function metricsAuthorized(header: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return Boolean(m) && timingSafeEqual(digest(m![1]!), digest(token));
}

/** Times every request by method, route pattern and status: a URL no route matches is one label. */
export function registerHttpMetrics(app: FastifyInstance): void {
  app.addHook('onResponse', async (req, reply) => {
    // The pattern (/api/reviews/:id), never the URL: ids and probes must not make new series.
    observeHttpRequest(req.method, req.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode, reply.elapsedTime / 1000);
  });
}

/** GET /metrics on the gateway's own HTTP server. */
export function registerMetricsRoute(app: FastifyInstance, opts: MetricsEndpointOptions): void {
  app.get('/metrics', async (req, reply) => {
    if (!metricsAuthorized(req.headers.authorization, opts.token)) return reply.status(401).header('www-authenticate', 'Bearer').send(UNAUTHORIZED);
    return reply.type(METRICS_CONTENT_TYPE).send(await opts.scrape());
  });
}

/** A server with only /metrics and /healthz, on its own port (METRICS_PORT). */
export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Starts the METRICS_PORT server. */
export async function startMetricsServer(opts: MetricsEndpointOptions & { port: number; host: string; log: Logger }): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: { code: ErrorCode.BadInput, message: 'Only GET.' } }, { allow: 'GET, HEAD' });
    if (path === '/healthz') return json(200, { ok: true });
    if (path !== '/metrics') return json(404, { error: { code: ErrorCode.NotFound, message: 'This port serves only /metrics and /healthz.' } });
    if (!metricsAuthorized(req.headers.authorization, opts.token)) return json(401, UNAUTHORIZED, { 'www-authenticate': 'Bearer' });
    opts.scrape().then(
      (text) => {
        res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err) => {
        opts.log.error({ err }, 'metrics scrape failed');
        json(500, { error: { code: ErrorCode.Internal, message: 'The metrics could not be collected; it is logged.' } });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => (server.off('error', reject), resolve()));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  opts.log.info({ port }, 'metrics listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        // A scraper keeps its connection alive; the close must not wait for it.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
