// Issue 9, target 4: 10,000 pending requests due in the same second are all EXPIRED in the
// database within 2 s of their deadline, and their Slack updates (the review message edited to
// show it expired, the requester told by DM) honour 429 Retry-After and none is lost.
//
// How the burst is made: N requests are submitted through the HTTP API (the real path: review row,
// audit, an outbox row for the delayed `review.expire` job and for the Slack post; the fake Slack
// receives each review message) with REVIEW_TIMEOUT_SEC=3600. Then their deadline is moved to one
// instant D a few seconds ahead: `expiresAt = D` in the database and each delayed expiry job's
// delay changed to fire at D. That is the state N submissions with the same deadline leave; a
// short REVIEW_TIMEOUT_SEC cannot give it, since submitting N takes far longer than a second.
// During the burst the fake Slack rate-limits chat.update and chat.postMessage (EXPIRY_BURST_RATE
// calls per second each, postMessage per channel, as Slack does): many 429s with Retry-After.
//
// Baselines from the same run: one request expired alone (its job firing at its deadline), and
// PostgreSQL's own time for a bare UPDATE of the N rows to EXPIRED (rolled back).
// Prints the figures; writes bench/results/expiry-burst.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { copyPendingRequests } from './copy-pending.js';
import setup from '../test/global-setup.js';
import { startFakeSlack } from '../test/fakes/fake-slack.js';
import { createTargetDatabase, REDIS_URL } from '../test/helpers/databases.js';
import { startTestGateway } from '../test/helpers/gateway.js';
import { queueNames } from '../src/jobs/queues.js';

