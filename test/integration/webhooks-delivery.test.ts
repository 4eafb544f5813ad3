// Webhook deliveries: one per subscribed endpoint, signed so a Standard Webhooks receiver verifies
// them, retried on the schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, ±10 %) by a moved
// clock, given up after the last, an endpoint failing for a day disabled and audited, and the
// sweep's repair of a delivery whose job was lost.
import { beforeAll, describe, expect, it } from 'vitest';
import type { OutboxEntry } from '../../src/db/outbox.js';
import { RETRY_DELAYS_SEC } from '../../src/notify/webhooks/schedule.js';
import { startFakeWebhookReceiver, type FakeWebhookReceiver } from '../fakes/fake-webhook-receiver.js';
import { useWebhookFixture, type WebhookFixture } from '../helpers/webhook-fixture.js';
import type { AuditAction } from '../../src/core/audit-actions.js';


const fixture = useWebhookFixture();
const receivers = fixture.receivers;
let f: WebhookFixture;
beforeAll(() => {
  f = fixture.f;
});

/** A receiver and an endpoint pointing at it, the receiver configured with the endpoint's secret. */
async function endpoint(events: string[], extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string; receiver: FakeWebhookReceiver }> {
  const receiver = await startFakeWebhookReceiver();
  receivers.push(receiver);
  const res = await f.api('POST', '/api/webhooks', { body: { url: receiver.url, events, ...extra } });
  expect(res.status).toBe(201);
  receiver.setSecret(res.body.webhook.secret);
  return { id: res.body.webhook.id, secret: res.body.webhook.secret, receiver };
}

/** Submits a request and enqueues what the webhooks channel does for it. */
async function announce(connection = 'prod-db'): Promise<string> {
  const reviewId = await f.submit(connection);
  for (const e of f.driver.notifier.jobsOfNewRequest!({ reviewId, status: 'PENDING', autoApproved: false })) await f.driver.enqueue(e);
  return reviewId;
}

const deliveriesOf = (endpointId: string) => f.t.gateway.db.webhookDelivery.findMany({ where: { endpointId }, include: { log: { orderBy: { id: 'asc' } } } });

describe('dispatch', () => {
  it('creates one delivery per enabled endpoint subscribed to the event and the connection, once', async () => {
    f.notifier();
    const all = await endpoint(['review.created']);
    const onlyApproved = await endpoint(['review.approved']);
    const otherConnection = await endpoint(['review.created'], { connections: ['billing'] });
    const thisConnection = await endpoint(['review.created', 'review.rejected'], { connections: ['prod-db'] });
    const disabled = await endpoint(['review.created']);
    expect((await f.api('PATCH', `/api/webhooks/${disabled.id}`, { body: { enabled: false } })).status).toBe(200);

    const reviewId = await announce('prod-db');
    const [entry] = f.driver.waiting.map((w) => w.entry);
    expect(entry).toMatchObject({ name: 'webhooks.dispatch', jobId: `wh-review.created-${reviewId}`, payload: { reviewId, event: 'review.created' } });
    const outcomes = await f.driver.runDue();
    expect(outcomes.map((o) => [o.entry.name, o.result])).toEqual([['webhooks.dispatch', 'done'], ['webhooks.deliver', 'done'], ['webhooks.deliver', 'done']]);
    expect(all.receiver.received).toHaveLength(1);
    expect(thisConnection.receiver.received).toHaveLength(1);
    for (const none of [onlyApproved, otherConnection, disabled]) {
      expect(none.receiver.received).toHaveLength(0);
      expect(await deliveriesOf(none.id)).toHaveLength(0);
    }

    // The same dispatch again (a retried job, a second relay): nothing new is created or sent.
    expect((await f.driver.runOne(entry)).result).toBe('done');
    await f.driver.runDue();
    expect(await f.t.gateway.db.webhookDelivery.count({ where: { reviewId } })).toBe(2);
    expect(all.receiver.received).toHaveLength(1);
  });

  it('announces only pending requests, and the transitions that are events', () => {
    const n = f.notifier();
    expect(n.jobsOfNewRequest!({ reviewId: '00000000-0000-4000-8000-000000000001', status: 'APPROVED', autoApproved: true })).toEqual([]);
    const t = (action: string) => ({ action: action as AuditAction, next: {} as never, decidedGroups: [], effects: [] });
    expect(n.jobsOf!('00000000-0000-4000-8000-000000000001', t('review.approved'))).toEqual([
      { name: 'webhooks.dispatch', payload: { reviewId: '00000000-0000-4000-8000-000000000001', event: 'review.approved' }, jobId: 'wh-review.approved-00000000-0000-4000-8000-000000000001', reviewId: '00000000-0000-4000-8000-000000000001' },
    ]);
    expect(n.jobsOf!('00000000-0000-4000-8000-000000000001', t('review.started'))).toEqual([]);
  });

  it('drops a job with a bad payload or an unknown name without retrying it', async () => {
    f.notifier();
    for (const entry of [
      { name: 'webhooks.dispatch', payload: { reviewId: 'x', event: 'review.created' }, jobId: 'bad-1' },
      { name: 'webhooks.dispatch', payload: { reviewId: '00000000-0000-4000-8000-000000000001', event: 'review.nope' }, jobId: 'bad-2' },
      { name: 'webhooks.dispatch', payload: { reviewId: '00000000-0000-4000-8000-000000000001', event: 'review.created' }, jobId: 'bad-3' },
      { name: 'webhooks.deliver', payload: { deliveryId: 7 }, jobId: 'bad-4' },
      { name: 'webhooks.bogus', payload: {}, jobId: 'bad-5' },
    ]) {
      // bad-3 names a request that does not exist: with no endpoint subscribed to its event there is
      // nothing to look up, and the job ends at once (the endpoint table is read before the request).
      const subscribed = await f.t.gateway.db.webhookEndpoint.count({ where: { enabled: true, events: { has: 'review.created' } } });
      expect((await f.driver.runOne(entry)).result, entry.jobId).toBe(entry.jobId === 'bad-3' && subscribed === 0 ? 'done' : 'permanent');
    }
  });
});

