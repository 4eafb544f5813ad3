// What the web app's admin pages read that the CLI did not need: one user by id or email
// (GET /api/users/:user), how many keys of each user still work (activeKeys in GET /api/users),
// and each webhook endpoint's newest delivery (lastDelivery in GET /api/webhooks and /:id).
import { beforeAll, describe, expect, it } from 'vitest';
import { startFakeWebhookReceiver } from '../fakes/fake-webhook-receiver.js';
import { useWebhookFixture, type WebhookFixture } from '../helpers/webhook-fixture.js';

const fixture = useWebhookFixture();
let f: WebhookFixture;
beforeAll(() => {
  f = fixture.f;
});

const USER_FIELDS = ['active', 'admin', 'bootstrap', 'createdAt', 'deactivatedAt', 'email', 'groups', 'id', 'name', 'slackUserId'];

describe('GET /api/users/:user', () => {
  it('shows one user by id or by email in any case, never a key', async () => {
    const u = await f.t.createUser('reader@example.com', ['dba-team']);
    for (const ref of [u.id, 'reader@example.com', encodeURIComponent(' Reader@Example.COM ')]) {
      const res = await f.t.api('GET', `/api/users/${ref}`);
      expect(res.status, ref).toBe(200);
      expect(Object.keys(res.body.user).sort()).toEqual(USER_FIELDS);
      expect(res.body.user).toMatchObject({ id: u.id, email: 'reader@example.com', groups: ['dba-team'], admin: false, active: true });
      expect(JSON.stringify(res.body)).not.toContain(u.apiKey.slice(5));
    }
  });

  it('answers 404 in words for an unknown user', async () => {
    const res = await f.t.api('GET', '/api/users/nobody@example.com');
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain('No user is "nobody@example.com"');
  });

  it('refuses a non-admin the same way whether the user exists or not', async () => {
    const self = await f.t.api('GET', `/api/users/${f.requester.id}`, { key: f.requester.apiKey });
    const other = await f.t.api('GET', '/api/users/root@example.com', { key: f.requester.apiKey });
    const nobody = await f.t.api('GET', '/api/users/nobody@example.com', { key: f.requester.apiKey });
    for (const res of [self, other, nobody]) {
      expect(res.status).toBe(403);
      expect(res.body.error.message).toBe('Only an admin can see other users; GET /api/me shows you.');
    }
  });
});

describe('activeKeys in GET /api/users', () => {
  it('counts the keys that still work, not the revoked ones', async () => {
    const u = await f.t.createUser('keys@example.com', []);
    const second = await f.t.api('POST', '/api/users/keys@example.com/keys', { body: { name: 'ci' } });
    expect(second.status).toBe(201);
    const count = async () => (await f.t.api('GET', '/api/users')).body.users.find((x: any) => x.id === u.id).activeKeys;
    expect(await count()).toBe(2);
    expect((await f.t.api('DELETE', `/api/keys/${second.body.key.id}`)).status).toBe(200);
    expect(await count()).toBe(1);
  });
});

describe('lastDelivery in GET /api/webhooks', () => {
  it('is null before any delivery, then the newest delivery with its outcome', async () => {
    f.notifier();
    const receiver = await startFakeWebhookReceiver();
    fixture.receivers.push(receiver);
    const made = await f.api('POST', '/api/webhooks', { body: { url: receiver.url, events: ['review.created'] } });
    expect(made.status).toBe(201);
    receiver.setSecret(made.body.webhook.secret);
    const id = made.body.webhook.id;
    const listed = async () => (await f.api('GET', '/api/webhooks')).body.webhooks.find((w: any) => w.id === id);
    expect((await listed()).lastDelivery).toBeNull();
    expect((await f.api('GET', `/api/webhooks/${id}`)).body.webhook.lastDelivery).toBeNull();

    const announce = async () => {
      const reviewId = await f.submit('prod-db');
      for (const e of f.driver.notifier.jobsOfNewRequest!({ reviewId, status: 'PENDING', autoApproved: false })) await f.driver.enqueue(e);
      await f.driver.runDue();
      return reviewId;
    };
    await announce();
    receiver.failNext(1, 503, 'down for maintenance');
    const second = await announce();
    const newest = await f.t.gateway.db.webhookDelivery.findFirstOrThrow({ where: { endpointId: id, reviewId: second } });

    const expected = { id: newest.id, event: 'review.created', status: 'failed', attempts: 1, lastStatusCode: 503 };
    expect((await listed()).lastDelivery).toMatchObject(expected);
    expect((await f.api('GET', `/api/webhooks/${id}`)).body.webhook.lastDelivery).toMatchObject(expected);
    // A delivery's payload stays out of lists: it holds the review, which the log shows per delivery.
    expect(Object.keys((await listed()).lastDelivery).sort()).toEqual(['attempts', 'createdAt', 'event', 'id', 'lastError', 'lastStatusCode', 'status', 'updatedAt']);
  });
});
