// MCP's operations over the gateway's HTTP API, for `hoop mcp`: each tool is the API call the CLI
// would make, and each refusal is the API's own error message.
import type { ClassifyView } from '../contracts/classify-view.js';
import type { ConnectionView } from '../contracts/connection-view.js';
import type { ReviewView, ReviewViewForViewer } from '../contracts/review-view.js';
import { OperationRefused, type CallerView, type HoopOperations } from '../mcp/operations.js';
import type { GatewayClient } from './api-client.js';
import { CliError } from './exit-codes.js';

/** Most connections listed (pages are followed up to this). */
const MAX_CONNECTIONS = 500;

/** The API's refusals (CliError carries its message) as tool refusals; anything else is thrown on. */
async function refusing<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof CliError) throw new OperationRefused(error.message, 'api');
    throw error;
  }
}

const at = (id: string) => `/api/reviews/${encodeURIComponent(id)}`;
const conn = (name: string) => `/api/connections/${encodeURIComponent(name)}`;

/** The operations of `client`'s key over the API. */
export function createHttpOperations(client: GatewayClient): HoopOperations {
  return {
    me: () => refusing(async () => (await client.request<{ user: CallerView }>('GET', '/api/me')).body.user),
    listConnections: () => refusing(() => client.list<ConnectionView>('/api/connections', 'connections', MAX_CONNECTIONS)),
    requestAccess: ({ connection, duration, reason }) => refusing(async () => (await client.request<ReviewView>('POST', `${conn(connection)}/access`, { duration, reason })).body),
    exec: ({ connection, input, reason }) => refusing(async () => (await client.request<ReviewView>('POST', `${conn(connection)}/exec`, { input, reason })).body),
    getReview: (id) => refusing(async () => (await client.request<ReviewViewForViewer>('GET', at(id))).body),
    acceptCorrection: (id) => refusing(async () => (await client.request<ReviewViewForViewer>('PUT', `${at(id)}/accept`, {})).body),
    waitReview: (id, timeoutSec, signal) =>
      refusing(async () => {
        // 408: the request expired while (or before) it was waited for; the API's words say so.
        const res = await client.request<any>('GET', `${at(id)}?wait=${timeoutSec}`, undefined, { signal, allow: [408] });
        if (res.status === 408) throw new OperationRefused(res.body?.error?.message ?? `Request ${id} expired; it was not executed.`, 'timeout');
        return res.body as ReviewViewForViewer;
      }),
    classify: (connection, input) => refusing(async () => (await client.request<ClassifyView>('POST', `${conn(connection)}/classify`, { input })).body),
  };
}