describe('delivery', () => {
  it('POSTs {type, timestamp, data} signed so the receiver verifies it, and logs the attempt', async () => {
    f.notifier();
    const ep = await endpoint(['review.created']);
    const reviewId = await announce();
    await f.driver.runDue();
    const [req] = ep.receiver.received;
    expect(req.answered).toBe(200);
    expect(req.refusal).toBeUndefined();
    const body = req.verified as any;
    expect(body.type).toBe('review.created');
    expect(body.timestamp).toBe(f.clock.now().toISOString());
    expect(body.data).toMatchObject({ id: reviewId, connection: 'prod-db', status: 'PENDING', requester: 'dev@example.com', input: "UPDATE users SET status = 'x' WHERE id = 1" });
    // The review as GET /api/reviews/:id shows it, and nothing more: never the connection URL.
    const api = await f.t.api('GET', `/api/reviews/${reviewId}`);
    // The review as the API returns it, but for `viewer` (what the asking person may do: a
    // webhook has no viewer).
    const { viewer, ...asTheApiReturnsIt } = api.body;
    expect(viewer).toBeDefined();
    expect(body.data).toEqual(asTheApiReturnsIt);
    expect(req.body).not.toMatch(/postgres(ql)?:\/\//);
    expect(req.body.startsWith('{"type":"review.created","timestamp":"')).toBe(true);
    const [d] = await deliveriesOf(ep.id);
    expect(req.headers['webhook-id']).toBe(`msg_${d.id}`);
    expect(req.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(d).toMatchObject({ status: 'succeeded', attempts: 1, lastStatusCode: 200, responseExcerpt: 'ok', nextAttemptAt: null });
    const log = await f.api('GET', `/api/webhooks/${ep.id}/deliveries`);
    expect(log.status).toBe(200);
    expect(log.body.deliveries[0]).toMatchObject({ id: d.id, event: 'review.created', status: 'succeeded', attempts: 1, reviewId });
    expect(log.body.deliveries[0].log).toEqual([{ attempt: 1, event: 'review.created', statusCode: 200, durationMs: expect.any(Number), error: null, responseExcerpt: 'ok', at: expect.any(String) }]);
  });

  it('tries again about 5 s after a 500, not before, and succeeds', async () => {
    f.notifier();
    const ep = await endpoint(['review.created']);
    ep.receiver.failNext(1, 500, 'x'.repeat(5000));
    await announce();
    const first = await f.driver.runDue();
    const failed = first.find((o) => o.entry.name === 'webhooks.deliver')!;
    expect(failed.result).toBe('retry');
    const [d1] = await deliveriesOf(ep.id);
    const delay = d1.nextAttemptAt!.getTime() - f.clock.now().getTime();
    expect(delay).toBeGreaterThanOrEqual(4500);
    expect(delay).toBeLessThanOrEqual(5500);
    expect(failed.retryAfterSec).toBe(Math.ceil(delay / 1000));
    expect(d1).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500' });
    expect(d1.responseExcerpt).toHaveLength(1024);

    // Run early (a duplicate job, or a worker that ran it before time): not sent, put off again.
    f.clock.advance(delay - 1000);
    expect((await f.driver.runOne(failed.entry)).result).toBe('retry');
    expect(ep.receiver.received).toHaveLength(1);

    const second = await f.driver.runNext();
    expect(second.map((o) => o.result)).toContain('done');
    expect(ep.receiver.received.map((r) => r.answered)).toEqual([500, 200]);
    const [d2] = await deliveriesOf(ep.id);
    expect(d2).toMatchObject({ status: 'succeeded', attempts: 2, lastStatusCode: 200 });
    expect(d2.log.map((a) => [a.attempt, a.statusCode])).toEqual([[1, 500], [2, 200]]);
    // The same message: the same id on both attempts.
    expect(ep.receiver.received[1].headers['webhook-id']).toBe(ep.receiver.received[0].headers['webhook-id']);
  });

  it('follows the whole schedule, then gives up (and the endpoint, failing for a day by then, is disabled)', async () => {
    f.notifier();
    const ep = await endpoint(['review.created']);
    ep.receiver.failNext(100, 503);
    await announce();
    await f.driver.runDue();
    while (f.driver.waiting.length) await f.driver.runNext();
    const [d] = await deliveriesOf(ep.id);
    expect(d).toMatchObject({ status: 'gave_up', attempts: 8, nextAttemptAt: null, lastStatusCode: 503 });
    expect(ep.receiver.received).toHaveLength(8);
    const times = d.log.map((a) => a.createdAt.getTime());
    RETRY_DELAYS_SEC.forEach((sec, i) => {
      const gap = times[i + 1] - times[i];
      expect(gap).toBeGreaterThanOrEqual(sec * 900);
      // RetryLater counts whole seconds: the job may run up to a second after the row's due time.
      expect(gap).toBeLessThanOrEqual(sec * 1100 + 1000);
    });
    const row = await f.t.gateway.db.webhookEndpoint.findUniqueOrThrow({ where: { id: ep.id } });
    expect(row.enabled).toBe(false);
  });
});

describe('an endpoint failing for a day', () => {
  it('is disabled once, audited, the admins told, and its remaining deliveries are not sent', async () => {
    const told: { id: string; text: string }[] = [];
    f.notifier({ tellAdmins: async (n) => void told.push(n) });
    const ep = await endpoint(['review.created']);
    ep.receiver.failNext(1000);
    const start = f.clock.now();
    await announce();
    await f.driver.runDue();
    f.clock.advance(23 * 3600 * 1000);
    await announce();
    await f.driver.runDue();
    expect((await f.t.gateway.db.webhookEndpoint.findUniqueOrThrow({ where: { id: ep.id } })).enabled).toBe(true);

    f.clock.advance(3600 * 1000);
    await announce();
    await f.driver.runDue();
    const row = await f.t.gateway.db.webhookEndpoint.findUniqueOrThrow({ where: { id: ep.id } });
    expect(row).toMatchObject({ enabled: false, failingSince: start });
    expect(row.disabledReason).toBe(`every delivery failed from ${start.toISOString()} to ${f.clock.now().toISOString()} (last: HTTP 500)`);
    const audits = await f.t.gateway.db.auditEvent.findMany({ where: { action: 'webhook.disabled' } });
    expect(audits.filter((a) => (a.detail as any).webhookId === ep.id)).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actor: 'system', source: 'system' });
    // Told once, with what to run.
    expect(told).toHaveLength(1);
    expect(told[0].text).toContain(`Webhook endpoint ${ep.id}`);
    expect(told[0].text).toContain(`hoop admin webhook deliveries ${ep.id}`);

    const sent = ep.receiver.received.length;
    while (f.driver.waiting.length) await f.driver.runNext();
    expect(ep.receiver.received).toHaveLength(sent);
    for (const d of await deliveriesOf(ep.id)) expect(d).toMatchObject({ status: 'failed', nextAttemptAt: null });
    const view = await f.api('GET', `/api/webhooks/${ep.id}`);
    expect(view.body.webhook).toMatchObject({ enabled: false, disabledReason: row.disabledReason });
  });

  it('is not disabled when a delivery succeeded in between', async () => {
    f.notifier();
    const ep = await endpoint(['review.created']);
    ep.receiver.failNext(1);
    await announce();
    await f.driver.runDue();
    f.clock.advance(12 * 3600 * 1000);
    await announce();
    await f.driver.runDue();
    f.clock.advance(13 * 3600 * 1000);
    ep.receiver.failNext(1);
    await announce();
    await f.driver.runDue();
    const row = await f.t.gateway.db.webhookEndpoint.findUniqueOrThrow({ where: { id: ep.id } });
    expect(row.enabled).toBe(true);
    expect(row.failingSince).toEqual(f.clock.now());
  });
});

