// A worker process the tests can kill -9: it runs one approved review through the review service's
// executeReview (what the review.execute job calls), wired as src/gateway.ts wires it but without
// HTTP, Slack and workers (they cost seconds to load), prints the result as one JSON line, exits.
// Run with `node --import tsx`; configured by the gateway's environment variables.
import { createNotifierRegistry } from '../../src/notify/registry.js';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createDb } from '../../src/db/client.js';
import { createSqlExecutor } from '../../src/execution/index.js';
import { createOutboxRelay } from '../../src/jobs/outbox-relay.js';
import { createJobQueue } from '../../src/jobs/queues.js';
import { createReviewEvents } from '../../src/service/review-events.js';
import { createReviewService } from '../../src/service/review-service.js';
import { createClassifier } from '../../src/sql/classifier.js';

const reviewId = process.argv[2];
if (!reviewId) throw new Error('usage: execute-review-child.ts <reviewId>');
const config = loadConfig();
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const db = createDb(config.databaseUrl, { max: config.databasePoolSize, txMaxWaitMs: config.databaseTxWaitMs });
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
redis.on('error', () => {});
const classifier = createClassifier();
const executor = createSqlExecutor({ limits: config.targetPool, lineage: (job) => classifier.lineage(job) });
const jobs = createJobQueue(redis, config.queuePrefix);
const reviews = createReviewService({
  db,
  jobs,
  outbox: createOutboxRelay({ db, jobs, redis, queuePrefix: config.queuePrefix, log }),
  events: createReviewEvents(redis, config.queuePrefix),
  log,
  reviewTimeoutSec: config.reviewTimeoutSec,
  execute: { statementTimeoutMs: config.statementTimeoutMs, outputMaxBytes: config.outputMaxBytes },
  executor,
  classifier,
  maxStatements: config.maxStatements,
  notifiers: createNotifierRegistry([]),
});
const result = await reviews.executeReview(reviewId);
process.stdout.write(`${JSON.stringify({ result })}\n`);
process.exit(0);
