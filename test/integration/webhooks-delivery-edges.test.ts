// Webhook deliveries at their edges: replay, secret rotation (both signatures for 24 h, then only
// the new), slow and hanging receivers, redirects, and destinations refused after DNS at delivery.
import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { startFakeWebhookReceiver, type FakeWebhookReceiver } from '../fakes/fake-webhook-receiver.js';
import { fakeResolver, useWebhookFixture, type WebhookFixture } from '../helpers/webhook-fixture.js';

/** Names the strict API and the notifiers resolve; a test changes them to play DNS rebinding. */
const dns: Record<string, string[]> = { 'hooks.example.com': ['93.184.216.34'] };
const resolve = fakeResolver(dns);

const fixture = useWebhookFixture({ resolve });
const receivers = fixture.receivers;
let f: WebhookFixture;
beforeAll(() => {
  f = fixture.f;
});

async function receiver(): Promise<FakeWebhookReceiver> {
  const r = await startFakeWebhookReceiver();
  receivers.push(r);
  return r;
}

async function endpoint(r: FakeWebhookReceiver, events = ['review.created'], url = r.url): Promise<{ id: string; secret: string }> {
  const res = await f.api('POST', '/api/webhooks', { body: { url, events } });
  expect(res.status).toBe(201);
  r.setSecret(res.body.webhook.secret);
  return { id: res.body.webhook.id, secret: res.body.webhook.secret };
}

async function announce(): Promise<string> {
  const reviewId = await f.submit('prod-db');
  for (const e of f.driver.notifier.jobsOfNewRequest!({ reviewId, status: 'PENDING', autoApproved: false })) await f.driver.enqueue(e);
  return reviewId;
}

const onlyDelivery = async (endpointId: string) => (await f.t.gateway.db.webhookDelivery.findMany({ where: { endpointId }, include: { log: { orderBy: { id: 'asc' } } } }))[0];

/** A receiver, its endpoint for review.created, and the one delivery of a request announced to it. */
async function deliveredOnce() {
  f.notifier();
  const r = await receiver();
  const ep = await endpoint(r);
  await announce();
  await f.driver.runDue();
  return { r, ep, d: await onlyDelivery(ep.id) };
}

describe('replay', () => {
  it('re-sends the same body with the same webhook-id and a fresh signature the receiver verifies', async () => {
    const { r, ep, d } = await deliveredOnce();
    const res = await f.api('POST', `/api/webhooks/${ep.id}/deliveries/${d.id}/replay`);
    expect(res.status).toBe(202);
    expect(res.body.delivery).toMatchObject({ id: d.id, status: 'pending' });
    await f.driver.runDue();
    expect(r.received).toHaveLength(2);
    const [first, again] = r.received;
    expect(again.answered).toBe(200);
    expect(again.verified).toEqual(first.verified);
    expect(again.body).toBe(first.body);
    expect(again.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(await onlyDelivery(ep.id)).toMatchObject({ status: 'succeeded', attempts: 2 });
    const audit = await f.t.gateway.db.auditEvent.findMany({ where: { action: 'webhook.delivery_replayed' } });
    expect(audit.map((a) => (a.detail as any).deliveryId)).toContain(d.id);
  });

  it('makes one attempt of a delivery that gave up, and no retries when it fails', async () => {
    const { r, ep, d } = await deliveredOnce();
    await f.t.gateway.db.webhookDelivery.update({ where: { id: d.id }, data: { status: 'gave_up', nextAttemptAt: null } });
    r.failNext(1, 502);
    expect((await f.api('POST', `/api/webhooks/${ep.id}/deliveries/${d.id}/replay`)).status).toBe(202);
    const outcomes = await f.driver.runDue();
    expect(outcomes.map((o) => o.result)).toEqual(['done']);
    expect(f.driver.waiting).toHaveLength(0);
    expect(await onlyDelivery(ep.id)).toMatchObject({ status: 'failed', nextAttemptAt: null, lastStatusCode: 502, attempts: 2 });
  });

  it('refuses an unknown delivery, another endpoint\'s delivery, and a disabled endpoint', async () => {
    f.notifier();
    const r = await receiver();
    const ep = await endpoint(r);
    const other = await endpoint(await receiver(), ['review.approved']);
    await announce();
    await f.driver.runDue();
    const d = await onlyDelivery(ep.id);
    expect((await f.api('POST', `/api/webhooks/${ep.id}/deliveries/00000000-0000-4000-8000-000000000000/replay`)).status).toBe(404);
    expect((await f.api('POST', `/api/webhooks/${other.id}/deliveries/${d.id}/replay`)).status).toBe(404);
    expect((await f.api('POST', `/api/webhooks/${ep.id}/deliveries/nope/replay`)).status).toBe(404);
    await f.api('PATCH', `/api/webhooks/${ep.id}`, { body: { enabled: false } });
    const res = await f.api('POST', `/api/webhooks/${ep.id}/deliveries/${d.id}/replay`);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/enable it first/);
  });
});