describe('GET /api/webhooks/:id/deliveries', () => {
  it('pages newest first with a cursor', async () => {
    f.notifier();
    const ep = await endpoint(['review.created']);
    const ids: string[] = [];
    for (const [i, event] of ['review.created', 'review.approved', 'review.rejected'].entries()) {
      const d = await f.t.gateway.db.webhookDelivery.create({ data: { endpointId: ep.id, event, payload: {}, createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)) } });
      ids.push(d.id);
    }
    const first = await f.api('GET', `/api/webhooks/${ep.id}/deliveries?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.deliveries.map((d: any) => d.id)).toEqual([ids[2], ids[1]]);
    const second = await f.api('GET', `/api/webhooks/${ep.id}/deliveries?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(second.body.deliveries.map((d: any) => d.id)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();
    expect((await f.api('GET', `/api/webhooks/${ep.id}/deliveries?cursor=${encodeURIComponent(first.body.nextCursor.slice(0, -2))}`)).status).toBe(400);
    expect((await f.api('GET', `/api/webhooks/${ep.id}/deliveries?status=failed`)).status).toBe(400);
    expect((await f.api('GET', '/api/webhooks/00000000-0000-4000-8000-000000000000/deliveries')).status).toBe(404);
    expect((await f.api('GET', `/api/webhooks/${ep.id}/deliveries`, { key: f.requester.apiKey })).status).toBe(403);
  });
});