const N = Number(process.env.EXPIRY_BURST_N ?? 10_000);
/** Calls per second the fake Slack accepts per method during the burst (chat.postMessage: per channel). */
const RATE = Number(process.env.EXPIRY_BURST_RATE ?? 100);
/** How long the Slack side may take before the run reports what it reached. */
const SLACK_WAIT_MIN = Number(process.env.EXPIRY_BURST_SLACK_WAIT_MIN ?? 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const teardown = await setup();
  const target = await createTargetDatabase();
  const slack = await startFakeSlack();
  const t = await startTestGateway({ fakeSlack: slack, sweepIntervalMs: 30_000, env: { REVIEW_TIMEOUT_SEC: '3600', LOG_LEVEL: 'warn' } });
  const sql = new pg.Client({ connectionString: t.databaseUrl });
  await sql.connect();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const reviewsQueue = new Queue(queueNames(t.prefix).reviews, { connection: redis });
  const count = async (q: string, params: unknown[] = []) => Number((await sql.query(q, params)).rows[0].n);
  try {
    const alice = await t.createUser('alice@example.com', ['developers']);
    const dana = await t.createUser('dana@example.com', ['dba-team']);
    await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
    // The requester is linked to Slack, so each expiry also tells her by DM (as the code does today).
    slack.users.set('UALICE', { email: 'alice@example.com' });
    const linked = await t.slackPost({ command: '/hoop', text: 'subscribe', user_id: 'UALICE', channel_id: 'C1', team_id: 'T1', response_url: 'https://x.invalid', trigger_id: 't' });
    if (linked.status !== 200) throw new Error(`linking alice failed: ${linked.status}`);
    const submit = async (i: number) => {
      const res = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: `UPDATE users SET status = 'x${i}' WHERE id = 1` } });
      if (res.status !== 201 || res.body.status !== 'PENDING') throw new Error(`submit ${i}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      return res.body.id as string;
    };
    const moveDeadline = async (ids: string[], due: number) => {
      await sql.query(`UPDATE "Review" SET "expiresAt" = to_timestamp($2::float8 / 1000) AT TIME ZONE 'UTC' WHERE id = ANY($1::uuid[])`, [ids, due]);
      for (let i = 0; i < ids.length; i += 500) {
        await Promise.all(
          ids.slice(i, i + 500).map(async (id) => {
            const job = await reviewsQueue.getJob(`expire-${id}`);
            if (!job) throw new Error(`no expiry job for ${id}`);
            await job.changeDelay(Math.max(1, due - Date.now()));
          }),
        );
      }
    };
    // Every request of this database is one of the burst (or the single one, expired by then): a
    // count of the pending ones is all the poll asks (on the status index, cheap every 20 ms).
    const waitExpired = async (ids: string[], due: number, timeoutMs: number) => {
      for (;;) {
        const left = await count(`SELECT count(*) AS n FROM "Review" WHERE status = 'PENDING'`);
        if (left === 0) return Date.now() - due;
        if (Date.now() > due + timeoutMs) throw new Error(`${left} of ${ids.length} not EXPIRED ${timeoutMs} ms after their deadline`);
        await sleep(20);
      }
    };

    // Baseline 1: one request due alone.
    const single = await submit(-1);
    await sleep(500); // its outbox rows relayed
    const singleDue = Date.now() + 2000;
    await moveDeadline([single], singleDue);
    const singleLagMs = await waitExpired([single], singleDue, 30_000);
    console.log(`baseline: one request alone EXPIRED ${singleLagMs} ms after its deadline`);

    // The burst: N pending requests, stored as the submit use case stores them (review, group,
    // `review.created` audit event, outbox rows of its expiry job and its Slack post; copied from
    // one request submitted through the API), in one statement. The gateway relays the outbox and
    // its workers post each review message to the fake Slack.
    const started = Date.now();
    const template = await submit(-2);
    const ids = await copyPendingRequests(sql, template, N, t.prefix);
    const submitSec = (Date.now() - started) / 1000;
    // The model is rejected: only the N copies stay pending.
    const rejected = await t.api('PUT', `/api/reviews/${template}/reject`, { key: dana.apiKey, body: { reason: 'the model of the burst' } });
    if (rejected.status !== 200) throw new Error(`rejecting the model: ${rejected.status}`);
    void t.gateway.outbox.relayAll();
    console.log(`${N} requests stored in ${submitSec.toFixed(1)} s; waiting for their review messages`);
    for (;;) {
      const posted = await count(`SELECT count(*) AS n FROM "ChannelMessage" WHERE channel = 'slack' AND kind = 'request' AND status = 'posted' AND "reviewId" = ANY($1::uuid[])`, [ids]);
      const queued = await count(`SELECT count(*) AS n FROM "OutboxJob"`);
      if (posted === N && queued === 0) break;
      await sleep(500);
    }

    // Baseline 2: PostgreSQL's own time for the bulk UPDATE of the N rows, rolled back.
    await sql.query('BEGIN');
    const u0 = performance.now();
    await sql.query(`UPDATE "Review" SET status = 'EXPIRED', "decidedAt" = now() WHERE id = ANY($1::uuid[]) AND status = 'PENDING'`, [ids]);
    const bareUpdateMs = Math.round(performance.now() - u0);
    await sql.query('ROLLBACK');
    console.log(`baseline: a bare UPDATE of the ${N} rows to EXPIRED takes ${bareUpdateMs} ms in PostgreSQL`);

    const due = Math.ceil((Date.now() + 8000) / 1000) * 1000;
    await moveDeadline(ids, due);
    slack.setRateLimits({ 'chat.update': { limit: RATE, windowMs: 1000 }, 'chat.postMessage': { limit: RATE, windowMs: 1000, perChannel: true } });
    const callsBefore = slack.calls.length;
    await sleep(Math.max(0, due - Date.now() - 200));
    const burstLagMs = await waitExpired(ids, due, 120_000);
    console.log(`burst: all ${N} EXPIRED ${burstLagMs} ms after their deadline (target ≤ 2000 ms); ${(burstLagMs / bareUpdateMs).toFixed(1)}× the bare UPDATE, ${(burstLagMs / Math.max(1, singleLagMs)).toFixed(1)}× one expiry alone`);

    // Slack: every review message edited to show the expiry, every requester DM sent, once.
    const slackStarted = Date.now();
    let slackComplete = true;
    for (;;) {
      const shown = await count(`SELECT count(*) AS n FROM "ChannelMessage" WHERE channel = 'slack' AND kind = 'request' AND state LIKE 'EXPIRED-%' AND "reviewId" = ANY($1::uuid[])`, [ids]);
      const told = await count(`SELECT count(*) AS n FROM "ChannelMessage" WHERE channel = 'slack' AND kind = 'requester-expired' AND status = 'posted' AND "reviewId" = ANY($1::uuid[])`, [ids]);
      if (shown === N && told === N) break;
      if (Date.now() - slackStarted > SLACK_WAIT_MIN * 60_000) {
        console.log(`Slack updates incomplete after ${SLACK_WAIT_MIN} min: ${shown} messages shown expired, ${told} requesters told (still in their jobs' retries)`);
        slackComplete = false;
        break;
      }
      await sleep(500);
    }
    const slackDoneMs = Date.now() - due;
    const mine = new Set(ids);
    const reviewOf = (m: { metadata?: { event_payload: Record<string, unknown> } }) => String(m.metadata?.event_payload?.reviewId ?? m.metadata?.event_payload?.review_id ?? '');
    const requestMessages = slack.messages.filter((m) => m.channel === 'C-REVIEWS' && mine.has(reviewOf(m)));
    const shownExpired = requestMessages.filter((m) => JSON.stringify(m.blocks).includes('Expired')).length;
    const dms = slack.messages.filter((m) => m.channel === 'DALICE' && mine.has(reviewOf(m)));
    const dmsPerReview = new Map<string, number>();
    for (const m of dms) dmsPerReview.set(reviewOf(m), (dmsPerReview.get(reviewOf(m)) ?? 0) + 1);
    const burstCalls = slack.calls.slice(callsBefore);
    const perSecond: Record<string, number> = {};
    for (const c of burstCalls) if (c.method.startsWith('chat.')) perSecond[Math.floor((c.at - due) / 1000)] = (perSecond[Math.floor((c.at - due) / 1000)] ?? 0) + 1;
    if (process.env.EXPIRY_BURST_VERBOSE) console.log('chat.* calls per second after the deadline', perSecond);
    const limited = slack.rateLimited.filter((c) => burstCalls.includes(c));
    const audits = await count(`SELECT count(*) AS n FROM "AuditEvent" WHERE action = 'review.expired' AND "reviewId" = ANY($1::uuid[])`, [ids]);
    const slack429 = { 'chat.update': limited.filter((c) => c.method === 'chat.update').length, 'chat.postMessage': limited.filter((c) => c.method === 'chat.postMessage').length };
    const checks = {
      reviewMessages: requestMessages.length,
      reviewMessagesShowingExpired: shownExpired,
      requesterDms: dms.length,
      reviewsWithOneDm: [...dmsPerReview.values()].filter((n) => n === 1).length,
      auditExpiredEvents: audits,
      slackRefused: slack.refused.length,
    };
    console.log(`Slack: all updates done ${slackDoneMs} ms after the deadline; 429s served: chat.update ${slack429['chat.update']}, chat.postMessage ${slack429['chat.postMessage']} (limit ${RATE}/s each)`);
    console.log(`checks: ${JSON.stringify(checks)}`);
    const doubled = dms.length > dmsPerReview.size || audits !== N;
    const lost = slackComplete && (shownExpired !== N || dms.length !== N || checks.reviewsWithOneDm !== N);
    if (lost || doubled) console.log('FAILED: an update was lost or doubled');
    const out = {
      at: new Date().toISOString(),
      n: N,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      setup: { via: 'rows as the submit use case writes them, copied from one API submit, relayed and posted by the gateway; then the deadline moved to one instant in the database and in each delayed expiry job', storeSec: submitSec },
      target: { allExpiredWithinMs: 2000 },
      result: { allExpiredAfterDeadlineMs: burstLagMs, met: burstLagMs <= 2000, slackComplete, slackUpdatesDoneAfterDeadlineMs: slackComplete ? slackDoneMs : null, slack429, fakeSlackRatePerSec: RATE, nothingDoubled: !doubled, nothingLost: slackComplete ? !lost : 'not settled within the wait', checks },
      baseline: { singleExpiryAfterDeadlineMs: singleLagMs, bareBulkUpdateMs: bareUpdateMs },
      ratio: { burstToBareUpdate: Math.round((burstLagMs / bareUpdateMs) * 10) / 10, burstToSingleExpiry: Math.round((burstLagMs / Math.max(1, singleLagMs)) * 10) / 10 },
    };
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(process.env.EXPIRY_BURST_OUT ?? 'bench/results/expiry-burst.json', JSON.stringify(out, null, 2) + '\n');
  } finally {
    await reviewsQueue.close();
    redis.disconnect();
    await sql.end();
    await t.stop();
    await slack.close();
    await target.drop();
    await teardown();
  }
}

await main();
