// Users, API keys, connections and Slack links: the admin use cases.
import { ACCESS_MODES, accessModeOf, durationWords, MAX_ACCESS_SEC_LIMIT, MIN_ACCESS_SEC, parseDuration } from '../core/access-window.js';
import { CHANNEL_NAMES } from '../notify/channel.js';
import { isChannelName } from '../notify/registry.js';
import { QUICK_RETRY_MS, retryRead } from '../db/after-connection-loss.js';
import { recordAudit, type AuditContext } from '../db/audit.js';
import { usableConnectionsWhere } from '../db/access-filters.js';
import type { Db } from '../db/client.js';
import type { UserListView } from '../contracts/admin-views.js';
import { externalIdOf, kindOf, ownerEmail, slackIdentity, userByIdentity } from '../db/identities.js';
import { AppError, ErrorCode } from '../errors.js';
import { DEFAULT_GUARDRAILS, REVIEW_MODES, type GuardrailRule } from '../core/sql-policy.js';
import { DETECTORS } from '../sql/masking.js';
import { dialectOf } from '../sql/types.js';
import { guardrailsOf, parseGuardrails, type ConnectionPolicyFields } from './connection-policy.js';
import type { AuthUser } from './auth-user.js';
import type { ConnectionView } from '../contracts/connection-view.js';
import { ensureBootstrapAdmin as bootstrapAdmin } from './bootstrap-admin.js';
import { HotCache } from '../hot-cache.js';
import { createSlackLinks } from './slack-links.js';
import { connectionCreatedDetail, connectionUpdatedDetail } from './connection-audit.js';
import { cleanGroups, EMAIL, generateApiKey, hashApiKey, keyPrefix, normalizeEmail, userView } from './user-fields.js';
import { createUserService } from './user-service.js';
import { createAgentService } from './agent-service.js';
import { AGENT_EMAIL_DOMAIN } from '../core/agents.js';

/** What a connection's name may be (also what a filter by connection accepts). */
export const CONNECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** lastUsedAt is written at most this often per key: no database write per request. */
const LAST_USED_EVERY_MS = 60_000;

/** A page of a list ordered by a unique key: at most `take` rows after `after`. */
export interface KeyPage {
  take: number;
  after?: string;
}

export interface UserInput {
  email: string;
  name?: string;
  groups?: string[];
  admin?: boolean;
}

export interface ConnectionInput {
  name: string;
  url?: string;
  reviewers?: string[];
  slackChannel?: string | null;
  reviewMode?: unknown;
  guardrails?: unknown;
  allowedGroups?: unknown;
  maskColumns?: unknown;
  maskDetectors?: unknown;
  allowFunctions?: unknown;
  distinctApprovers?: unknown;
  /** Channels that announce its requests; empty: every channel configured on the gateway. */
  plugins?: unknown;
  /** The Teams Workflows URL of this connection (a secret: never returned); null removes it. */
  teamsWebhookUrl?: unknown;
  /** command, jit or both (Just-in-Time access). */
  accessMode?: unknown;
  /** The longest access window: seconds, or "30m", "4h", "1d". */
  maxAccessDuration?: unknown;
  /** Agents may ask for access windows. */
  jitAgents?: unknown;
  /** Impact preview (issue 14): auto, estimate or off; the dry run's statement and lock timeouts in ms. */
  previewMode?: unknown;
  previewTimeoutMs?: unknown;
  previewLockTimeoutMs?: unknown;
  /** How many percent more rows than the dry run counted an approved run may change. */
  rowTolerancePct?: unknown;
}

export const PREVIEW_MODES = ['auto', 'estimate', 'off'] as const;

/** A whole number in [min, max], or undefined when absent; `what` says what it is. */
function intIn(value: unknown, field: string, min: number, max: number, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new AppError(ErrorCode.BadInput, `"${field}" must be a whole number from ${min} to ${max}: ${what}.`);
  }
  return value;
}

function checkPostgresUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError(ErrorCode.BadInput, 'The connection "url" is not a valid URL; use postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME.');
  }
  if (!['postgres:', 'postgresql:', 'mysql:'].includes(parsed.protocol)) {
    throw new AppError(ErrorCode.BadInput, `Connections of type "${parsed.protocol.replace(':', '')}" are not supported; use a postgres:// or mysql:// URL.`);
  }
}

function stringList(value: unknown, field: string, check?: (s: string) => string | null): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new AppError(ErrorCode.BadInput, `"${field}" must be a list of strings.`);
  const out = [...new Set(value.map((v: string) => v.trim()).filter(Boolean))];
  for (const v of out) {
    const problem = check?.(v);
    if (problem) throw new AppError(ErrorCode.BadInput, `"${field}": ${problem}`);
  }
  return out;
}

/** Lower-cased, each once. */
const lowerSet = (list: string[] | undefined) => list && [...new Set(list.map((v) => v.toLowerCase()))];

/** A Teams Workflows URL: https (http only to this machine), or null to remove it. */
function teamsUrl(value: unknown): string | null | undefined {
  if (value === undefined || value === null) return value;
  const bad = () => new AppError(ErrorCode.BadInput, '"teamsWebhookUrl" must be the https:// "HTTP POST URL" of a Teams Workflows flow ("Post to a channel when a webhook request is received"), or null to remove it.');
  if (typeof value !== 'string') throw bad();
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw bad();
  }
  const local = url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if ((url.protocol !== 'https:' && !local) || url.username || url.password) throw bad();
  return url.toString();
}

