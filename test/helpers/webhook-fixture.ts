// Custom webhooks against a real gateway (PostgreSQL, Redis, the review service) and a real HTTP
// server built by createHttpServer with the webhook routes wired as the composition root wires
// them. The channel's jobs run through `ChannelDriver`, which keeps the generic worker's contract
// (job ids dedupe, RetryLater → delayed by the clock without spending an attempt,
// PermanentFailure → dropped), so tests move a clock instead of waiting hours.
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { FakeWebhookReceiver } from '../fakes/fake-webhook-receiver.js';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import type { OutboxEntry } from '../../src/db/outbox.js';
import { createHttpServer } from '../../src/gateway/http-server.js';
import { PermanentFailure, RetryLater, type Notifier } from '../../src/notify/channel.js';
import { createWebhookNotifier, type WebhookNotifierOptions } from '../../src/notify/webhooks/notifier.js';
import { systemResolve, type ResolveHost } from '../../src/notify/webhooks/ssrf.js';
import { createWebhookAdmin } from '../../src/notify/webhooks/webhook-admin.js';
import { createTargetDatabase } from './databases.js';
import { ADMIN_KEY, startTestGateway, type ApiResponse, type TestGateway } from './gateway.js';

export interface JobOutcome {
  entry: OutboxEntry;
  result: 'done' | 'retry' | 'permanent' | 'error';
  retryAfterSec?: number;
  error?: unknown;
}

/** The generic worker's contract for one channel, driven by a manual clock. */
export class ChannelDriver {
  private readonly ids = new Set<string>();
  /** Jobs waiting, each with the clock time it is due. */
  readonly waiting: { entry: OutboxEntry; dueAt: number }[] = [];
  notifier!: Notifier;

  constructor(readonly clock: ManualClock) {}

  readonly enqueue = async (entry: OutboxEntry): Promise<void> => {
    // BullMQ ignores a job whose id exists.
    if (this.ids.has(entry.jobId)) return;
    this.ids.add(entry.jobId);
    this.waiting.push({ entry, dueAt: entry.dueAt?.getTime() ?? this.clock.now().getTime() });
  };

  /** Runs one job as the worker would. */
  async runOne(entry: OutboxEntry): Promise<JobOutcome> {
    try {
      await this.notifier.run(entry.name, entry.payload);
      return { entry, result: 'done' };
    } catch (error) {
      if (error instanceof RetryLater) {
        this.waiting.push({ entry, dueAt: this.clock.now().getTime() + error.retryAfterSec * 1000 });
        return { entry, result: 'retry', retryAfterSec: error.retryAfterSec, error };
      }
      return { entry, result: error instanceof PermanentFailure ? 'permanent' : 'error', error };
    }
  }

  /** Runs every job due at the clock's time, and the jobs those enqueue, concurrently per round. */
  async runDue(): Promise<JobOutcome[]> {
    const outcomes: JobOutcome[] = [];
    for (;;) {
      const now = this.clock.now().getTime();
      const due = this.waiting.filter((w) => w.dueAt <= now);
      if (due.length === 0) return outcomes;
      for (const d of due) this.waiting.splice(this.waiting.indexOf(d), 1);
      outcomes.push(...(await Promise.all(due.map((d) => this.runOne(d.entry)))));
    }
  }

  /** Moves the clock to the next waiting job and runs what is due then. */
  async runNext(): Promise<JobOutcome[]> {
    if (this.waiting.length === 0) return [];
    this.clock.set(new Date(Math.max(this.clock.now().getTime(), Math.min(...this.waiting.map((w) => w.dueAt)))));
    return this.runDue();
  }
}

