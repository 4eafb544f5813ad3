// The port MCP's tools call: what an MCP client may ask the gateway. Implemented twice — in the
// gateway's process over its services (src/gateway/mcp-operations.ts, for /mcp) and over the HTTP
// API (src/cli/mcp-operations.ts, for `hoop mcp`) — so both servers offer the same tools.
import type { ClassifyView } from '../contracts/classify-view.js';
import type { ConnectionView } from '../contracts/connection-view.js';
import type { ReviewView, ReviewViewForViewer } from '../contracts/review-view.js';

/** Who calls, as GET /api/me says. */
export interface CallerView {
  email: string;
  groups: string[];
  admin: boolean;
  kind: 'person' | 'agent';
}

export interface HoopOperations {
  me(): Promise<CallerView>;
  /** The connections the caller may use, by name. */
  listConnections(): Promise<ConnectionView[]>;
  /** Submits a command (POST /api/connections/:name/exec): the request, or a read's result. */
  exec(command: { connection: string; input: string; reason?: string }): Promise<ReviewView>;
  getReview(id: string): Promise<ReviewViewForViewer>;
  /**
   * Waits up to `timeoutSec` for a decision and the run (GET /api/reviews/:id?wait=); the review as
   * it then stands. An expired request is refused with the API's 408 words.
   */
  waitReview(id: string, timeoutSec: number, signal?: AbortSignal): Promise<ReviewViewForViewer>;
  /** How the gateway would treat a command (POST /api/connections/:name/classify); nothing is created. */
  classify(connection: string, input: string): Promise<ClassifyView>;
  /** Asks for an access window (POST /api/connections/:name/access): the access request, pending or granted. */
  requestAccess(request: { connection: string; duration: string; reason: string }): Promise<ReviewView>;
  /** Accepts a change a reviewer made to the caller's request (PUT /api/reviews/:id/accept): consent, not an approval. */
  acceptCorrection(id: string): Promise<ReviewViewForViewer>;
}

/**
 * A refusal of the gateway, in its own words (not found, guardrail, 403, 429, 408...): a tool
 * answers it as a result with `isError: true`, never as a failure of the MCP server.
 */
export class OperationRefused extends Error {
  constructor(
    message: string,
    /** The API's error code (`not_found`, `guardrail_blocked`, `rate_limited`...). */
    readonly code: string,
  ) {
    super(message);
    this.name = 'OperationRefused';
  }
}
