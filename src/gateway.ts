// The composition root: wires config → database, Redis, queues, services, Slack, HTTP and workers.
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { createSlackApp } from './bot/slack-app.js';
import type { Config } from './config.js';
import { createDb, type Db } from './db/client.js';
import { createHttpServer } from './gateway/http-server.js';
import { createSqlExecutor, type SqlExecutor } from './execution/index.js';
import { createClassifier } from './sql/classifier.js';
import { createRequestLimits } from './gateway/request-limits.js';
import { createJobQueue, type JobQueue } from './jobs/queues.js';
import { createJobSlackClient, createSlackJobs } from './jobs/slack-jobs.js';
import { startWorkers, type Workers } from './jobs/workers.js';
import type { Logger } from './logger.js';
import { createAdminService, type AdminService } from './service/admin-service.js';
import { createReviewEvents, type ReviewEvents } from './service/review-events.js';
import { createReviewService, type ReviewService } from './service/review-service.js';
import { createSeenOnce } from './db/seen-once.js';

export interface GatewayOptions {
  config: Config;
  log: Logger;
  /** Serve HTTP (API + Slack). */
  http?: boolean;
  /** Run the BullMQ workers and the periodic sweep. */
  workers?: boolean;
  sweepIntervalMs?: number;
}

export interface Gateway {
  db: Db;
  redis: Redis;
  jobs: JobQueue;
  events: ReviewEvents;
  admin: AdminService;
  reviews: ReviewService;
  executor: SqlExecutor;
  server?: FastifyInstance;
  /** The port HTTP listens on, once started (useful with PORT=0). */
  port?: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds a gateway; nothing listens or works until start(). */
export function createGateway(opts: GatewayOptions): Gateway {
  const { config, log } = opts;
  const db = createDb(config.databaseUrl, { max: config.databasePoolSize, txMaxWaitMs: config.databaseTxWaitMs });
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  // Limits get their own connection that fails fast: the shared one queues commands forever while
  // Redis is away (BullMQ needs that), which would hang every API request on a limit check.
  const limitsRedis = opts.http ? redis.duplicate({ maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 1000 }) : undefined;
  limitsRedis?.on('error', () => {});
  const jobs = createJobQueue(redis, config.queuePrefix);
  const events = createReviewEvents(redis, config.queuePrefix);
  const admin = createAdminService(db);
  const classifier = createClassifier();
  const executor = createSqlExecutor({ limits: config.targetPool, lineage: (job) => classifier.lineage(job), onPoolError: (err) => log.warn({ err: err.message }, 'a pooled target connection failed') });
  const reviews = createReviewService({
    db,
    jobs,
    events,
    log,
    reviewTimeoutSec: config.reviewTimeoutSec,
    execute: { statementTimeoutMs: config.statementTimeoutMs, outputMaxBytes: config.outputMaxBytes },
    executor,
    classifier,
    maxStatements: config.maxStatements,
    slackEnabled: Boolean(config.slack),
  });
  // Only a process that serves HTTP receives Slack requests; workers reach Slack through jobs.
  // Seen Slack signatures live in Redis under the queue prefix, so every replica refuses a replay.
  const firstSeen = createSeenOnce(redis, `${config.queuePrefix}:slack-seen`);
  const slack = config.slack && opts.http ? createSlackApp({ ...config.slack, admin, reviews, log, firstSeen }) : undefined;
  const limits = limitsRedis && createRequestLimits(limitsRedis, config.queuePrefix, config.limits, log);
  const server = opts.http ? createHttpServer({ admin, reviews, slack: slack?.receiver, log, limits, trustProxy: config.trustProxy }) : undefined;
  let workers: Workers | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;

  const gateway: Gateway = {
    db,
    redis,
    jobs,
    events,
    admin,
    reviews,
    executor,
    server,
    async start() {
      await redis.ping().catch((err) => {
        throw new Error(`Redis at ${config.redisUrl} does not answer (${err.message}); start it or set REDIS_URL.`);
      });
      // Without an offline queue, commands sent before the connection is ready would fail open.
      if (limitsRedis && limitsRedis.status !== 'ready') {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          limitsRedis.once('ready', () => (clearTimeout(timer), resolve()));
        });
      }
      // Every start, set or not: an unset or changed ADMIN_API_KEY must retire the earlier one.
      for (const c of await admin.ensureBootstrapAdmin(config.adminEmail, config.adminApiKey)) log[c.level]({ ...c.detail, action: c.action }, c.message);
      if (opts.workers) {
        const swept = await reviews.sweep();
        log.info(swept, 'start-up sweep done');
        workers = startWorkers({
          connection: redis,
          prefix: config.queuePrefix,
          reviews,
          slack: config.slack
            ? createSlackJobs({ db, client: createJobSlackClient(config.slack.botToken, config.slack.apiUrl, config.slack.timeoutMs), defaultChannel: config.slack.defaultChannel, log, claimTtlMs: 2 * config.slack.timeoutMs + 2000 })
            : undefined,
          log,
        });
        sweepTimer = setInterval(() => {
          reviews.sweep().catch((err) => log.error({ err }, 'periodic sweep failed'));
        }, opts.sweepIntervalMs ?? 30_000);
        sweepTimer.unref();
      }
      if (!config.slack) log.info(`Slack is switched off (${config.slackOffReason}); approvals come through the API`);
      if (server) {
        await server.listen({ port: config.port, host: config.host });
        const address = server.server.address();
        gateway.port = typeof address === 'object' && address ? address.port : config.port;
        log.info({ port: gateway.port, slack: Boolean(config.slack) }, 'gateway listening');
      }
    },
    async stop() {
      if (sweepTimer) clearInterval(sweepTimer);
      if (server) await server.close();
      if (workers) await workers.close();
      await events.close();
      await jobs.close();
      await redis.quit().catch(() => redis.disconnect());
      limitsRedis?.disconnect();
      await db.$disconnect();
      await executor.close();
      await classifier.close();
    },
  };
  return gateway;
}
