// A connection as the API shows it (GET /api/connections, POST /api/connections): the CLI, the web
// app and MCP read this shape. Never carries the database URL or the Teams URL (both hold secrets).
import type { GuardrailRule } from '../core/sql-policy.js';

export interface ConnectionView {
  name: string;
  /** The database's dialect, from its URL's scheme. */
  type: 'postgres' | 'mysql';
  /** The approver groups ("Access Requests"): empty means commands run without review. */
  reviewers: string[];
  slackChannel: string | null;
  /** writes: reads run at once read-only; all: every command is reviewed; none: nothing is. */
  reviewMode: string;
  guardrails: GuardrailRule[];
  /** Only these groups (and the reviewers) see and use it; empty: everyone. */
  allowedGroups: string[];
  maskColumns: string[];
  maskDetectors: string[];
  allowFunctions: string[];
  distinctApprovers: boolean;
  /** Channels that announce its requests; empty: every channel configured on the gateway. */
  plugins: string[];
  /** Whether it has its own Teams Workflows URL (the URL itself is a secret). */
  teamsWebhookUrlSet: boolean;
  /** Just-in-Time access: command (each command reviewed), jit (access windows only) or both. */
  accessMode: 'command' | 'jit' | 'both';
  /** The longest access window one request may ask for, in seconds. */
  maxAccessSec: number;
  /** Agents may ask for access windows. */
  jitAgents: boolean;
  /** Impact preview of writes (issue 14): auto (a dry run where safe, else the estimate), estimate, or off. */
  previewMode: 'auto' | 'estimate' | 'off';
  /** The dry run's statement timeout and lock timeout, in milliseconds. */
  previewTimeoutMs: number;
  previewLockTimeoutMs: number;
  /** How many percent more rows than the dry run counted an approved run may change before it is rolled back. */
  rowTolerancePct: number;
  createdAt: string;
  updatedAt: string;
}