export interface WebhookFixture {
  t: TestGateway;
  clock: ManualClock;
  driver: ChannelDriver;
  /** The API with webhook routes, private destinations allowed (as tests set WEBHOOK_ALLOW_PRIVATE). */
  baseUrl: string;
  /** The same API with private destinations refused, resolving names with `resolve`. */
  strictUrl: string;
  api(method: string, path: string, options?: { key?: string; body?: unknown; strict?: boolean }): Promise<ApiResponse>;
  /** A developer (not an admin, whose own requests are approved at once). */
  requester: { id: string; apiKey: string };
  /** Submits a reviewed command on `connection` (as the requester by default) and returns the review id. */
  submit(connection: string, key?: string): Promise<string>;
  /** A notifier over the fixture's database and clock, its jobs run by `driver`. */
  notifier(overrides?: Partial<WebhookNotifierOptions>): Notifier;
  stop(): Promise<void>;
}

/** Host names tests resolve themselves: name → addresses; localhost by the system; anything else ENOTFOUND. */
export function fakeResolver(table: Record<string, string[]>): ResolveHost {
  return async (hostname) => {
    if (/^localhost\.?$/i.test(hostname)) return systemResolve(hostname);
    const addresses = table[hostname.replace(/\.$/, '')];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

export async function startWebhookFixture(options: { resolve?: ResolveHost } = {}): Promise<WebhookFixture> {
  const target = await createTargetDatabase();
  // No workers: the gateway's own webhooks channel would deliver too; here the driver runs its jobs.
  const t = await startTestGateway({ slack: false, workers: false });
  const clock = createManualClock();
  const driver = new ChannelDriver(clock);
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const db = t.gateway.db;
  const server = (allowPrivate: boolean) =>
    createHttpServer({ admin: t.gateway.admin, reviews: t.gateway.reviews, log, webhooks: createWebhookAdmin({ db, clock, allowPrivate, enqueue: driver.enqueue, resolve: options.resolve }) });
  const open = server(true);
  const strict = server(false);
  const baseUrl = await listen(open);
  const strictUrl = await listen(strict);
  for (const name of ['prod-db', 'billing']) {
    const res = await t.api('POST', '/api/connections', { body: { name, url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
    if (res.status !== 201) throw new Error(`connection ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const requester = await t.createUser('dev@example.com', ['developers']);
  const fixture: WebhookFixture = {
    t,
    requester,
    clock,
    driver,
    baseUrl,
    strictUrl,
    async api(method, path, opts = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${opts.key ?? ADMIN_KEY}` };
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch((opts.strict ? strictUrl : baseUrl) + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
      const text = await res.text();
      try {
        return { status: res.status, body: JSON.parse(text) };
      } catch {
        return { status: res.status, body: text };
      }
    },
    async submit(connection, key = requester.apiKey) {
      const res = await t.api('POST', `/api/connections/${connection}/exec`, { key, body: { input: "UPDATE users SET status = 'x' WHERE id = 1", reason: 'webhook test' } });
      if (res.status !== 201) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.id as string;
    },
    notifier(overrides = {}) {
      const n = createWebhookNotifier({ db, clock, log, enqueue: driver.enqueue, allowPrivate: true, timeoutMs: 2000, ...overrides });
      driver.notifier = n;
      return n;
    },
    async stop() {
      await open.close();
      await strict.close();
      await t.stop();
      await target.drop();
    },
  };
  return fixture;
}

/**
 * A test file's webhook fixture: started once, its endpoints, waiting jobs and `receivers` cleared
 * after each test, stopped at the end. Read `fixture.f` in tests (it is set before they run).
 */
export function useWebhookFixture(options: { resolve?: ResolveHost } = {}): { f: WebhookFixture; receivers: FakeWebhookReceiver[] } {
  const fixture = { f: undefined as unknown as WebhookFixture, receivers: [] as FakeWebhookReceiver[] };
  beforeAll(async () => {
    fixture.f = await startWebhookFixture(options);
  });
  afterEach(async () => {
    await fixture.f.t.gateway.db.webhookEndpoint.deleteMany();
    fixture.f.driver.waiting.length = 0;
    for (const r of fixture.receivers.splice(0)) await r.stop();
  });
  afterAll(async () => {
    await fixture.f?.stop();
  });
  return fixture;
}