describe('the sweep', () => {
  it('re-enqueues deliveries due more than a minute ago, and no others', async () => {
    const n = f.notifier();
    const ep = await endpoint(['review.created']);
    const now = f.clock.now().getTime();
    const make = (event: string, dueAgoMs: number | null, status = 'failed') =>
      f.t.gateway.db.webhookDelivery.create({ data: { endpointId: ep.id, event, payload: {}, status, attempts: 2, nextAttemptAt: dueAgoMs === null ? null : new Date(now - dueAgoMs) } });
    const lost = await make('review.created', 120_000);
    const lostPending = await make('review.approved', 3600_000, 'pending');
    await make('review.rejected', 30_000);
    await make('review.expired', -60_000);
    await make('review.executed', 120_000, 'succeeded');
    await make('review.failed', null);
    const entries: OutboxEntry[] = [];
    await n.reconcile!({ now: f.clock.now(), enqueue: async (e) => void entries.push(e) });
    expect(entries.map((e) => e.payload.deliveryId).sort()).toEqual([lost.id, lostPending.id].sort());
    expect(entries[0].jobId).toMatch(new RegExp(`^whd-${entries[0].payload.deliveryId}-3-r\\d+$`));
  });
  it('writes and delivers once the deliveries of dispatch jobs that never ran; an endpoint made after the event gets none', async () => {
    // Back at the real time, which the gateway writes requests with (earlier tests moved the clock on).
    f.clock.set(new Date());
    const n = f.notifier();
    const ep = await endpoint(['review.created', 'review.rejected']);
    // The gateway here runs no workers and the driver is never handed the dispatch jobs: as if Redis
    // had lost them (or they had run out of attempts).
    const reviewId = await f.submit('prod-db');
    f.clock.set(new Date(Date.now() + 5));
    const late = await endpoint(['review.created', 'review.rejected']);
    const sweep = async (now: Date) => {
      const entries: OutboxEntry[] = [];
      await n.reconcile!({ now, enqueue: async (e) => (entries.push(e), f.driver.enqueue(e)) });
      return entries;
    };
    // Within a minute of the event its own job may still be on its way: the sweep leaves it.
    expect(await sweep(new Date())).toEqual([]);
    expect(await deliveriesOf(ep.id)).toEqual([]);

    let now = new Date(Date.now() + 2 * 60_000);
    f.clock.set(now);
    const first = await sweep(now);
    expect(first.map((e) => e.name)).toEqual(['webhooks.deliver']);
    await f.driver.runDue();
    expect(ep.receiver.received.map((r) => r.answered)).toEqual([200]);
    expect(ep.receiver.received[0].verified).toMatchObject({ type: 'review.created', data: { id: reviewId, status: 'PENDING' } });
    expect(await deliveriesOf(ep.id)).toEqual([expect.objectContaining({ reviewId, event: 'review.created', status: 'succeeded', attempts: 1 })]);
    expect(late.receiver.received).toEqual([]);
    expect(await deliveriesOf(late.id)).toEqual([]);

    // A second sweep writes, enqueues and sends nothing more.
    expect(await sweep(new Date(now.getTime() + 60_000))).toEqual([]);
    await f.driver.runDue();
    expect(ep.receiver.received).toHaveLength(1);

    // A rejection whose dispatch job is lost too reaches both endpoints (the late one was subscribed by then).
    const reviewer = await f.t.createUser('sweep-reviewer@example.com', ['dba-team']);
    expect((await f.t.api('PUT', `/api/reviews/${reviewId}/reject`, { key: reviewer.apiKey, body: { reason: 'not now' } })).status).toBe(200);
    now = new Date(Date.now() + 2 * 60_000);
    f.clock.set(now);
    expect((await sweep(now)).map((e) => e.name)).toEqual(['webhooks.deliver', 'webhooks.deliver']);
    await f.driver.runDue();
    for (const r of [ep.receiver, late.receiver]) expect(r.received.at(-1)!.verified).toMatchObject({ type: 'review.rejected', data: { id: reviewId, status: 'REJECTED' } });
    expect(ep.receiver.received).toHaveLength(2);
    expect(late.receiver.received).toHaveLength(1);
    expect(await sweep(new Date(now.getTime() + 60_000))).toEqual([]);
  });

  it('sends an endpoint enabled again, or subscribed to other events, nothing of what happened before', async () => {
    f.clock.set(new Date());
    const n = f.notifier();
    const off = await endpoint(['review.created']);
    const other = await endpoint(['review.approved']);
    expect((await f.api('PATCH', `/api/webhooks/${off.id}`, { body: { enabled: false } })).status).toBe(200);
    // Requests while one is disabled and the other subscribed to other events (no dispatch job runs here).
    const reviewId = await f.submit('prod-db');
    f.clock.set(new Date(Date.now() + 5));
    expect((await f.api('PATCH', `/api/webhooks/${off.id}`, { body: { enabled: true } })).status).toBe(200);
    expect((await f.api('PATCH', `/api/webhooks/${other.id}`, { body: { events: ['review.approved', 'review.created'] } })).status).toBe(200);
    // A change that is not a subscription (the description) starts nothing afresh.
    const kept = await f.t.gateway.db.webhookEndpoint.findUniqueOrThrow({ where: { id: other.id } });
    f.clock.set(new Date(Date.now() + 5));
    expect((await f.api('PATCH', `/api/webhooks/${other.id}`, { body: { description: 'renamed' } })).status).toBe(200);
    expect((await f.t.gateway.db.webhookEndpoint.findUniqueOrThrow({ where: { id: other.id } })).subscribedAt).toEqual(kept.subscribedAt);

    const later = new Date(Date.now() + 2 * 60_000);
    f.clock.set(later);
    const entries: OutboxEntry[] = [];
    await n.reconcile!({ now: later, enqueue: async (e) => void entries.push(e) });
    expect(entries).toEqual([]);
    expect(await f.t.gateway.db.webhookDelivery.count({ where: { reviewId } })).toBe(0);
    // The next request reaches both.
    await f.submit('prod-db');
    const after = new Date(Date.now() + 2 * 60_000);
    f.clock.set(after);
    await n.reconcile!({ now: after, enqueue: f.driver.enqueue });
    await f.driver.runDue();
    expect(off.receiver.received).toHaveLength(1);
    expect(other.receiver.received).toHaveLength(1);
  });
});
