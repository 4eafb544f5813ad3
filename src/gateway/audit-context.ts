// Who acts in an HTTP request, through what, from where: the AuditContext of every audit event an
// API call or a web-app action writes.
import type { FastifyRequest } from 'fastify';
import type { AuditContext, AuditSource } from '../db/audit.js';
import type { AuthUser } from '../service/auth-user.js';

/** The User-Agent the hoop CLI sends (src/cli/version.ts): `hoop-cli/<version>`. */
const CLI_AGENT = /^hoop-cli\/\S+/;

/**
 * The source of a request: `web` when it came with the web app's session, `cli` when it says it
 * is the hoop CLI, `api` otherwise. The User-Agent is the client's to choose: a client that claims
 * to be the CLI changes this label and nothing else. Who the actor is comes only from the API key
 * or the session that authenticated the request.
 */
export function sourceOf(req: FastifyRequest, user: AuthUser | undefined): AuditSource {
  if (user?.session) return 'web';
  if (mcpClientOf(req)) return 'mcp';
  return CLI_AGENT.test(req.headers['user-agent'] ?? '') ? 'cli' : 'api';
}

/** The header `hoop mcp` relays its MCP client's name and version in: `<name>/<version>`. */
export const MCP_CLIENT_HEADER = 'hoop-mcp-client';
/** Longest name or version kept of what a client says it is. */
const MCP_CLIENT_PART_CHARS = 100;

/**
 * The MCP client a request says it comes through (`Hoop-Mcp-Client: claude-desktop/1.2.0`, the
 * version after the last '/'); null when none is said. What a client says of itself is a label, as
 * the User-Agent is: control and non-ASCII characters become '?', each part is cut to 100 characters,
 * and a header without a name is ignored. Who acts comes only from the key.
 */
export function mcpClientOf(req: Pick<FastifyRequest, 'headers'>): { name: string; version: string } | null {
  const raw = req.headers[MCP_CLIENT_HEADER];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!value) return null;
  const cut = value.lastIndexOf('/');
  const clean = (s: string) => s.trim().replace(/[^\x20-\x7e]/g, '?').slice(0, MCP_CLIENT_PART_CHARS);
  const name = clean(cut >= 0 ? value.slice(0, cut) : value);
  const version = clean(cut >= 0 ? value.slice(cut + 1) : '');
  return name ? { name, version } : null;
}

/** Who acts, from where: a request with the web app's session is the web's, and names the IdP subject after SSO. */
export function auditCtx(req: FastifyRequest, user: AuthUser | undefined = req.user): AuditContext {
  const session = user?.session;
  return {
    actorId: user?.id ?? null,
    actor: user?.email ?? 'anonymous',
    source: sourceOf(req, user),
    ip: req.ip,
    userAgent: req.headers['user-agent'] ?? null,
    idp: session?.oidcSubject ? { issuer: session.oidcIssuer, subject: session.oidcSubject } : null,
    client: session ? null : mcpClientOf(req),
  };
}
