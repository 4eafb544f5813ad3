// What an MCP client says of itself is a label the audit trail keeps: printable, cut, and carried
// unchanged from `hoop mcp` (its Hoop-Mcp-Client header) to the gateway, and from /mcp's initialize.
import { describe, expect, it } from 'vitest';
import { clientHeader } from '../../src/cli/mcp-command.js';
import { mcpClientOf } from '../../src/gateway/audit-context.js';
import { clientInfoOf } from '../../src/gateway/mcp-route.js';

const viaHeader = (info: { name?: string; version?: string }) => {
  const value = clientHeader(info);
  return value === undefined ? null : mcpClientOf({ headers: { 'hoop-mcp-client': value } });
};

describe('hoop mcp relays its client', () => {
  it('as the gateway reads it back, a name with a slash included', () => {
    expect(viaHeader({ name: 'claude-desktop', version: '1.2.0' })).toEqual({ name: 'claude-desktop', version: '1.2.0' });
    expect(viaHeader({ name: 'acme/agent', version: '2.0' })).toEqual({ name: 'acme/agent', version: '2.0' });
  });

  it('a slash in the version cannot move part of it into the name', () => {
    expect(viaHeader({ name: 'agent', version: '1.0/evil' })).toEqual({ name: 'agent', version: '1.0_evil' });
  });

  it('control and non-ASCII characters become ?, each part at most 100 characters; no name, no header', () => {
    expect(clientHeader({ name: 'bot\r\nX-Injected: 1', version: 'v\u00e9' })).toBe('bot??X-Injected: 1/v?');
    expect(clientHeader({ name: 'n'.repeat(500), version: 'v'.repeat(500) })).toBe(`${'n'.repeat(100)}/${'v'.repeat(100)}`);
    expect(clientHeader({ name: '  ', version: '1' })).toBeUndefined();
    expect(clientHeader(undefined)).toBeUndefined();
  });
});

describe("/mcp's initialize", () => {
  it('keeps the clientInfo name and version as printable labels', () => {
    expect(clientInfoOf({ method: 'initialize', params: { clientInfo: { name: 'cursor', version: '0.50' } } })).toEqual({ name: 'cursor', version: '0.50' });
    expect(clientInfoOf({ params: { clientInfo: { name: 'a\u0000b\u202e', version: 7 } } })).toEqual({ name: 'a?b?', version: '' });
    expect(clientInfoOf({ params: { clientInfo: { name: 'x'.repeat(300) } } })?.name).toHaveLength(100);
  });

  it('is null without a usable name', () => {
    expect(clientInfoOf({ params: {} })).toBeNull();
    expect(clientInfoOf({ params: { clientInfo: { name: 42 } } })).toBeNull();
    expect(clientInfoOf(null)).toBeNull();
    expect(clientInfoOf('initialize')).toBeNull();
  });
});
