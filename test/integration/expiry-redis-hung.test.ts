// A request nobody decides expires within about 5 s of its due time whatever Redis does: hung
// (SIGSTOP: the connection still looks ready), killed, or up but without the delayed expiry job
// (lost with a flush or a restart). The expiry needs only PostgreSQL.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { startTestGateway } from '../helpers/gateway.js';
import { startRedisChild } from '../helpers/redis-child.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe.concurrent('expiry does not wait for Redis', () => {
  it.each(['hung', 'killed', 'job lost'] as const)('Redis %s: EXPIRED within 6 s of the due time', async (fault) => {
    const redis = await startRedisChild();
    cleanups.push(() => redis.close());
    const target = await createTargetDatabase();
    cleanups.push(() => target.drop());
    const t = await startTestGateway({ slack: false, sweepIntervalMs: 30_000, env: { REDIS_URL: redis.url, REVIEW_TIMEOUT_SEC: '4', SHUTDOWN_GRACE_SEC: '2' } });
    cleanups.push(async () => {
      await redis.ensureRunning();
      await t.stop();
    });
    const alice = await t.createUser('alice@example.com', ['dev']);
    await t.createUser('dana@example.com', ['dba']);
    expect((await t.api('POST', '/api/connections', { body: { name: 'prod', url: target.url, reviewers: ['dba'], reviewMode: 'all' } })).status).toBe(201);
    if (fault === 'hung') redis.pause();
    if (fault === 'killed') await redis.kill();
    const sub = await t.api('POST', '/api/connections/prod/exec', { key: alice.apiKey, body: { input: 'DELETE FROM x' } });
    expect(sub.status).toBe(201);
    const id = sub.body.id as string;
    if (fault === 'job lost') {
      // Redis answers, but the delayed expiry job is gone (the sweep that would re-add it runs every 30 s).
      await new Promise((r) => setTimeout(r, 500)); // the outbox relayed it
      await t.gateway.jobs.remove('review.expire', `expire-${id}`);
    }
    const due = new Date(sub.body.expiresAt).getTime();
    const state = new pg.Client({ connectionString: t.databaseUrl });
    await state.connect();
    cleanups.push(() => state.end());
    let expiredAt = 0;
    while (!expiredAt && Date.now() < due + 8000) {
      const { status } = (await state.query('SELECT status FROM "Review" WHERE id = $1', [id])).rows[0];
      if (status === 'EXPIRED') expiredAt = Date.now();
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(expiredAt, 'EXPIRED within 8 s of its due time').toBeGreaterThan(0);
    console.log(`Redis ${fault}: EXPIRED ${expiredAt - due} ms after its due time`);
    expect(expiredAt - due).toBeLessThan(6000);
    expect(expiredAt).toBeGreaterThanOrEqual(due);
  }, 30_000);
});
