// `hoop mcp`: an MCP server over stdio for an MCP client (Claude Desktop, an IDE, an agent) that
// runs hoop as a local command. Its tools call the gateway's API with the stored key (or
// HOOP_API_KEY) and name the MCP client in the Hoop-Mcp-Client header, so the gateway audits each
// call as source `mcp` with that client. stdout carries MCP's JSON-RPC and nothing else; what the
// server has to say goes to stderr. Loaded only when `hoop mcp` runs: the SDK is in its own chunk.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { registerTools, SERVER_INSTRUCTIONS } from '../mcp/tools.js';
import { GatewayClient } from './api-client.js';
import { createHttpOperations } from './mcp-operations.js';
import { CLI_VERSION } from './version.js';
import { printable } from './output.js';

/** The header `hoop mcp` relays its client in (src/gateway/audit-context.ts reads it). */
const MCP_CLIENT_HEADER = 'hoop-mcp-client';

export interface McpCommandIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** `name/version` of what the client said it is, as a header can carry it (printable ASCII, cut). */
export function clientHeader(info: { name?: string; version?: string } | undefined): string | undefined {
  const clean = (v: string | undefined) => (v ?? '').trim().replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
  // The gateway reads the version after the last '/': a name may hold one, a version may not.
  const name = clean(info?.name);
  return name ? `${name}/${clean(info?.version).replace(/\//g, '_')}` : undefined;
}

/** Serves MCP on stdin/stdout until the client closes stdin. */
export async function runMcpServer(apiUrl: string, apiKey: string, io: McpCommandIo): Promise<void> {
  const server = new McpServer({ name: 'hoop', version: CLI_VERSION }, { instructions: SERVER_INSTRUCTIONS });
  // Known once the client has sent initialize, before any tool can be called.
  const header = () => {
    const value = clientHeader(server.server.getClientVersion());
    return value ? { [MCP_CLIENT_HEADER]: value } : ({} as Record<string, string>);
  };
  const client = new GatewayClient(apiUrl, apiKey, header);
  registerTools(server, createHttpOperations(client), {
    onUnexpected: (error) => io.stderr.write(`hoop mcp: a tool failed: ${printable((error as Error).stack ?? String(error))}\n`),
  });
  const transport = new StdioServerTransport(io.stdin as NodeJS.ReadStream, io.stdout as NodeJS.WriteStream);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    // The transport does not watch for the end of its input: the client closing stdin ends the server.
    io.stdin.once('end', () => void transport.close());
    io.stdin.once('close', () => void transport.close());
  });
  await server.connect(transport);
  io.stderr.write(`hoop mcp: serving MCP on stdio for ${apiUrl}\n`);
  await closed;
}
