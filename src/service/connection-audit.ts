// What the audit trail keeps of a connection's configuration: every field an admin sets, plugins,
// guardrails, masking and access control included, with the URL's secrets and the Teams URL
// redacted (src/core/audit-diff.ts).
import { configChange, redactAccessUrl, redactDatabaseUrl, redactFields, type Redactor } from '../core/audit-diff.js';
import type { ConnectionPolicyFields } from './connection-policy.js';

/** A connection row as stored, the fields an admin can change: its policy and where it is announced. */
export interface ConnectionConfigRow extends ConnectionPolicyFields {
  slackChannel: string | null;
  distinctApprovers: boolean;
  plugins: string[];
  teamsWebhookUrl: string | null;
  accessMode: string;
  maxAccessSec: number;
  jitAgents: boolean;
  previewMode: string;
  previewTimeoutMs: number;
  previewLockTimeoutMs: number;
  rowTolerancePct: number;
}

const SECRETS: Record<string, Redactor> = { url: redactDatabaseUrl, teamsWebhookUrl: redactAccessUrl };

/** Every field of ConnectionConfigRow, in the order the trail shows them. */
const CONFIG_FIELDS = ['url', 'reviewers', 'slackChannel', 'reviewMode', 'guardrails', 'allowedGroups', 'maskColumns', 'maskDetectors', 'allowFunctions', 'distinctApprovers', 'plugins', 'teamsWebhookUrl', 'accessMode', 'maxAccessSec', 'jitAgents', 'previewMode', 'previewTimeoutMs', 'previewLockTimeoutMs', 'rowTolerancePct'] as const satisfies readonly (keyof ConnectionConfigRow)[];

function configOf(c: ConnectionConfigRow): Record<string, unknown> {
  return Object.fromEntries(CONFIG_FIELDS.map((k) => [k, c[k]]));
}

/** connection.created: the whole configuration as saved, secrets redacted. */
export function connectionCreatedDetail(name: string, saved: ConnectionConfigRow): { name: string; after: Record<string, unknown> } {
  return { name, after: redactFields(configOf(saved), SECRETS) };
}

/** connection.updated: before and after of the fields that changed (none: both empty), secrets redacted. */
export function connectionUpdatedDetail(name: string, before: ConnectionConfigRow, after: ConnectionConfigRow): { name: string; before: Record<string, unknown>; after: Record<string, unknown> } {
  return { name, ...configChange(configOf(before), configOf(after), SECRETS) };
}