describe('secret rotation', () => {
  it('signs with both secrets for 24 h, then with the new one only', async () => {
    f.notifier();
    const r = await receiver();
    const ep = await endpoint(r);
    const rotated = await f.api('PATCH', `/api/webhooks/${ep.id}`, { body: { rotateSecret: true } });
    const next = rotated.body.webhook.secret as string;

    await announce();
    await f.driver.runDue();
    const during = r.received[0];
    expect(during.answered).toBe(200); // the receiver still has the old secret
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    const headers = during.headers as Record<string, string>;
    expect(() => new Webhook(ep.secret).verify(during.body, headers)).not.toThrow();
    expect(() => new Webhook(next).verify(during.body, headers)).not.toThrow();

    f.clock.advance(24 * 3600 * 1000 + 1000);
    await announce();
    await f.driver.runDue();
    const after = r.received[1];
    expect(after.answered).toBe(400);
    expect(after.refusal).toBe('No matching signature found');
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => new Webhook(next).verify(after.body, after.headers as Record<string, string>)).not.toThrow();
  });
});

describe('slow receivers', () => {
  it('do not delay another endpoint\'s delivery', async () => {
    f.notifier();
    const slow = await receiver();
    slow.slow(1500);
    const fast = await receiver();
    await endpoint(slow);
    const fastEp = await endpoint(fast);
    await announce();
    const [dispatch] = f.driver.waiting.splice(0);
    await f.driver.runOne(dispatch.entry);
    const jobs = f.driver.waiting.splice(0).map((w) => w.entry);
    expect(jobs).toHaveLength(2);
    const started = Date.now();
    const finished: Record<string, number> = {};
    await Promise.all(jobs.map(async (job) => {
      await f.driver.runOne(job);
      finished[job.payload.deliveryId as string] = Date.now() - started;
    }));
    const fastDelivery = await onlyDelivery(fastEp.id);
    expect(finished[fastDelivery.id]).toBeLessThan(1000);
    expect(Math.max(...Object.values(finished))).toBeGreaterThanOrEqual(1400);
    expect(fastDelivery.status).toBe('succeeded');
  });

  it('that hang are cut off at the timeout and retried', async () => {
    f.notifier({ timeoutMs: 800 });
    const r = await receiver();
    r.hang();
    const ep = await endpoint(r);
    await announce();
    const outcomes = await f.driver.runDue();
    expect(outcomes.find((o) => o.entry.name === 'webhooks.deliver')?.result).toBe('retry');
    const d = await onlyDelivery(ep.id);
    expect(d).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null, lastError: 'no answer within 0.8 s' });
    expect(d.lastDurationMs).toBeGreaterThanOrEqual(750);
    expect(d.lastDurationMs).toBeLessThan(2000);
  });
});

