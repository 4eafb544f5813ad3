// The composition root: wires config → database, Redis, queues, services, Slack, HTTP and workers.
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { createSlackApp } from './bot/slack-app.js';
import type { Config } from './config.js';
import { createDb, createStatePool, statePoolOf, type Db } from './db/client.js';
import { createReadAudit } from './db/read-audit.js';
import { createAuditChainer } from './db/audit-chainer.js';
import { createAuditTrail } from './service/audit-trail.js';
import { isDatabaseBusy } from './db/database-busy.js';
import { createHttpDrain } from './gateway/http-drain.js';
import { createHttpServer } from './gateway/http-server.js';
import { createExportService } from './service/export-service.js';
import { startMetricsServer, type MetricsServer } from './gateway/metrics-endpoint.js';
import { createMetricsScrape } from './gateway/metrics-sources.js';
import { createSqlExecutor, type SqlExecutor } from './execution/index.js';
import { createClassifier } from './sql/classifier.js';
import { createReadiness } from './gateway/readiness.js';
import { createRequestLimits } from './gateway/request-limits.js';
import { createMcpSessions } from './gateway/mcp-sessions.js';
import { createOutboxRelay, type OutboxRelay } from './jobs/outbox-relay.js';
import { createJobQueue, enqueueEntry as enqueueEntryOn, type JobQueue } from './jobs/queues.js';
import { startWorkers, type Workers } from './jobs/workers.js';
import type { Logger } from './logger.js';
import { createConfiguredNotifiers } from './notify/configured.js';
import { createRedisEndpointSlots } from './jobs/endpoint-slots-redis.js';
import { createDoctor } from './notify/doctor.js';
import { createHomeBuilder } from './notify/slack/slack-home.js';
import { createAdminService, type AdminService } from './service/admin-service.js';
import { createReviewEvents, type ReviewEvents } from './service/review-events.js';
import { createWebSessions } from './service/web-sessions.js';
import { createSsoSignIn } from './service/sso-sign-in.js';
import { registerOidcRoutes } from './gateway/oidc-routes.js';
import { createReviewService, type ReviewService } from './service/review-service.js';
import { createSeenOnce } from './db/seen-once.js';
import { withTimeout } from './with-timeout.js';
import type { Clock } from './core/ports.js';
import { systemClock } from './clock.js';
import type { OutboxEntry } from './db/outbox.js';
import { createWebhookAdmin } from './notify/webhooks/webhook-admin.js';

export interface GatewayOptions {
  config: Config;
  log: Logger;
  /** Serve HTTP (API + Slack). */
  http?: boolean;
  /** Run the BullMQ workers and the periodic sweep. */
  workers?: boolean;
  sweepIntervalMs?: number;
  /** How often the outbox is relayed to Redis besides right after each commit (default 2 s). */
  relayIntervalMs?: number;
  /** Where the use cases that decide expiry get the time (default: the system clock; tests move one). */
  clock?: Clock;
  /** Where the built web app is (default: dist/web, found next to the code). */
  webDir?: string;
  /** Chain audit events in the background (default true). Off, they are chained when verify or head asks (tests that count COMMITs through a fault proxy). */
  auditChainInBackground?: boolean;
}

export interface Gateway {
  db: Db;
  redis: Redis;
  jobs: JobQueue;
  outbox: OutboxRelay;
  events: ReviewEvents;
  admin: AdminService;
  reviews: ReviewService;
  executor: SqlExecutor;
  server?: FastifyInstance;
  /** The port HTTP listens on, once started (useful with PORT=0). */
  port?: number;
  /** The port of the METRICS_PORT server, once started. */
  metricsPort?: number;
  /**
   * Starts serving and working. Rejects when Redis does not answer within REDIS_START_TIMEOUT_MS,
   * and with a StartAbortedError as soon as `signal` aborts (a stop during start-up).
   */
  start(options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Stops gracefully: new requests get 503, open long-polls are answered, workers take no new
   * jobs; requests and runs in progress get SHUTDOWN_GRACE_SEC (or until `signal` aborts) to
   * finish, then what still runs is handed over (left RUNNING, heartbeat stopped).
   */
  stop(options?: { signal?: AbortSignal }): Promise<void>;
}

/** How long start-up waits for Redis to answer before it gives up (the supervisor restarts it). */
export const REDIS_START_TIMEOUT_MS = 10_000;

/** start() was stopped by its signal before the gateway served. */
export class StartAbortedError extends Error {
  constructor() {
    super('stopped during start-up');
    this.name = 'StartAbortedError';
  }
}

/** A URL fit for a log line: its password replaced. */
function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(REDIS_URL, not a valid URL)';
  }
}