/** The policy fields of connection input, validated; undefined fields are left as they are. */
function policyFields(input: ConnectionInput) {
  if (input.reviewMode !== undefined && !(REVIEW_MODES as readonly unknown[]).includes(input.reviewMode)) {
    throw new AppError(ErrorCode.BadInput, `"reviewMode" must be one of ${REVIEW_MODES.join(', ')}.`);
  }
  if (input.distinctApprovers !== undefined && typeof input.distinctApprovers !== 'boolean') {
    throw new AppError(ErrorCode.BadInput, '"distinctApprovers" must be true (one person approves for one group; the default) or false.');
  }
  if (input.accessMode !== undefined && !(ACCESS_MODES as readonly unknown[]).includes(input.accessMode)) {
    throw new AppError(ErrorCode.BadInput, `"accessMode" must be one of ${ACCESS_MODES.join(', ')} (command: each command is reviewed; jit: people ask for access windows; both).`);
  }
  if (input.jitAgents !== undefined && typeof input.jitAgents !== 'boolean') {
    throw new AppError(ErrorCode.BadInput, '"jitAgents" must be true (agents may ask for access windows) or false (the default).');
  }
  let maxAccessSec: number | undefined;
  if (input.maxAccessDuration !== undefined) {
    const sec = parseDuration(input.maxAccessDuration);
    if (sec === null || sec < MIN_ACCESS_SEC || sec > MAX_ACCESS_SEC_LIMIT) {
      throw new AppError(ErrorCode.BadInput, `"maxAccessDuration" must be a duration from ${durationWords(MIN_ACCESS_SEC)} to ${durationWords(MAX_ACCESS_SEC_LIMIT)}, e.g. "30m", "4h" or "1d" (or a number of seconds).`);
    }
    maxAccessSec = sec;
  }
  if (input.previewMode !== undefined && !(PREVIEW_MODES as readonly unknown[]).includes(input.previewMode)) {
    throw new AppError(ErrorCode.BadInput, '"previewMode" must be auto (a dry run where it is safe, else the estimate; the default), estimate (the planner\'s estimate only) or off.');
  }
  return {
    previewMode: input.previewMode as string | undefined,
    previewTimeoutMs: intIn(input.previewTimeoutMs, 'previewTimeoutMs', 100, 60_000, "the dry run's statement timeout in milliseconds"),
    previewLockTimeoutMs: intIn(input.previewLockTimeoutMs, 'previewLockTimeoutMs', 10, 10_000, 'how long the dry run waits for a lock, in milliseconds'),
    rowTolerancePct: intIn(input.rowTolerancePct, 'rowTolerancePct', 0, 1000, 'how many percent more rows than the dry run counted an approved run may change'),
    accessMode: input.accessMode as string | undefined,
    maxAccessSec,
    jitAgents: input.jitAgents as boolean | undefined,
    distinctApprovers: input.distinctApprovers as boolean | undefined,
    teamsWebhookUrl: teamsUrl(input.teamsWebhookUrl),
    plugins: lowerSet(stringList(input.plugins, 'plugins', (v) => (isChannelName(v.toLowerCase()) ? null : `unknown plugin "${v}"; use ${CHANNEL_NAMES.join(', ')} (or none: every channel configured on the gateway)`))),
    reviewMode: input.reviewMode as string | undefined,
    guardrails: input.guardrails === undefined ? undefined : (parseGuardrails(input.guardrails) as GuardrailRule[]),
    allowedGroups: input.allowedGroups === undefined ? undefined : cleanGroups(input.allowedGroups, 'allowedGroups'),
    maskColumns: stringList(input.maskColumns, 'maskColumns', (v) => (/^[A-Za-z0-9_*.$-]+$/.test(v) ? null : `"${v}" is not a column name or pattern (letters, digits, _ and *)`)),
    maskDetectors: stringList(input.maskDetectors, 'maskDetectors', (v) => ((DETECTORS as readonly string[]).includes(v) ? null : `unknown detector "${v}"; use ${DETECTORS.join(', ')}`)),
    allowFunctions: stringList(input.allowFunctions, 'allowFunctions', (v) => (/^(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)(?:\.(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*))*$|^(?:[A-Za-z_][A-Za-z0-9_$]*\.)?[-+*/<>=~!@#%^&|`?]{1,63}$/.test(v) ? null : `"${v}" is not a function name (my_report, app.my_report, "MyReport") or an operator (===, app.===)`)),
  };
}

type StoredConnection = ConnectionPolicyFields & { name: string; slackChannel: string | null; distinctApprovers: boolean; plugins: string[]; teamsWebhookUrl: string | null; accessMode: string; maxAccessSec: number; jitAgents: boolean; previewMode: string; previewTimeoutMs: number; previewLockTimeoutMs: number; rowTolerancePct: number; createdAt: Date; updatedAt: Date };

/** What anyone may see of a connection: never its URL. */
export function connectionView(c: StoredConnection): ConnectionView {
  return {
    name: c.name,
    type: dialectOf(c.url),
    reviewers: c.reviewers,
    slackChannel: c.slackChannel,
    reviewMode: c.reviewMode,
    guardrails: guardrailsOf(c),
    allowedGroups: c.allowedGroups,
    maskColumns: c.maskColumns,
    maskDetectors: c.maskDetectors,
    allowFunctions: c.allowFunctions,
    distinctApprovers: c.distinctApprovers,
    plugins: c.plugins,
    // The URL carries its secret (sig=): only whether one is set.
    teamsWebhookUrlSet: c.teamsWebhookUrl !== null,
    accessMode: accessModeOf(c),
    maxAccessSec: c.maxAccessSec,
    jitAgents: c.jitAgents,
    previewMode: c.previewMode as ConnectionView['previewMode'],
    previewTimeoutMs: c.previewTimeoutMs,
    previewLockTimeoutMs: c.previewLockTimeoutMs,
    rowTolerancePct: c.rowTolerancePct,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

function requireAdmin(user: AuthUser): void {
  if (!user.isAdmin) throw new AppError(ErrorCode.Forbidden, 'Only an admin can do this; ask an admin of your gateway.');
}

export type AdminService = ReturnType<typeof createAdminService>;

export interface AdminServiceOptions {
  /**
   * The channels this gateway serves, and whether Teams has a default URL: a connection's plugins
   * may name only those (else its requests would reach nobody). Absent: every known channel.
   */
  channels?: { served: readonly string[]; teamsDefaultUrl: boolean };
  /** The impact preview of a connection created without a previewMode (PREVIEW_DEFAULT_MODE; the column's default 'auto' when absent). */
  previewDefaultMode?: 'auto' | 'estimate' | 'off';
}

/** What to set for a channel this gateway does not serve. */
const CHANNEL_SETUP: Record<string, string> = {
  slack: 'set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET on the gateway',
  teams: 'set TEAMS_WEBHOOK_URL on the gateway, or the connection\'s teamsWebhookUrl',
  webhooks: 'the gateway serves webhooks when it runs this version',
};

/** Refuses plugins that would announce a connection's requests on no channel this gateway serves. */
function checkPluginsServed(plugins: readonly string[], teamsUrl: boolean, channels: AdminServiceOptions['channels']): void {
  if (!channels) return;
  for (const p of plugins) {
    const served = channels.served.includes(p) && (p !== 'teams' || teamsUrl || channels.teamsDefaultUrl);
    if (!served) throw new AppError(ErrorCode.BadInput, `"plugins": ${p} is not configured on this gateway, so requests would not be announced there: ${CHANNEL_SETUP[p] ?? 'configure it'}, or list other plugins (none: every channel configured).`);
  }
}

/** Users, API keys, connections and Slack links. */
export function createAdminService(db: Db, options: AdminServiceOptions = {}) {
  // Recent authentications by key hash, for the read path only (authenticateHot): a cached entry is
  // checked by the read's audit write, and evicted the moment that check fails.
  const recent = new HotCache<AuthUser>(10_000, 10_000);

  /** The user owning `apiKey`; Unauthenticated when none. */
  async function authenticate(apiKey: string | undefined): Promise<AuthUser> {
    if (!apiKey) throw new AppError(ErrorCode.Unauthenticated, 'Missing API key: send "Authorization: Bearer <api key>" (hoop login stores one).');
    return authenticateHash(hashApiKey(apiKey));
  }

  /**
   * The user of `apiKey` from this process's recent authentications, if it has it (with
   * `key.cached`: the caller must check it against the database before acting on it).
   */
  function authenticateHot(apiKey: string | undefined): AuthUser | undefined {
    const hit = apiKey ? recent.get(hashApiKey(apiKey)) : undefined;
    if (hit) void touchKey(hit.key!.id, null, new Date(), true);
    return hit;
  }

  /** The user of `user.key` as the database has it now; Unauthenticated when the key no longer works. */
  async function refreshUser(user: AuthUser): Promise<AuthUser> {
    if (!user.key) return user;
    const key = await retryRead(() => db.apiKey.findUnique({ where: { id: user.key!.id }, include: { user: { include: { ...slackIdentity, ...ownerEmail } } } }), QUICK_RETRY_MS);
    return userOfKey(key);
  }

  async function authenticateHash(hash: string): Promise<AuthUser> {
    const key = await retryRead(() => db.apiKey.findUnique({ where: { hash }, include: { user: { include: { ...slackIdentity, ...ownerEmail } } } }), QUICK_RETRY_MS);
    return userOfKey(key, hash);
  }

  /** The user a key row stands for (and remembered for the read path); Unauthenticated when it does not work. */
  async function userOfKey(key: { id: string; hash: string; revokedAt: Date | null; lastUsedAt: Date | null; user: { id: string; email: string; isAdmin: boolean; groups: string[]; identities: { externalId: string }[]; active: boolean; updatedAt: Date; kind: string; owner: { email: string } | null } } | null, hash = key?.hash): Promise<AuthUser> {
    if (hash && (!key || key.revokedAt || !key.user.active)) recent.delete(hash);
    if (!key || key.revokedAt) throw new AppError(ErrorCode.Unauthenticated, 'This API key is not valid (unknown or revoked); ask an admin for a new one.');
    const u = key.user;
    if (!u.active) {
      throw new AppError(ErrorCode.Unauthenticated, `The user ${u.email} is deactivated, so their API keys do not work; an admin can reactivate them (hoop admin update user ${u.email} --activate).`);
    }
    await touchKey(key.id, key.lastUsedAt);
    const user: AuthUser = { id: u.id, email: u.email, isAdmin: u.isAdmin, groups: u.groups, slackUserId: externalIdOf(u), ...kindOf(u), key: { id: key.id, userUpdatedAt: u.updatedAt, cached: false } };
    recent.set(key.hash, { ...user, key: { ...user.key!, cached: true } });
    return user;
  }

  // When this process last asked to record a cached key's use (its lastUsedAt is not known here).
  const touchedAt = new Map<string, number>();

  /** Records that a key was used, at most once a minute per key (and once across replicas). */
  async function touchKey(id: string, lastUsedAt: Date | null, now = new Date(), cached = false): Promise<void> {
    const due = new Date(now.getTime() - LAST_USED_EVERY_MS);
    if (lastUsedAt && lastUsedAt > due) return;
    if (cached) {
      if ((touchedAt.get(id) ?? 0) > due.getTime()) return;
      if (touchedAt.size > 10_000) touchedAt.clear();
      touchedAt.set(id, now.getTime());
    }
    // Conditional, so of concurrent requests with the same key only the first one writes. Failing
    // to record a use must not refuse the request it belongs to.
    await db.apiKey.updateMany({ where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lte: due } }] }, data: { lastUsedAt: now } }).catch(() => undefined);
  }

  /** The hoop user linked to a Slack user id; NotLinked when none. */
  async function userBySlackId(slackUserId: string): Promise<AuthUser> {
    const u = await retryRead(() => userByIdentity(db, 'slack', slackUserId), QUICK_RETRY_MS);
    if (!u) throw new AppError(ErrorCode.NotLinked, 'Your Slack account is not linked to a hoop user yet. Run `/hoop subscribe` first.');
    if (!u.active) throw new AppError(ErrorCode.Forbidden, `Your hoop user ${u.email} is deactivated, so you cannot decide requests. Ask an admin of your gateway to reactivate you.`);
    return { id: u.id, email: u.email, isAdmin: u.isAdmin, groups: u.groups, slackUserId, ...kindOf(u) };
  }

  async function createUser(actor: AuthUser, input: UserInput, ctx: AuditContext) {
    requireAdmin(actor);
    const email = typeof input.email === 'string' ? normalizeEmail(input.email) : '';
    if (!EMAIL.test(email)) throw new AppError(ErrorCode.BadInput, 'Give the user\'s "email", e.g. {"email": "alice@company.com", "groups": ["dba-team"]}.');
    // That domain is the agents' (src/core/agents.ts): a person there would pass for one in lists.
    if (email.endsWith(`@${AGENT_EMAIL_DOMAIN}`)) throw new AppError(ErrorCode.BadInput, `Emails @${AGENT_EMAIL_DOMAIN} name agents; create an agent with POST /api/agents (hoop admin create agent), or give the person's real email.`);
    const groups = cleanGroups(input.groups, 'groups');
    const apiKey = generateApiKey();
    const user = await db.$transaction(async (tx) => {
      if (await tx.user.findUnique({ where: { email } })) {
        throw new AppError(ErrorCode.Conflict, `A user with the email ${email} already exists.`);
      }
      const created = await tx.user.create({
        data: { email, name: input.name?.trim() || null, isAdmin: input.admin === true, groups, apiKeys: { create: { hash: hashApiKey(apiKey), prefix: keyPrefix(apiKey) } } },
        include: slackIdentity,
      });
      await recordAudit(tx, ctx, 'user.created', null, { email, groups, admin: created.isAdmin });
      return created;
    });
    return { user: userView(user), apiKey };
  }

  async function listUsers(actor: AuthUser, page?: KeyPage) {
    requireAdmin(actor);
    const users = await db.user.findMany({
      // People only: agents are listed apart (GET /api/agents).
      where: { kind: 'person', ...(page?.after ? { email: { gt: page.after } } : {}) },
      orderBy: { email: 'asc' },
      take: page?.take,
      include: { ...slackIdentity, _count: { select: { apiKeys: { where: { revokedAt: null } } } } },
    });
    // How many keys still work, so a list shows who can still reach the API without a call per user.
    return users.map((u): UserListView => ({ ...userView(u), activeKeys: u._count.apiKeys }));
  }

  /** Makes the bootstrap admin exactly ADMIN_EMAIL / ADMIN_API_KEY (unset: no bootstrap key works). */
  function ensureBootstrapAdmin(email: string, apiKey: string | undefined) {
    return bootstrapAdmin(db, { email, apiKey });
  }

  async function upsertConnection(actor: AuthUser, input: ConnectionInput, overwrite: boolean, ctx: AuditContext) {
    requireAdmin(actor);
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (!CONNECTION_NAME.test(name)) throw new AppError(ErrorCode.BadInput, 'Give the connection a "name" of letters, digits, ".", "_" or "-", e.g. "prod-db".');
    if (input.url !== undefined) checkPostgresUrl(input.url);
    const reviewers = input.reviewers === undefined ? undefined : cleanGroups(input.reviewers, 'reviewers');
    const slackChannel = input.slackChannel === undefined ? undefined : input.slackChannel?.trim() || null;
    const policy = policyFields(input);
    return db.$transaction(async (tx) => {
      // Locked as it is now: two admins saving at once each see the other's change in their "before".
      await tx.$queryRaw`SELECT 1 FROM "Connection" WHERE "name" = ${name} FOR UPDATE`;
      const existing = await tx.connection.findUnique({ where: { name } });
      if (existing && !overwrite) {
        throw new AppError(ErrorCode.Conflict, `A connection named "${name}" already exists; pass ?overwrite=true (hoop ... --overwrite) to change it.`);
      }
      if (!existing && input.url === undefined) {
        throw new AppError(ErrorCode.BadInput, 'A new connection needs a "url", e.g. postgres://app@db.internal:5432/app.');
      }
      checkPluginsServed(policy.plugins ?? existing?.plugins ?? [], (policy.teamsWebhookUrl !== undefined ? policy.teamsWebhookUrl : existing?.teamsWebhookUrl) != null, options.channels);
      const data = { url: input.url, reviewers, slackChannel, ...policy, guardrails: policy.guardrails as object | undefined };
      const saved = existing
        ? await tx.connection.update({ where: { name }, data })
        : await tx.connection.create({
            data: { ...data, name, url: input.url!, reviewers: reviewers ?? [], slackChannel: slackChannel ?? null, guardrails: (policy.guardrails ?? DEFAULT_GUARDRAILS) as object, previewMode: policy.previewMode ?? options.previewDefaultMode },
          });
      const change = existing ? connectionUpdatedDetail(name, existing, saved) : null;
      if (change) await recordAudit(tx, ctx, 'connection.updated', null, change as object);
      else await recordAudit(tx, ctx, 'connection.created', null, connectionCreatedDetail(name, saved) as object);
      // The fields this save changed (none for a new connection).
      return { connection: connectionView(saved), created: !existing, changed: change ? Object.keys(change.before) : [] };
    });
  }

  /** The connections `user` may see (Access Control: the others are not visible), by name. */
  async function listConnections(user: AuthUser, page?: KeyPage) {
    const rows = await db.connection.findMany({ where: { AND: [usableConnectionsWhere(user), page?.after ? { name: { gt: page.after } } : {}] }, orderBy: { name: 'asc' }, take: page?.take });
    return rows.map(connectionView);
  }

  // Slack links live in their own module; the admin service keeps offering them.
  return { authenticate, authenticateHot, refreshUser, userBySlackId, createUser, listUsers, ensureBootstrapAdmin, upsertConnection, listConnections, ...createSlackLinks(db), ...createUserService(db), ...createAgentService(db) };
}