describe('answers that are not a success', () => {
  it('a redirect is a failure and is not followed', async () => {
    f.notifier();
    const r = await receiver();
    const target = await receiver();
    r.answerAlways(302, { location: `${target.url}/elsewhere` });
    const ep = await endpoint(r);
    await announce();
    await f.driver.runDue();
    expect(await onlyDelivery(ep.id)).toMatchObject({ status: 'failed', lastStatusCode: 302 });
    expect((await onlyDelivery(ep.id)).lastError).toMatch(/^HTTP 302: redirects are not followed/);
    expect(target.received).toHaveLength(0);
  });

  it('a binary answer is logged without its NUL bytes', async () => {
    f.notifier();
    const r = await receiver();
    r.failNext(1, 500, 'bad\u0000\u0000gateway');
    const ep = await endpoint(r);
    await announce();
    const outcomes = await f.driver.runDue();
    expect(outcomes.find((o) => o.entry.name === 'webhooks.deliver')?.result).toBe('retry');
    expect(await onlyDelivery(ep.id)).toMatchObject({ status: 'failed', lastStatusCode: 500, responseExcerpt: 'badgateway' });
  });

  it('a 400 from a receiver refusing the signature is a failure', async () => {
    f.notifier();
    const r = await receiver();
    const ep = await endpoint(r);
    r.setSecret(`whsec_${Buffer.from('someone else entirely').toString('base64')}`);
    await announce();
    await f.driver.runDue();
    expect(await onlyDelivery(ep.id)).toMatchObject({ status: 'failed', lastStatusCode: 400, responseExcerpt: 'bad signature: No matching signature found' });
  });
});

describe('server-side request forgery at delivery', () => {
  it('refuses a loopback literal when private destinations are not allowed, sending nothing', async () => {
    f.notifier({ allowPrivate: false, resolve });
    const r = await receiver();
    const ep = await endpoint(r);
    await announce();
    const outcomes = await f.driver.runDue();
    expect(outcomes.find((o) => o.entry.name === 'webhooks.deliver')?.result).toBe('retry');
    expect(r.received).toHaveLength(0);
    expect((await onlyDelivery(ep.id)).lastError).toMatch(/^refused: 127\.0\.0\.1 is a private, loopback/);
  });

  it('refuses a name that resolved to a public address when saved and to loopback now (DNS rebinding)', async () => {
    const r = await receiver();
    dns['rebind.example.com'] = ['93.184.216.34'];
    const made = await f.api('POST', '/api/webhooks', { body: { url: `http://rebind.example.com:${r.port}/hooks`, events: ['review.created'] }, strict: true });
    expect(made.status).toBe(201);
    r.setSecret(made.body.webhook.secret);
    dns['rebind.example.com'] = ['127.0.0.1'];
    f.notifier({ allowPrivate: false, resolve });
    await announce();
    await f.driver.runDue();
    expect(r.received).toHaveLength(0);
    expect((await onlyDelivery(made.body.webhook.id)).lastError).toBe('refused: rebind.example.com resolves to 127.0.0.1 is a private, loopback, link-local or reserved address');
  });

  it.each([['::1'], ['::ffff:127.0.0.1'], ['169.254.169.254'], ['10.0.0.8', '93.184.216.34']])('refuses a name resolving to %s', async (...addresses) => {
    const r = await receiver();
    dns['moving.example.com'] = addresses;
    const ep = await endpoint(r, ['review.created'], `http://moving.example.com:${r.port}/hooks`);
    f.notifier({ allowPrivate: false, resolve });
    await announce();
    await f.driver.runDue();
    expect(r.received).toHaveLength(0);
    expect((await onlyDelivery(ep.id)).lastError).toMatch(/^refused: moving\.example\.com resolves to /);
  });

  it('refuses localhost names at delivery', async () => {
    const r = await receiver();
    const ep = await endpoint(r, ['review.created'], `http://localhost:${r.port}/hooks`);
    f.notifier({ allowPrivate: false });
    await announce();
    await f.driver.runDue();
    expect(r.received).toHaveLength(0);
    expect((await onlyDelivery(ep.id)).lastError).toBe('refused: localhost is a loopback name');
  });

  it('connects to the address it resolved and checked, with the name as Host', async () => {
    const r = await receiver();
    dns['receiver.test'] = ['127.0.0.1'];
    const ep = await endpoint(r, ['review.created'], `http://receiver.test:${r.port}/hooks`);
    f.notifier({ allowPrivate: true, resolve });
    await announce();
    await f.driver.runDue();
    expect(r.received).toHaveLength(1);
    expect(r.received[0].headers.host).toBe(`receiver.test:${r.port}`);
    expect(await onlyDelivery(ep.id)).toMatchObject({ status: 'succeeded' });
  });
});
