import { z } from 'zod';
import { normalizeEmail } from './core/email.js';

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
  REVIEW_REMINDER_SEC: z.coerce.number({ message: 'must be a whole number of seconds (0 switches reminders off)' }).int('must be a whole number of seconds (0 switches reminders off)').min(0, 'must be 0 (no reminders) or more').optional(),
  ADMIN_API_KEY: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  // Emails compare case-insensitively: Boss@Corp.COM names the same person as boss@corp.com.
  ADMIN_EMAIL: z.string().transform(normalizeEmail).pipe(z.string().email()).default('admin@localhost.localdomain'),
  STATEMENT_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  OUTPUT_MAX_BYTES: z.coerce.number().int().positive().default(256 * 1024),
  MAX_STATEMENTS_PER_REQUEST: z.coerce.number().int().positive().default(1000),
  TARGET_POOL_MAX: z.coerce.number().int().positive().max(1000).default(10),
  TARGET_QUEUE_MAX: z.coerce.number().int().min(0).default(50),
  TARGET_QUEUE_WAIT_MS: z.coerce.number().int().min(0).default(5000),
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
  // Seconds a stopping process lets running commands finish before it hands them over (see README, "Stopping and deploying").
  SHUTDOWN_GRACE_SEC: z.coerce.number().int().min(0).max(86_400).default(60),
  MIGRATE_ON_START: z.enum(['true', 'false', '1', '0', '']).default('true').transform((v) => v !== 'false' && v !== '0'),
  METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  // A Teams Workflows URL carries its secret in the query (sig=): https only, except to this machine (tests).
  TEAMS_WEBHOOK_URL: optionalString.pipe(z.string().url('must be a URL (the Workflows "HTTP POST URL")').refine(isSecureOrLocal, 'must start with https:// (plain http only to localhost)').optional()),
  // Where people open the web app; Teams cards link to PUBLIC_URL/reviews/<id>.
  PUBLIC_URL: optionalString.pipe(z.string().url('must be a URL such as https://hoop.example.com').refine(isWebOrigin, 'must be an http(s) URL without a query or fragment, such as https://hoop.example.com').optional()),
  // Webhook destinations in private, loopback and link-local ranges are refused unless this is true.
  WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
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
  /** How long a transaction may wait for a pooled connection before the request gets a 503. */
  databaseTxWaitMs: number;
  limits: LimitsConfig;
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
  /** Custom webhooks: whether destinations may be private, loopback or link-local addresses. */
  webhooks: { allowPrivate: boolean };
}

/** Raised with a message naming each bad variable. */
export class ConfigError extends Error {}

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
  return {
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    port: e.PORT,
    host: e.HOST,
    slack,
    slackOffReason,
    reviewTimeoutSec: e.REVIEW_TIMEOUT_SEC,
    reviewReminderSec,
    adminApiKey: e.ADMIN_API_KEY,
    adminEmail: e.ADMIN_EMAIL,
    statementTimeoutMs: e.STATEMENT_TIMEOUT_MS,
    outputMaxBytes: e.OUTPUT_MAX_BYTES,
    maxStatements: e.MAX_STATEMENTS_PER_REQUEST,
    targetPool: { max: e.TARGET_POOL_MAX, maxWaiting: e.TARGET_QUEUE_MAX, waitMs: e.TARGET_QUEUE_WAIT_MS },
    readCheckCacheMs: e.READ_CHECK_CACHE_MS,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databaseTxWaitMs: e.DATABASE_TX_WAIT_MS,
    limits: {
      windowSec: e.RATE_LIMIT_WINDOW_SEC,
      submitsPerUser: e.RATE_LIMIT_SUBMITS,
      commandsPerUser: e.RATE_LIMIT_COMMANDS,
      authFailuresPerIp: e.RATE_LIMIT_AUTH_FAILURES_PER_IP,
      authFailuresPerKey: e.RATE_LIMIT_AUTH_FAILURES_PER_KEY,
      longPollsPerUser: e.LONG_POLLS_PER_KEY,
    },
    queuePrefix: e.QUEUE_PREFIX,
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    shutdownGraceMs: e.SHUTDOWN_GRACE_SEC * 1000,
    migrateOnStart: e.MIGRATE_ON_START,
    metrics: { token: e.METRICS_TOKEN, port: e.METRICS_PORT },
    teamsWebhookUrl: e.TEAMS_WEBHOOK_URL,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    webhooks: { allowPrivate: e.WEBHOOK_ALLOW_PRIVATE },
  };
}
