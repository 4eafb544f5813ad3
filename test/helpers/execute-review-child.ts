// A worker process the tests can kill -9: it runs one approved review (the review service's
// executeReview, exactly what the review.execute job calls) against the state database named by
// DATABASE_URL, prints the result as one JSON line, and exits. Run with `node --import tsx`.
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createGateway } from '../../src/gateway.js';

const reviewId = process.argv[2];
if (!reviewId) throw new Error('usage: execute-review-child.ts <reviewId>');
const gateway = createGateway({ config: loadConfig(), log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), http: false, workers: false });
await gateway.start();
const result = await gateway.reviews.executeReview(reviewId);
process.stdout.write(`${JSON.stringify({ result })}\n`);
await gateway.stop();
process.exit(0);
