// WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT through the gateway's own webhooks worker (50 jobs at once):
// one receiver that never answers, with 60 deliveries due, holds 4 of the worker's slots, not all
// of them, and another endpoint's delivery arrives at once. The deliveries over the cap wait
// without spending an attempt.
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueNames } from '../../src/jobs/queues.js';
import { startFakeWebhookReceiver, type FakeWebhookReceiver } from '../fakes/fake-webhook-receiver.js';
import { createTargetDatabase, REDIS_URL } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let hanging: FakeWebhookReceiver;
let prompt: FakeWebhookReceiver;

beforeAll(async () => {
  target = await createTargetDatabase();
  hanging = await startFakeWebhookReceiver();
  prompt = await startFakeWebhookReceiver();
  // The cap left at its default (4); the receivers are on loopback.
  t = await startTestGateway({ slack: false, env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
  for (const name of ['stuck-db', 'other-db']) {
    const res = await t.api('POST', '/api/connections', { body: { name, url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
});

afterAll(async () => {
  // The receivers first: their hanging requests end, so the gateway's jobs do not hold its stop.
  await hanging?.stop();
  await prompt?.stop();
  await t?.stop();
  await target?.drop();
});

async function endpoint(receiver: FakeWebhookReceiver, connection: string): Promise<string> {
  const res = await t.api('POST', '/api/webhooks', { body: { url: receiver.url, events: ['review.created'], connections: [connection] } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  receiver.setSecret(res.body.webhook.secret);
  return res.body.webhook.id;
}

describe('a receiver that hangs with 60 deliveries due', () => {
  it('holds at most 4 of the worker\'s slots: another endpoint\'s delivery arrives at once, and the waiting ones spend no attempt', async () => {
    hanging.hang();
    const stuckId = await endpoint(hanging, 'stuck-db');
    await endpoint(prompt, 'other-db');
    const db = t.gateway.db;
    // 60 deliveries due now, each with its job on the webhooks queue, as dispatch leaves them.
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const d = await db.webhookDelivery.create({ data: { endpointId: stuckId, event: 'review.created', payload: { type: 'review.created', timestamp: new Date().toISOString(), data: { n: i } }, status: 'pending', nextAttemptAt: new Date() } });
      ids.push(d.id);
    }
    const queue = new Queue(queueNames(t.prefix).webhooks, { connection: { url: REDIS_URL } });
    try {
      await queue.addBulk(ids.map((deliveryId) => ({ name: 'webhooks.deliver', data: { deliveryId }, opts: { jobId: `whd-${deliveryId}-1` } })));
    } finally {
      await queue.close();
    }
    await expect.poll(() => hanging.received.length, { timeout: 10_000 }).toBe(4);

    // A request on the other connection: its review.created reaches the other receiver within
    // seconds, while the hanging one still holds its 4 (its attempts time out after 15 s).
    const dev = await t.createUser('dev@example.com', ['developers']);
    const started = Date.now();
    const res = await t.api('POST', '/api/connections/other-db/exec', { key: dev.apiKey, body: { input: "UPDATE users SET status = 'x' WHERE id = 1", reason: 'cap test' } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const [got] = await prompt.waitFor(1, 5000);
    expect(got.answered).toBe(200);
    expect(got.verified).toMatchObject({ type: 'review.created', data: { id: res.body.id } });
    expect(Date.now() - started).toBeLessThan(5000);

    // Never more than 4 in flight for the hanging receiver; the others waited without an attempt.
    expect(hanging.received).toHaveLength(4);
    const rows = await db.webhookDelivery.findMany({ where: { endpointId: stuckId }, select: { attempts: true, status: true } });
    expect(rows.filter((r) => r.attempts > 0)).toHaveLength(4);
    expect(rows.filter((r) => r.attempts === 0 && r.status === 'pending')).toHaveLength(56);
  }, 30_000);
});
