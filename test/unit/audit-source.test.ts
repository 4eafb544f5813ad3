import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { auditCtx, mcpClientOf, sourceOf } from '../../src/gateway/audit-context.js';
import type { AuthUser } from '../../src/service/auth-user.js';

const req = (userAgent?: string) => ({ headers: userAgent === undefined ? {} : { 'user-agent': userAgent }, ip: '10.0.0.7' }) as unknown as FastifyRequest;
const alice: AuthUser = { id: '00000000-0000-4000-8000-000000000001', email: 'alice@example.com', isAdmin: false, groups: [], slackUserId: null, kind: 'person', owner: null };

describe('the audit source of an HTTP request', () => {
  it('is cli when the User-Agent is the hoop CLI’s, api otherwise', () => {
    expect(sourceOf(req('hoop-cli/0.1.0'), alice)).toBe('cli');
    expect(sourceOf(req('curl/8.5.0'), alice)).toBe('api');
    expect(sourceOf(req(), alice)).toBe('api');
    // Only a User-Agent that starts with it.
    expect(sourceOf(req('evil hoop-cli/0.1.0'), alice)).toBe('api');
    expect(sourceOf(req('hoop-cli/'), alice)).toBe('api');
  });

  it('is web for a request with the web app’s session, whatever the User-Agent claims', () => {
    const session = { ...alice, session: { id: 's1' } } as unknown as AuthUser;
    expect(sourceOf(req('hoop-cli/0.1.0'), session)).toBe('web');
  });

  describe('when a client claims to be the CLI', () => {
    it('changes the source label only: the actor is still the authenticated user', () => {
      const ctx = auditCtx(req('hoop-cli/9.9.9'), alice);
      expect(ctx).toMatchObject({ actorId: alice.id, actor: 'alice@example.com', source: 'cli', userAgent: 'hoop-cli/9.9.9', ip: '10.0.0.7' });
    });
  });

  describe('through an MCP client (hoop mcp relays it in Hoop-Mcp-Client)', () => {
    const mcp = (value: string | string[], userAgent = 'hoop-cli/0.1.0') => ({ headers: { 'user-agent': userAgent, 'hoop-mcp-client': value }, ip: '10.0.0.7' }) as unknown as FastifyRequest;

    it('is mcp, with the client named and its version', () => {
      expect(sourceOf(mcp('claude-desktop/1.2.0'), alice)).toBe('mcp');
      expect(auditCtx(mcp('claude-desktop/1.2.0'), alice)).toMatchObject({ source: 'mcp', actorId: alice.id, client: { name: 'claude-desktop', version: '1.2.0' } });
      // The version is after the last '/': a name may hold one.
      expect(mcpClientOf(mcp('acme/agent/2.0'))).toEqual({ name: 'acme/agent', version: '2.0' });
      expect(mcpClientOf(mcp('cursor'))).toEqual({ name: 'cursor', version: '' });
    });

    it('keeps what a client says of itself a short printable label', () => {
      expect(mcpClientOf(mcp('evil\u001b[31m\u0007/1'))).toEqual({ name: 'evil?[31m?', version: '1' });
      expect(mcpClientOf(mcp('naïve/1'))!.name).toBe('na?ve');
      const long = mcpClientOf(mcp(`${'a'.repeat(500)}/${'9'.repeat(500)}`))!;
      expect([long.name.length, long.version.length]).toEqual([100, 100]);
      // No name: no client; two headers: the first.
      expect(mcpClientOf(mcp('/1.0'))).toBeNull();
      expect(mcpClientOf(mcp('   '))).toBeNull();
      expect(mcpClientOf(mcp(['one/1', 'two/2']))).toEqual({ name: 'one', version: '1' });
    });

    it('is web with the web app’s session, whatever the header says, and names no client', () => {
      const session = { ...alice, session: { id: 's1' } } as unknown as AuthUser;
      expect(auditCtx(mcp('claude-desktop/1.2.0'), session)).toMatchObject({ source: 'web', client: null });
    });
  });
});
