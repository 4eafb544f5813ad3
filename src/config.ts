import { z } from 'zod';
import { normalizeEmail } from './core/email.js';
import { AGENT_EMAIL_DOMAIN } from './core/agents.js';

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

function parseUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** https, or http to this machine only. */
function isSecureOrLocal(url: string): boolean {
  const u = parseUrl(url);
  return !!u && (u.protocol === 'https:' || (u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname)));
}

/** An http(s) base URL that links can be appended to: no query, fragment or credentials. */
function isWebOrigin(url: string): boolean {
  const u = parseUrl(url);
  return !!u && (u.protocol === 'https:' || u.protocol === 'http:') && u.search === '' && u.hash === '' && u.username === '' && u.password === '';
}

const schema = z.object({
  DATABASE_URL: z.string().url().default('postgresql://postgres@127.0.0.1:5432/hoop'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8009),
  HOST: z.string().default('0.0.0.0'),
  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_API_URL: optionalString.pipe(z.string().url().optional()),
  SLACK_BOT_ID: optionalString,
  SLACK_BOT_USER_ID: optionalString,
  SLACK_CHANNEL: optionalString,
  SLACK_TEAM_ID: optionalString.pipe(z.string().regex(/^[TE][A-Z0-9]+$/, 'must be a Slack team id such as T0123ABCD').optional()),
  SLACK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  REVIEW_TIMEOUT_SEC: z.coerce.number().int().positive().default(3600),
  // Unset: half of REVIEW_TIMEOUT_SEC; 0 switches reminders off.
  // The impact preview of a connection created without a previewMode (issue 14).
  PREVIEW_DEFAULT_MODE: z.enum(['auto', 'estimate', 'off'], { message: 'must be auto (a dry run where safe, else the estimate), estimate or off' }).default('auto'),
  REVIEW_REMINDER_SEC: z.coerce.number({ message: 'must be a whole number of seconds (0 switches reminders off)' }).int('must be a whole number of seconds (0 switches reminders off)').min(0, 'must be 0 (no reminders) or more').optional(),
  ADMIN_API_KEY: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  // Emails compare case-insensitively: Boss@Corp.COM names the same person as boss@corp.com.
  // Never an agent's address (src/core/agents.ts): agents are never admins.
  ADMIN_EMAIL: z
    .string()
    .transform(normalizeEmail)
    .pipe(z.string().email().refine((e) => !e.endsWith(`@${AGENT_EMAIL_DOMAIN}`), `names an agent (@${AGENT_EMAIL_DOMAIN}); agents are never admins, so give a person's email`))
    .default('admin@localhost.localdomain'),
  STATEMENT_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  OUTPUT_MAX_BYTES: z.coerce.number().int().positive().default(256 * 1024),
  MAX_STATEMENTS_PER_REQUEST: z.coerce.number().int().positive().default(1000),
  TARGET_POOL_MAX: z.coerce.number().int().positive().max(1000).default(10),
  TARGET_QUEUE_MAX: z.coerce.number().int().min(0).default(50),
  TARGET_QUEUE_WAIT_MS: z.coerce.number().int().min(0).default(5000),
  // How often every process logs the audit chain's head (0: never), so it can be kept outside the database.
  AUDIT_HEAD_LOG_SEC: z.coerce.number({ message: 'must be a whole number of seconds (0: never)' }).int('must be a whole number of seconds (0: never)').min(0, 'must be 0 (never) or more').default(300),
  READ_CHECK_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  // `{hoop}`: a Redis Cluster hash tag, so every key of the gateway's queues lands in one slot.
  QUEUE_PREFIX: z.string().regex(/^([a-zA-Z0-9_-]+|\{[a-zA-Z0-9_-]+\})$/, 'must be letters, digits, _ and -, optionally wrapped in {} (a Redis Cluster hash tag)').default('hoop'),
  TRUST_PROXY: z.enum(['true', 'false', '1', '0', '']).default('false').transform((v) => v === 'true' || v === '1'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(500).default(10),
  DATABASE_TX_WAIT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  RATE_LIMIT_WINDOW_SEC: z.coerce.number().int().min(1).max(86_400).default(60),
  RATE_LIMIT_SUBMITS: z.coerce.number().int().min(0).default(60),
  RATE_LIMIT_COMMANDS: z.coerce.number().int().min(0).default(6000),
  RATE_LIMIT_AUTH_FAILURES_PER_IP: z.coerce.number().int().min(0).default(30),
  RATE_LIMIT_AUTH_FAILURES_PER_KEY: z.coerce.number().int().min(0).default(10),
  LONG_POLLS_PER_KEY: z.coerce.number().int().min(0).default(10),
  MCP_SESSIONS_PER_USER: z.coerce.number().int().min(1).max(1000).default(20),
  MCP_SESSION_IDLE_SEC: z.coerce.number().int().min(10).max(86_400).default(1800),
  // Seconds a stopping process lets running commands finish before it hands them over (see README, "Stopping and deploying").
  SHUTDOWN_GRACE_SEC: z.coerce.number().int().min(0).max(86_400).default(60),
  MIGRATE_ON_START: z.enum(['true', 'false', '1', '0', '']).default('true').transform((v) => v !== 'false' && v !== '0'),
  METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  // A Teams Workflows URL carries its secret in the query (sig=): https only, except to this machine (tests).
  TEAMS_WEBHOOK_URL: optionalString.pipe(z.string().url('must be a URL (the Workflows "HTTP POST URL")').refine(isSecureOrLocal, 'must start with https:// (plain http only to localhost)').optional()),
  // Where people open the web app; Teams cards link to PUBLIC_URL/reviews/<id>.
  PUBLIC_URL: optionalString.pipe(z.string().url('must be a URL such as https://hoop.example.com').refine(isWebOrigin, 'must be an http(s) URL without a query or fragment, such as https://hoop.example.com').optional()),
  // Single sign-on (OpenID Connect): all three of issuer, client id and secret, or none. The issuer
  // signs who people are: https only, except to this machine (tests, a local IdP).
  OIDC_ISSUER_URL: optionalString.pipe(z.string().url('must be the OpenID provider\'s issuer URL, such as https://login.example.com/realms/corp').refine(isSecureOrLocal, 'must start with https:// (plain http only to localhost)').optional()),
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  OIDC_AUTO_CREATE: z.enum(['true', 'false', '1', '0']).default('false').transform((v) => v === 'true' || v === '1'),
  // A claim name, or a dotted path into the claims (realm_access.roles); a name containing dots
  // (https://example.com/groups) is taken whole when the claims have it.
  OIDC_GROUPS_CLAIM: z.string().trim().min(1).max(200).default('groups'),
  OIDC_SCOPES: z
    .string()
    .trim()
    .default('openid email profile')
    .transform((v) => v.split(/\s+/).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be scope names separated by spaces')).refine((s) => s.includes('openid'), 'must include "openid" (and usually "email"), e.g. "openid email profile"')),
  // Webhook destinations in private, loopback and link-local ranges are refused unless this is true.
  // The web app's sessions: at most this long after sign-in, and ended after this long unused.
  WEB_SESSION_TTL_SEC: z.coerce.number().int().min(60).max(30 * 86_400).default(12 * 3600),
  WEB_SESSION_IDLE_SEC: z.coerce.number().int().min(60).max(30 * 86_400).default(2 * 3600),
  WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  // Attempts in flight at once per webhook endpoint, across every gateway process (a hanging receiver holds no more).
  WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: z.coerce.number().int().min(1).max(50).default(4),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.input<typeof schema>;

export interface SlackConfig {
  botToken: string;
  signingSecret: string;
  apiUrl?: string;
  botId?: string;
  botUserId?: string;
  defaultChannel?: string;
  /** The workspace the app is installed in; learned from auth.test when not configured. */
  teamId?: string;
  /** How long a job waits for Slack's answer before the outcome counts as unknown. */
  timeoutMs: number;
}

/** Request limits of the HTTP API, shared by every replica through Redis; 0 switches one off. */
export interface LimitsConfig {
  /** The window of the counting limits, in seconds. */
  windowSec: number;
  /** Requests (commands that are not reads run at once: reviewed, or run as a change) per person per window. */
  submitsPerUser: number;
  /** Commands of any kind (POST /api/connections/:name/exec, reads included) per person per window. */
  commandsPerUser: number;
  /** Failed authentications per client IP per window; beyond, the IP gets 429 until the window ends. */
  authFailuresPerIp: number;
  /** Failed authentications per client IP and presented key prefix per window. */
  authFailuresPerKey: number;
  /** Long-polls (GET /api/reviews/:id?wait=) open at once per API key. */
  longPollsPerUser: number;
}

/** MCP over Streamable HTTP (/mcp). */
export interface McpConfig {
  /** Sessions one person holds at once; a new one beyond ends their least recently used. */
  sessionsPerUser: number;
  /** Seconds a session lives without a request. */
  sessionIdleSec: number;
}

/** Single sign-on with an OpenID provider (see README, "Single sign-on (OpenID Connect)"). */
export interface OidcConfig {
  issuerUrl: string;
  clientId: string;
  /** A secret: never logged. Also keys the short-lived cookie that carries a sign-in to the callback. */
  clientSecret: string;
  /** Create a user (without groups) for a verified email the gateway does not know yet. */
  autoCreate: boolean;
  /** The claim (or dotted path) holding the user's groups; absent in a token: groups stay as they are. */
  groupsClaim: string;
  scopes: string[];
  /** PUBLIC_URL/auth/oidc/callback: what the provider must have registered for this client. */
  redirectUrl: string;
}

/** Typed configuration; every other module receives (parts of) this instead of reading env. */
export interface Config {
  databaseUrl: string;
  redisUrl: string;
  port: number;
  host: string;
  /** Undefined when Slack is switched off (no token or no signing secret). */
  slack?: SlackConfig;
  /** Why Slack is off, for the start-up log. */
  slackOffReason?: string;
  reviewTimeoutSec: number;
  /** When a request still pending reminds its reviewers, in seconds after it was made; 0: never. */
  reviewReminderSec: number;
  /** The impact preview of connections created without one: auto, estimate or off. */
  previewDefaultMode: 'auto' | 'estimate' | 'off';
  adminApiKey?: string;
  adminEmail: string;
  statementTimeoutMs: number;
  outputMaxBytes: number;
  /** Statements accepted in one request. */
  maxStatements: number;
  /** Per target database and process: connections at once, requests waiting for one, and how long they wait. */
  targetPool: { max: number; maxWaiting: number; waitMs: number };
  /** How long a clean verdict of a read's check on the target is reused (0: checked for every read). */
  readCheckCacheMs: number;
  /** Connections of our own database pool (per process). */
  databasePoolSize: number;
  /** How often the audit chain's head is logged, in seconds; 0: never. */
  auditHeadLogSec: number;
  /** How long a transaction may wait for a pooled connection before the request gets a 503. */
  databaseTxWaitMs: number;
  limits: LimitsConfig;
  mcp: McpConfig;
  queuePrefix: string;
  /** Take the client IP from X-Forwarded-For (behind a load balancer). */
  trustProxy: boolean;
  logLevel: string;
  /** How long a stop waits for running commands and requests before handing the rest over. */
  shutdownGraceMs: number;
  /** Apply pending migrations (`prisma migrate deploy`) before starting. */
  migrateOnStart: boolean;
  /** /metrics: the bearer token it asks for (none: open), and the port of its own server (none: the gateway's port). */
  metrics: { token?: string; port?: number };
  /** The default Teams Workflows URL (a secret: never logged); connections may set their own. */
  teamsWebhookUrl?: string;
  /** The web app's base URL, without a trailing slash (links in Teams cards). */
  publicUrl: string;
  /** Custom webhooks: whether destinations may be private, loopback or link-local addresses; attempts in flight per endpoint. */
  webhooks: { allowPrivate: boolean; maxInFlightPerEndpoint: number };
  /** Undefined when single sign-on is off (OIDC_ISSUER_URL, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET unset). */
  oidc?: OidcConfig;
  /** The web app's sessions: longest life after sign-in, and how long unused before they end. */
  web: { sessionTtlSec: number; sessionIdleSec: number };
}

/** Raised with a message naming each bad variable. */
export class ConfigError extends Error {}

const OIDC_TRIO = ['OIDC_ISSUER_URL', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'] as const;

/** Single sign-on when all three OIDC variables are set; a ConfigError naming the missing ones when only some are. */
function oidcConfig(e: z.output<typeof schema>, publicUrl: string): OidcConfig | undefined {
  const missing = OIDC_TRIO.filter((name) => !e[name]);
  if (missing.length === OIDC_TRIO.length) return undefined;
  if (missing.length) {
    throw new ConfigError(
      `Invalid configuration:\n${missing.map((name) => `  ${name}: required when ${OIDC_TRIO.filter((n) => !missing.includes(n)).join(' and ')} ${OIDC_TRIO.length - missing.length === 1 ? 'is' : 'are'} set (single sign-on needs all three; unset them all to run without it).`).join('\n')}`,
    );
  }
  // The provider sends people back to PUBLIC_URL: a default of http://localhost would send them
  // nowhere (and must be registered at the provider), so it has to be said.
  if (!e.PUBLIC_URL) {
    throw new ConfigError('Invalid configuration:\n  PUBLIC_URL: required with single sign-on (OIDC_ISSUER_URL): the address people open the web app at, such as https://hoop.example.com; register PUBLIC_URL/auth/oidc/callback at your OpenID provider.');
  }
  return {
    issuerUrl: e.OIDC_ISSUER_URL!,
    clientId: e.OIDC_CLIENT_ID!,
    clientSecret: e.OIDC_CLIENT_SECRET!,
    autoCreate: e.OIDC_AUTO_CREATE,
    groupsClaim: e.OIDC_GROUPS_CLAIM,
    scopes: e.OIDC_SCOPES,
    redirectUrl: `${publicUrl}/auth/oidc/callback`,
  };
}

/** Parses the environment once; throws ConfigError naming every missing or bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // A variable set to nothing (`SLACK_TIMEOUT_MS=` as .env.example lists it) means its default.
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v === undefined || v.trim() !== ''));
  const parsed = schema.safeParse(given);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}\nFix these variables (see .env.example) and start again.`);
  }
  const e = parsed.data;
  let slack: SlackConfig | undefined;
  let slackOffReason: string | undefined;
  if (e.SLACK_BOT_TOKEN && e.SLACK_SIGNING_SECRET) {
    slack = {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      apiUrl: e.SLACK_API_URL,
      botId: e.SLACK_BOT_ID,
      botUserId: e.SLACK_BOT_USER_ID,
      defaultChannel: e.SLACK_CHANNEL,
      teamId: e.SLACK_TEAM_ID,
      timeoutMs: e.SLACK_TIMEOUT_MS,
    };
  } else if (e.SLACK_BOT_TOKEN || e.SLACK_SIGNING_SECRET) {
    const missing = e.SLACK_BOT_TOKEN ? 'SLACK_SIGNING_SECRET' : 'SLACK_BOT_TOKEN';
    throw new ConfigError(`Invalid configuration:\n  ${missing}: required when the other Slack variable is set (or unset both to run without Slack).`);
  } else {
    slackOffReason = 'SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set';
  }
  const reviewReminderSec = e.REVIEW_REMINDER_SEC ?? Math.floor(e.REVIEW_TIMEOUT_SEC / 2);
  if (reviewReminderSec >= e.REVIEW_TIMEOUT_SEC) {
    throw new ConfigError(
      `Invalid configuration:\n  REVIEW_REMINDER_SEC: is ${reviewReminderSec}, but a reminder must come before the request expires (REVIEW_TIMEOUT_SEC=${e.REVIEW_TIMEOUT_SEC}). Set it below ${e.REVIEW_TIMEOUT_SEC}, leave it unset for half the timeout, or 0 to switch reminders off.`,
    );
  }
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return {
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    port: e.PORT,
    host: e.HOST,
    slack,
    slackOffReason,
    reviewTimeoutSec: e.REVIEW_TIMEOUT_SEC,
    reviewReminderSec,
    previewDefaultMode: e.PREVIEW_DEFAULT_MODE,
    adminApiKey: e.ADMIN_API_KEY,
    adminEmail: e.ADMIN_EMAIL,
    statementTimeoutMs: e.STATEMENT_TIMEOUT_MS,
    outputMaxBytes: e.OUTPUT_MAX_BYTES,
    maxStatements: e.MAX_STATEMENTS_PER_REQUEST,
    targetPool: { max: e.TARGET_POOL_MAX, maxWaiting: e.TARGET_QUEUE_MAX, waitMs: e.TARGET_QUEUE_WAIT_MS },
    readCheckCacheMs: e.READ_CHECK_CACHE_MS,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    auditHeadLogSec: e.AUDIT_HEAD_LOG_SEC,
    databaseTxWaitMs: e.DATABASE_TX_WAIT_MS,
    limits: {
      windowSec: e.RATE_LIMIT_WINDOW_SEC,
      submitsPerUser: e.RATE_LIMIT_SUBMITS,
      commandsPerUser: e.RATE_LIMIT_COMMANDS,
      authFailuresPerIp: e.RATE_LIMIT_AUTH_FAILURES_PER_IP,
      authFailuresPerKey: e.RATE_LIMIT_AUTH_FAILURES_PER_KEY,
      longPollsPerUser: e.LONG_POLLS_PER_KEY,
    },
    mcp: { sessionsPerUser: e.MCP_SESSIONS_PER_USER, sessionIdleSec: e.MCP_SESSION_IDLE_SEC },
    queuePrefix: e.QUEUE_PREFIX,
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    shutdownGraceMs: e.SHUTDOWN_GRACE_SEC * 1000,
    migrateOnStart: e.MIGRATE_ON_START,
    metrics: { token: e.METRICS_TOKEN, port: e.METRICS_PORT },
    teamsWebhookUrl: e.TEAMS_WEBHOOK_URL,
    publicUrl,
    webhooks: { allowPrivate: e.WEBHOOK_ALLOW_PRIVATE, maxInFlightPerEndpoint: e.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT },
    oidc: oidcConfig(e, publicUrl),
    web: { sessionTtlSec: e.WEB_SESSION_TTL_SEC, sessionIdleSec: e.WEB_SESSION_IDLE_SEC },
  };
}
