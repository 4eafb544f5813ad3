// A real gateway for integration tests: real PostgreSQL, Redis, Bolt, BullMQ; fake Slack Web API.
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import type { Clock } from '../../src/core/ports.js';
import type { Logger } from '../../src/logger.js';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack.js';
import { signedForm, signedJson } from '../fakes/slack-requests.js';
import { createStateDatabase, REDIS_URL, uniqueName } from './databases.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789';
export const ADMIN_KEY = 'hoop_test_admin_key_0123456789';

export interface ApiResponse {
  status: number;
  body: any;
}

export interface TestGateway {
  gateway: Gateway;
  slack: FakeSlack;
  baseUrl: string;
  databaseUrl: string;
  prefix: string;
  env: Record<string, string>;
  api(method: string, path: string, options?: { key?: string; body?: unknown; headers?: Record<string, string> }): Promise<ApiResponse>;
  /** POSTs Slack-signed form fields to /slack/events. */
  slackPost(fields: Record<string, string>, options?: { secret?: string; timestamp?: number }): Promise<ApiResponse>;
  /** POSTs a Slack-signed Events API body (JSON) to /slack/events. */
  slackEvent(payload: Record<string, unknown>, options?: { secret?: string; timestamp?: number }): Promise<ApiResponse>;
  /** Creates a user through the API and returns its key. */
  createUser(email: string, groups: string[], admin?: boolean): Promise<{ id: string; apiKey: string }>;
  stop(): Promise<void>;
}

export interface TestGatewayOptions {
  env?: Record<string, string>;
  slack?: boolean;
  workers?: boolean;
  /** Reuse a database (a second replica); a fresh one is made otherwise. */
  databaseUrl?: string;
  prefix?: string;
  fakeSlack?: FakeSlack;
  sweepIntervalMs?: number;
  /** The test makes Slack refuse messages on purpose; otherwise stop() fails when Slack refused any. */
  expectSlackRefusals?: boolean;
  /** The clock of the use cases that decide expiry (a test of expiry moves one instead of sleeping). */
  clock?: Clock;
  /** How often the outbox is relayed besides after each commit. */
  relayIntervalMs?: number;
  /** Chain audit events in the background (default true); off where a test counts the gateway's COMMITs. */
  auditChain?: boolean;
  /** The gateway's logger (default: silent, or TEST_LOG_LEVEL); a test that reads what the gateway logs passes its own. */
  log?: Logger;
}

/** Deletes every BullMQ key of `prefix`'s queues, and the limits' counters under `prefix:`. */
export async function deleteQueues(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    // BullMQ's queues, and what the gateway keeps under its prefix (seen Slack signatures).
    for (const pattern of [`bull:${prefix}-*`, `${prefix}:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

/** Status and body, parsed as JSON when it is JSON. */
async function readResponse(res: Response): Promise<ApiResponse> {
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const state = options.databaseUrl ? { url: options.databaseUrl, drop: async () => {} } : await createStateDatabase();
  const slack = options.fakeSlack ?? (await startFakeSlack());
  const prefix = options.prefix ?? uniqueName('t');
  const env: Record<string, string> = {
    DATABASE_URL: state.url,
    REDIS_URL,
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_API_KEY: ADMIN_KEY,
    ADMIN_EMAIL: 'root@example.com',
    QUEUE_PREFIX: prefix,
    REVIEW_TIMEOUT_SEC: '3600',
    // Reminders off unless a test asks for them: the tests of short timeouts count messages, and a
    // reminder at half their timeout would add some.
    REVIEW_REMINDER_SEC: '0',
    // Impact previews off unless a test asks for them (test/integration/impact-preview.test.ts and
    // the channel tests do): a preview's message update or card would add to the messages counted
    // by tests of other things, at a moment that races their decisions.
    PREVIEW_DEFAULT_MODE: 'off',
    // Test files submit and fail authentication far more often than a person; the limits' own
    // tests set these low.
    RATE_LIMIT_SUBMITS: '100000',
    RATE_LIMIT_AUTH_FAILURES_PER_IP: '100000',
    RATE_LIMIT_AUTH_FAILURES_PER_KEY: '100000',
    ...(options.slack === false
      ? {}
      : { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.url, SLACK_BOT_ID: 'BBOT', SLACK_BOT_USER_ID: 'UBOT', SLACK_CHANNEL: 'C-REVIEWS' }),
    ...options.env,
  };
  const gateway = createGateway({ config: loadConfig(env), log: options.log ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), http: true, workers: options.workers ?? true, sweepIntervalMs: options.sweepIntervalMs ?? 1000, clock: options.clock, relayIntervalMs: options.relayIntervalMs, auditChainInBackground: options.auditChain });
  await gateway.start();
  const baseUrl = `http://127.0.0.1:${gateway.port}`;

  const api: TestGateway['api'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.key !== '') headers.authorization = `Bearer ${opts.key ?? ADMIN_KEY}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    return readResponse(await fetch(baseUrl + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) }));
  };

  return {
    gateway,
    slack,
    baseUrl,
    databaseUrl: state.url,
    prefix,
    env,
    api,
    async slackPost(fields, opts = {}) {
      const req = signedForm(opts.secret ?? SIGNING_SECRET, fields, opts.timestamp);
      return readResponse(await fetch(`${baseUrl}/slack/events`, { method: 'POST', headers: req.headers, body: req.body }));
    },
    async slackEvent(payload, opts = {}) {
      const req = signedJson(opts.secret ?? SIGNING_SECRET, payload, opts.timestamp);
      return readResponse(await fetch(`${baseUrl}/slack/events`, { method: 'POST', headers: req.headers, body: req.body }));
    },
    async createUser(email, groups, admin = false) {
      const res = await api('POST', '/api/users', { body: { email, groups, admin } });
      if (res.status !== 201) throw new Error(`createUser ${email}: ${res.status} ${JSON.stringify(res.body)}`);
      return { id: res.body.user.id, apiKey: res.body.apiKey };
    },
    async stop() {
      await gateway.stop();
      // Every message the gateway sent must be one Slack accepts (a fallback would hide a refusal).
      const refused = options.expectSlackRefusals ? [] : slack.refused;
      if (!options.fakeSlack) await slack.close();
      if (!options.databaseUrl) await state.drop();
      if (!options.prefix) await deleteQueues(prefix);
      if (refused.length) throw new Error(`Slack refused ${refused.length} call(s): ${JSON.stringify(refused.map((r) => ({ method: r.call.method, answer: r.answer }))).slice(0, 2000)}`);
    },
  };
}

/** Polls `fn` until it returns a truthy value. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
