// MCP over Streamable HTTP at /mcp: the tools of src/mcp/tools.ts for a client that holds an API key.
//
// Sessions: stateless servers, sessions in Redis. Each POST builds a fresh MCP server and transport
// (JSON answers, no SSE), runs it, and drops it, so any replica behind a load balancer answers any
// request and a stopping gateway holds no open MCP stream (GET /mcp, the server-to-client stream,
// is 405: hoop sends no notifications). The initialize request opens a session (mcp-sessions.ts)
// whose id the client sends back; it is bound to the person whose key opened it (another person's
// key with it gets 404, as an unknown id does), bounded per person, ended after its idle time, and
// remembers only the client's name and version for the audit trail. A session grants nothing:
// every request authenticates with its bearer key, exactly as /api does (same auth-failure
// blocking, same limits); the web app's session cookie is not accepted here.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditContext } from '../db/audit.js';
import { ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { registerTools, SERVER_INSTRUCTIONS } from '../mcp/tools.js';
import type { AuthUser } from '../service/review-service.js';
import { VERSION } from '../version.js';
import { auditCtx } from './audit-context.js';
import { createGatewayOperations, type GatewayOperationsOptions } from './mcp-operations.js';
import type { McpClientInfo, McpSessions } from './mcp-sessions.js';
import { acceptJsonBodiesOnly } from './request-body.js';

export interface McpRouteOptions extends GatewayOperationsOptions {
  /** Authenticates a request by its bearer key (sets req.user), as /api does; throws to refuse it. */
  authenticate: (req: FastifyRequest) => Promise<void>;
  /** The user of `req`'s key as the database has it now. */
  reauthenticate: (req: FastifyRequest) => Promise<AuthUser>;
  /** Absent (no Redis for requests): served without sessions. */
  sessions?: McpSessions;
  log: Logger;
}

const SESSION_HEADER = 'mcp-session-id';
/** Longest client name or version kept, as for the Hoop-Mcp-Client header. */
const CLIENT_PART_CHARS = 100;

/** What an initialize request says of its client: a printable label, cut (never who acts). */
export function clientInfoOf(body: unknown): McpClientInfo | null {
  const info = (body as { params?: { clientInfo?: { name?: unknown; version?: unknown } } } | null)?.params?.clientInfo;
  const clean = (v: unknown) => (typeof v === 'string' ? v.trim().replace(/[^\x20-\x7e]/g, '?').slice(0, CLIENT_PART_CHARS) : '');
  const name = clean(info?.name);
  return name ? { name, version: clean(info?.version) } : null;
}

function isInitialize(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && (body as { method?: unknown }).method === 'initialize';
}

/** A JSON-RPC error answer, as the transport itself words its refusals. */
function rpcError(reply: FastifyReply, status: number, message: string) {
  return reply.status(status).send({ jsonrpc: '2.0', error: { code: -32001, message }, id: null });
}

// The SDK (and the web frameworks it brings) loads with the first MCP request: an idle gateway
// that serves no MCP client does not hold it in memory.
let sdk: Promise<[typeof import('@modelcontextprotocol/sdk/server/mcp.js'), typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js')]> | undefined;
const loadSdk = () => (sdk ??= Promise.all([import('@modelcontextprotocol/sdk/server/mcp.js'), import('@modelcontextprotocol/sdk/server/streamableHttp.js')]));

/** Registers /mcp on `app` (its own scope: JSON bodies only, bearer keys only). */
export function registerMcpRoute(app: FastifyInstance, opts: McpRouteOptions): void {
  app.register(async (scope) => {
    acceptJsonBodiesOnly(scope);
    scope.addHook('onRequest', async (req) => opts.authenticate(req));

    scope.post('/mcp', async (req, reply) => {
      const user = req.user!;
      const presented = req.headers[SESSION_HEADER];
      const sessionId = Array.isArray(presented) ? presented[0] : presented;
      let client: McpClientInfo | null = null;
      let opened: string | null = null;
      if (isInitialize(req.body)) {
        client = clientInfoOf(req.body);
        opened = opts.sessions ? await opts.sessions.open(user.id, client) : null;
      } else if (sessionId !== undefined && opts.sessions) {
        const found = await opts.sessions.touch(sessionId, user.id);
        // 404 is what the specification has a client do: start a new session with initialize.
        if (found.found === false) return rpcError(reply, 404, 'Session not found: it ended (idle too long, or more sessions were opened), or it belongs to another key\'s user. Initialize a new session.');
        // Redis does not answer: the request is served (the key authenticated it) without the client's name.
        if (found.found === true) client = found.client;
      }
      const ctx: AuditContext = { ...auditCtx(req, user), source: 'mcp', client };
      const hangUp = new AbortController();
      reply.raw.on('close', () => hangUp.abort());
      const ops = createGatewayOperations(opts, { user, ctx, hangUp: hangUp.signal, reauthenticate: () => opts.reauthenticate(req) });
      const [{ McpServer }, { StreamableHTTPServerTransport }] = await loadSdk();
      const server = new McpServer({ name: 'hoop', version: VERSION }, { instructions: SERVER_INSTRUCTIONS });
      registerTools(server, ops, { onUnexpected: (err) => req.log.error({ err }, 'MCP tool failed') });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      reply.raw.on('close', () => void transport.close().then(() => server.close()).catch(() => {}));
      await server.connect(transport);
      // The transport writes the answer itself: the headers the hooks set (helmet's, no-store) go
      // onto the raw response first, where its writeHead merges them.
      reply.hijack();
      for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value as string | string[]);
      if (!reply.raw.hasHeader('cache-control')) reply.raw.setHeader('cache-control', 'no-store');
      if (opened) reply.raw.setHeader(SESSION_HEADER, opened);
      await transport.handleRequest(req.raw, reply.raw, req.body);
    });

    // hoop sends no server-initiated messages: no standing stream to hold open (or to drain).
    scope.get('/mcp', async (_req, reply) =>
      reply
        .status(405)
        .header('allow', 'POST, DELETE')
        .send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this server sends no server-initiated messages; POST requests to /mcp.' }, id: null }),
    );

    scope.delete('/mcp', async (req, reply) => {
      const presented = req.headers[SESSION_HEADER];
      const sessionId = Array.isArray(presented) ? presented[0] : presented;
      if (!sessionId) return reply.status(400).send({ error: { code: ErrorCode.BadInput, message: `DELETE /mcp ends a session: send its id in the ${SESSION_HEADER} header.` } });
      if (!opts.sessions || !(await opts.sessions.close(sessionId, req.user!.id))) return rpcError(reply, 404, 'Session not found.');
      return reply.status(200).send({});
    });
  });
}