/** Resolves or rejects as `work` does, or rejects with a StartAbortedError once `signal` aborts. */
function unlessAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new StartAbortedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new StartAbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Resolves true when `work` settles within `ms`, false at the bound or when `signal` aborts. */
function within(work: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => resolve(false), ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve(false)), { once: true });
    work.then(
      () => (clearTimeout(timer), resolve(true)),
      () => (clearTimeout(timer), resolve(true)),
    );
  });
}

/** Builds a gateway; nothing listens or works until start(). */
export function createGateway(opts: GatewayOptions): Gateway {
  const { config, log } = opts;
  const db = createDb(config.databaseUrl, {
    max: config.databasePoolSize,
    txMaxWaitMs: config.databaseTxWaitMs,
    onConnectionError: (err) => log.warn({ err: err.message, code: (err as { code?: string }).code }, 'a state database connection was dropped'),
  });
  // ioredis backs off to 5 s between reconnects; Redis back must be noticed within a second, since
  // the outbox relay and the repair sweep start on reconnect. Duplicated connections inherit it.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 100, 1000) });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  // What a request asks Redis (limits, Slack replays, readiness) goes over its own connection that
  // fails fast: the shared one queues commands forever while Redis is away (BullMQ needs that),
  // which would hang every request. Nothing else on a request's path waits on Redis unbounded.
  // /metrics reads queue depths over it too (a workers-only process has it only for METRICS_PORT).
  const servesMetrics = Boolean(opts.http) || config.metrics.port !== undefined;
  const fastRedis = servesMetrics ? redis.duplicate({ maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 500, enableAutoPipelining: true }) : undefined;
  fastRedis?.on('error', () => {});
  const jobs = createJobQueue(redis, config.queuePrefix);
  const outbox = createOutboxRelay({ db, jobs, redis, queuePrefix: config.queuePrefix, log });
  const events = createReviewEvents(redis, config.queuePrefix);
  
  const classifier = createClassifier();
  const executor = createSqlExecutor({ limits: config.targetPool, readCheckCacheMs: config.readCheckCacheMs, lineage: (job) => classifier.lineage(job), onPoolError: (err) => log.warn({ err: err.message }, 'a pooled target connection failed') });
  // Reads' closing audit events commit without waiting for the disk (src/db/read-audit.ts).
  const quickPool = createStatePool(config.databaseUrl, { max: 4, onConnectionError: () => {} }, { synchronousCommit: false });
  // Every process links committed audit events into the hash chain (runs take turns on a lock).
  const auditChainer = createAuditChainer({ pool: statePoolOf(db), log, headLogSec: config.auditHeadLogSec });
  // Every configured channel (Slack, ...): plans its jobs in every process, runs them in workers.
  const clock = opts.clock ?? systemClock;
  const enqueueEntry = (e: OutboxEntry) => enqueueEntryOn(jobs, e);
  // WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT is counted in Redis, so several gateways share one cap.
  const webhookSlots = createRedisEndpointSlots(redis, config.queuePrefix, config.webhooks.maxInFlightPerEndpoint);
  const notifiers = createConfiguredNotifiers({ config, db, log, clock, enqueue: enqueueEntry, runsJobs: Boolean(opts.workers), webhookSlots });
  // Plugins a connection lists must be channels this gateway serves (else its requests reach nobody).
  const admin = createAdminService(db, { channels: { served: notifiers.configured, teamsDefaultUrl: Boolean(config.teamsWebhookUrl) }, previewDefaultMode: config.previewDefaultMode });
  const reviews = createReviewService({
    db,
    readAudit: createReadAudit(statePoolOf(db), quickPool),
    refreshUser: admin.refreshUser,
    jobs,
    outbox,
    events,
    log,
    reviewTimeoutSec: config.reviewTimeoutSec,
    reviewReminderSec: config.reviewReminderSec,
    execute: { statementTimeoutMs: config.statementTimeoutMs, outputMaxBytes: config.outputMaxBytes },
    executor,
    classifier,
    maxStatements: config.maxStatements,
    notifiers,
    clock: opts.clock,
  });
  // Only a process that serves HTTP receives Slack requests; workers reach Slack through jobs.
  // Seen Slack signatures live in Redis under the queue prefix, so every replica refuses a replay.
  const firstSeen = opts.http && fastRedis ? createSeenOnce(fastRedis, `${config.queuePrefix}:slack-seen`) : undefined;
  const home = createHomeBuilder({ db, clock: opts.clock });
  const slack = config.slack && opts.http ? createSlackApp({ ...config.slack, admin, reviews, log, firstSeen, homeView: home.bySlackId }) : undefined;
  const limits = opts.http && fastRedis ? createRequestLimits(fastRedis, config.queuePrefix, config.limits, log) : undefined;
  const readiness = createReadiness([
    { name: 'database', check: () => db.$queryRaw`SELECT 1` },
    {
      name: 'redis',
      check: async () => {
        if (redis.status !== 'ready') throw new Error(`connection ${redis.status}`);
        await (fastRedis ?? redis).ping();
      },
    },
  ], log);
  const drain = opts.http ? createHttpDrain() : undefined;
  const metrics = fastRedis && { scrape: createMetricsScrape({ db, redis: fastRedis, queuePrefix: config.queuePrefix }), token: config.metrics.token };
  // With METRICS_PORT, /metrics is served there only: the gateway's (public) port does not serve it.
  const sessions = createWebSessions({ db, clock, ttlSec: config.web.sessionTtlSec, idleSec: config.web.sessionIdleSec });
  const oidc = config.oidc;
  const server = opts.http
    ? createHttpServer({
        admin,
        reviews,
        slack: slack?.receiver,
        log,
        limits,
        trustProxy: config.trustProxy,
        readiness,
        drain,
        mcp: { sessions: fastRedis && createMcpSessions(fastRedis, config.queuePrefix, config.mcp, log) },
        metrics: config.metrics.port === undefined ? metrics || undefined : undefined,
        webhooks: createWebhookAdmin({ db, clock, allowPrivate: config.webhooks.allowPrivate, enqueue: enqueueEntry }),
        doctor: createDoctor({ config, db, clock }),
        exports: createExportService({ db, log }),
        analytics: { db, clock },
        audit: createAuditTrail(statePoolOf(db), auditChainer),
        web: {
          sessions,
          publicUrl: config.publicUrl,
          sso: !!config.oidc,
          registerSso: oidc && ((scope) => registerOidcRoutes(scope, { oidc, publicUrl: config.publicUrl, signIn: createSsoSignIn(db, oidc), sessions })),
          dir: opts.webDir,
          stream: { db, events },
        },
      })
    : undefined;
  let metricsServer: MetricsServer | undefined;
  let workers: Workers | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;
  let settling: Promise<unknown> | undefined;
  let lastSettle = Date.now();
  let sweepAfter: string | undefined;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  let lastSweep = Date.now();
  const sweepIntervalMs = opts.sweepIntervalMs ?? 30_000;

  /**
   * One sweep at a time: the full one (it also re-enqueues what Redis lost), or only its database
   * part (expiries), which needs no Redis at all. Neither settles stopped runs: see runSettle.
   */
  function runSweep(why: string, full: boolean): void {
    if (sweeping) {
      // A database-only sweep running as Redis returns must not swallow the full one.
      if (full) sweepAfter = why;
      return;
    }
    if (full) lastSweep = Date.now();
    sweeping = (full ? reviews.sweep({ settle: false }) : reviews.sweepDatabase(undefined, { settle: false }))
      .then((swept) => (why === 'start-up' ? log.info(swept, 'start-up sweep done') : log.debug({ ...swept, why, full }, 'sweep done')))
      .catch((err) => {
        // A sweep that could not reach the state database saw an outage: live runs' heartbeats
        // may be stale from it, so no run is settled until the database has answered long enough.
        if (isDatabaseBusy(err)) reviews.noteStateDbFailure();
        log.error({ err, why }, 'sweep failed');
      })
      .finally(() => {
        sweeping = undefined;
        const next = sweepAfter;
        sweepAfter = undefined;
        if (next && !stopped) runSweep(next, true);
      });
  }

  /**
   * Settles RUNNING reviews whose process stopped, one pass at a time, apart from the sweep: it asks
   * each run's target, which may be slow or gone, and must hold back neither start-up nor expiries.
   */
  function runSettle(why: string): void {
    if (settling) return;
    lastSettle = Date.now();
    settling = reviews
      .sweepDatabase(undefined, { expire: false })
      .then((settled) => log[settled.failed ? 'info' : 'debug']({ ...settled, why }, 'stopped runs settled'))
      .catch((err) => {
        if (isDatabaseBusy(err)) reviews.noteStateDbFailure();
        log.error({ err, why }, 'settling stopped runs failed');
      })
      .finally(() => (settling = undefined));
  }

  // Redis back (a restart may have lost every queued job): relay the outbox and repair at once,
  // not at the next periodic sweep.
  const onRedisReady = () => {
    log.info('Redis answers again; relaying the outbox and sweeping now');
    void outbox.relayAll();
    if (opts.workers) runSweep('redis-reconnected', true);
  };

  async function stopGracefully(signal?: AbortSignal): Promise<void> {
    const started = Date.now();
    stopped = true;
    if (sweepTimer) clearInterval(sweepTimer);
    redis.off('ready', onRedisReady);
    drain?.drain.start();
    // The wait is for this process's own work (requests admitted, jobs in progress, counted here),
    // not for BullMQ's close(), which needs Redis: a stop while Redis is away is as quick as any.
    workers?.stopTaking();
    const settled = Promise.all([drain?.drain.idle(), workers?.idle()]);
    const finished = await within(settled, config.shutdownGraceMs, signal);
    if (finished) {
      log.info({ ms: Date.now() - started }, 'requests and jobs in progress finished');
    } else {
      const left = reviews.handOver();
      log.warn(
        { reviews: left, graceSec: config.shutdownGraceMs / 1000, forced: Boolean(signal?.aborted) },
        left.length
          ? 'runs still in progress are handed over: left RUNNING without heartbeat for the sweep of another replica or of the next start'
          : 'requests or jobs still in progress are cut',
      );
    }
    // Redis down or hung: nothing below may wait on it (its commands would queue forever).
    const redisAnswers = redis.status === 'ready' && (await withTimeout(redis.ping(), 1000).then(() => true, () => false));
    if (!redisAnswers) {
      log.warn('Redis does not answer; closing without it (jobs finished meanwhile are recorded when another worker finds them stalled)');
      redis.disconnect();
      fastRedis?.disconnect();
    }
    // Past this point nothing waits for work in progress: each close is bounded.
    const close = (what: string, work: () => Promise<unknown> | undefined) =>
      within(Promise.resolve().then(work), finished && redisAnswers ? 10_000 : 2_000).then((ok) => ok || log.warn(`closing ${what} timed out`));
    // Not forced, the workers record the completion of the jobs just finished in Redis.
    await close('the workers', () => workers?.close({ force: !finished || !redisAnswers }));
    if (server) {
      server.server.closeAllConnections();
      await close('the HTTP server', () => server.close());
    }
    await close('the metrics server', () => metricsServer?.close());
    await close('the sweep in progress', () => sweeping);
    // Settling asks targets and changes nothing until it knows: not worth waiting long for.
    if (settling && !(await within(settling, 2_000))) log.warn('settling stopped runs did not finish; the next sweep settles them');
    await close('the outbox relay', () => outbox.stop());
    await close('the event subscriber', () => events.close());
    await close('the job queues', () => jobs.close());
    if (redisAnswers) await close('Redis', () => redis.quit().catch(() => redis.disconnect()));
    fastRedis?.disconnect();
    await close('the audit chainer', () => auditChainer.stop());
    await close('the database pool', () => db.$disconnect());
    await close('the read audit pool', () => quickPool.end());
    // A handed-over run still holds its target connection; ending that pool would wait for it.
    if (finished) await close('the target pools', () => executor.close());
    await close('the classifier', () => classifier.close());
  }

  const gateway: Gateway = {
    db,
    redis,
    jobs,
    outbox,
    events,
    admin,
    reviews,
    executor,
    server,
    async start(options = {}) {
      const { signal } = options;
      log.info({ redis: redactedUrl(config.redisUrl), boundSec: REDIS_START_TIMEOUT_MS / 1000 }, 'starting: waiting for Redis');
      // The shared connection queues commands until Redis answers (BullMQ needs that): bound the wait.
      await unlessAborted(withTimeout(redis.ping(), REDIS_START_TIMEOUT_MS, 'Redis'), signal).catch((err) => {
        if (err instanceof StartAbortedError) throw err;
        throw new Error(`Redis at ${redactedUrl(config.redisUrl)} does not answer (${err.message}); start it or set REDIS_URL. The gateway needs Redis to start; once running it rides out a Redis outage.`);
      });
      // Without an offline queue, commands sent before the connection is ready would fail open.
      if (fastRedis && fastRedis.status !== 'ready') {
        await unlessAborted(
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 5000);
            fastRedis.once('ready', () => (clearTimeout(timer), resolve()));
          }),
          signal,
        );
      }
      if (signal?.aborted) throw new StartAbortedError();
      redis.on('ready', onRedisReady);
      // Every process relays what it (or a replica on the same queues) left in the outbox.
      outbox.start(opts.relayIntervalMs ?? 2000);
      if (opts.auditChainInBackground !== false) auditChainer.start();
      void outbox.relayAll();
      // Every start, set or not: an unset or changed ADMIN_API_KEY must retire the earlier one.
      for (const c of await admin.ensureBootstrapAdmin(config.adminEmail, config.adminApiKey)) log[c.level]({ ...c.detail, action: c.action }, c.message);
      if (opts.workers) {
        // In the background: settling a stopped run asks its target, which may be slow or gone;
        // serving and the workers do not wait for it (every repair is idempotent by job id or claim).
        runSweep('start-up', true);
        runSettle('start-up');
        workers = startWorkers({
          connection: redis,
          prefix: config.queuePrefix,
          reviews,
          notifiers,
          log,
        });
        // Jobs due now that a commit of this process caused run here at once, not via Redis.
        const running = workers;
        outbox.runLocally((name, payload) => running.tryRun(name, payload));
        // The full sweep every sweepIntervalMs (when Redis seems up); in between, every 5 s, its
        // database part, so an overdue request expires within about 5 s whatever Redis does (down,
        // hung with its connection still "ready", or up without the expiry job).
        sweepTimer = setInterval(() => {
          runSweep('timer', outbox.redisReady() && Date.now() - lastSweep >= sweepIntervalMs * 0.9);
          if (Date.now() - lastSettle >= sweepIntervalMs * 0.9) runSettle('timer');
        }, Math.min(sweepIntervalMs, 5000));
        sweepTimer.unref();
      }
      if (!config.slack) log.info(`Slack is switched off (${config.slackOffReason}); approvals come through the API`);
      if (metrics && config.metrics.port !== undefined) {
        metricsServer = await startMetricsServer({ ...metrics, port: config.metrics.port, host: config.host, log });
        gateway.metricsPort = metricsServer.port;
      }
      if (server) {
        await server.listen({ port: config.port, host: config.host });
        const address = server.server.address();
        gateway.port = typeof address === 'object' && address ? address.port : config.port;
        log.info({ port: gateway.port, slack: Boolean(config.slack) }, 'gateway listening');
      }
    },
    stop(options = {}) {
      stopping ??= stopGracefully(options.signal);
      return stopping;
    },
  };
  return gateway;
}
