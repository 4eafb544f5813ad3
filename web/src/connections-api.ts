// Connections through the public API, as the Run and Connections pages need them. The gateway
// lists only the connections the user may use, and never sends a database or Teams URL back.
import type { ConnectionView } from '../../src/contracts/connection-view.ts';
import { api, query } from './api.ts';

export type { ConnectionView };

/** Every connection the user may see, following the pages of GET /api/connections. */
export async function loadConnections(signal?: AbortSignal): Promise<ConnectionView[]> {
  const all: ConnectionView[] = [];
  let cursor: string | undefined;
  // A bound on pages: a gateway that kept answering with a cursor would otherwise loop forever.
  for (let page = 0; page < 100; page++) {
    const r = await api.get<{ connections: ConnectionView[]; nextCursor: string | null }>(`/api/connections${query({ limit: 200, cursor })}`, { signal });
    all.push(...r.connections);
    if (!r.nextCursor) break;
    cursor = r.nextCursor;
  }
  return all;
}

/**
 * What POST /api/connections takes. `url` and `teamsWebhookUrl` are write-only: left out, the
 * gateway keeps what it has (`teamsWebhookUrl: null` removes it).
 */
export interface ConnectionInput {
  name: string;
  url?: string;
  reviewers: string[];
  slackChannel: string | null;
  reviewMode: string;
  guardrails: unknown[];
  allowedGroups: string[];
  maskColumns: string[];
  maskDetectors: string[];
  allowFunctions: string[];
  distinctApprovers: boolean;
  plugins: string[];
  teamsWebhookUrl?: string | null;
  /** Just-in-Time access: command, jit or both. */
  accessMode: 'command' | 'jit' | 'both';
  /** The longest access window: "30m", "4h", "1d" or seconds; left out, the gateway keeps it. */
  maxAccessDuration?: string;
  jitAgents: boolean;
  /** Impact preview of writes: auto, estimate or off; the dry run's limits; the run's tolerance over its count. */
  previewMode: 'auto' | 'estimate' | 'off';
  previewTimeoutMs?: number;
  previewLockTimeoutMs?: number;
  rowTolerancePct?: number;
}

/** Creates a connection (refused when the name is taken) or changes an existing one. */
export async function saveConnection(input: ConnectionInput, existing: boolean): Promise<ConnectionView> {
  const r = await api.post<{ connection: ConnectionView }>(`/api/connections${existing ? '?overwrite=true' : ''}`, input);
  return r.connection;
}
