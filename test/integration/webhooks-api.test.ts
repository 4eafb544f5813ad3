// /api/webhooks: admins create, list, read, change, rotate and delete endpoints; the secret is shown
// once; bad input is refused with a sentence saying why; destinations inside the network are
// refused unless WEBHOOK_ALLOW_PRIVATE=true; every change is audited without its secret.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeResolver, startWebhookFixture, type WebhookFixture } from '../helpers/webhook-fixture.js';

let f: WebhookFixture;
let alice: { id: string; apiKey: string };

const resolve = fakeResolver({
  'hooks.example.com': ['93.184.216.34'],
  'intranet.example.com': ['10.1.2.3'],
  'mixed.example.com': ['93.184.216.34', '192.168.1.10'],
  'loop.example.com': ['127.0.0.1'],
  'v6loop.example.com': ['::1'],
  'metadata.example.com': ['169.254.169.254'],
  'mapped.example.com': ['::ffff:10.0.0.1'],
  'cgnat.example.com': ['100.64.1.1'],
  'ula.example.com': ['fd00:ec2::254'],
});

async function audit(action: string): Promise<any[]> {
  const c = new pg.Client({ connectionString: f.t.databaseUrl });
  await c.connect();
  try {
    return (await c.query('SELECT actor, detail FROM "AuditEvent" WHERE action = $1 ORDER BY id', [action])).rows;
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  f = await startWebhookFixture({ resolve });
  alice = await f.t.createUser('alice@example.com', ['developers']);
});

afterAll(async () => {
  await f?.stop();
});

describe('POST /api/webhooks', () => {
  it('creates an endpoint and shows its secret once, never in lists or reads', async () => {
    const made = await f.api('POST', '/api/webhooks', { body: { url: 'https://hooks.example.com/hoop?token=abc', events: ['review.created', 'review.approved'], description: 'PagerDuty', connections: ['prod-db'] }, strict: true });
    expect(made.status).toBe(201);
    const w = made.body.webhook;
    expect(w).toMatchObject({ url: 'https://hooks.example.com/hoop?token=abc', events: ['review.created', 'review.approved'], description: 'PagerDuty', connections: ['prod-db'], enabled: true });
    expect(w.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const listed = await f.api('GET', '/api/webhooks');
    expect(listed.status).toBe(200);
    expect(listed.body.webhooks.map((x: any) => x.id)).toContain(w.id);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');
    const read = await f.api('GET', `/api/webhooks/${w.id}`);
    expect(read.body.webhook).toMatchObject({ id: w.id, url: w.url });
    expect(JSON.stringify(read.body)).not.toContain(w.secret.slice(6, 20));

    const [event] = (await audit('webhook.created')).filter((e) => e.detail.webhookId === w.id);
    expect(event.actor).toBe('root@example.com');
    expect(event.detail.url).toBe('https://hooks.example.com/hoop?[redacted]');
    expect(JSON.stringify(event)).not.toContain('whsec_');
    expect(JSON.stringify(event)).not.toContain('token=abc');
  });

  it('refuses anyone but an admin', async () => {
    const res = await f.api('POST', '/api/webhooks', { key: alice.apiKey, body: { url: 'https://hooks.example.com/x', events: ['review.created'] } });
    expect(res.status).toBe(403);
    expect((await f.api('GET', '/api/webhooks', { key: alice.apiKey })).status).toBe(403);
    expect((await f.api('GET', '/api/webhooks', { key: 'hoop_nope' })).status).toBe(401);
  });

  it.each([
    [{ url: 'https://hooks.example.com/x', events: ['review.created', 'review.deleted', 'review.nope'] }, /Unknown events "review.deleted", "review.nope"; the events are: review.created, review.group_approved/],
    [{ url: 'https://hooks.example.com/x', events: [] }, /"events" must be a non-empty list/],
    [{ url: 'https://hooks.example.com/x', events: 'review.created' }, /"events" must be a non-empty list/],
    [{ url: 'https://hooks.example.com/x' }, /"events" must be a non-empty list/],
    [{ events: ['review.created'] }, /Give "url"/],
    [{ url: 'not a url', events: ['review.created'] }, /is not a URL/],
    [{ url: 'ftp://hooks.example.com/x', events: ['review.created'] }, /only http and https are supported, not ftp/],
    [{ url: 'file:///etc/passwd', events: ['review.created'] }, /only http and https/],
    [{ url: 'https://user:pw@hooks.example.com/x', events: ['review.created'] }, /carries credentials/],
    [{ url: 'https://hooks.example.com/x#frag', events: ['review.created'] }, /fragment/],
    [{ url: 'https://hooks.example.com/x', events: ['review.created'], connections: ['prod-db', 'nope-db'] }, /No connection named "nope-db"/],
    [{ url: 'https://hooks.example.com/x', events: ['review.created'], connections: 'prod-db' }, /"connections" must be a list/],
    [{ url: 'https://hooks.example.com/x', events: ['review.created'], description: 7 }, /"description" must be a string/],
    [{ url: 'https://hooks.example.com/x', events: ['review.created'], secret: 'whsec_mine' }, /does not take "secret"/],
  ])('refuses bad input %#', async (body, message) => {
    const res = await f.api('POST', '/api/webhooks', { body, strict: true });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(message);
  });
});

describe('server-side request forgery at create', () => {
  it.each([
    'http://127.0.0.1/',
    'http://127.1/',
    'http://2130706433/',
    'http://017700000001/',
    'http://0x7f.1/',
    'http://0x7f000001/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[0:0:0:0:0:ffff:a00:1]/',
    'http://[::127.0.0.1]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://[2002:c0a8:0101::1]/',
    'http://0.0.0.0/',
    'http://0/',
    'http://[::]/',
    'http://10.0.0.1/',
    'http://172.16.5.4/',
    'http://172.31.255.255/',
    'http://192.168.0.1/',
    'http://100.64.0.1/',
    'http://100.100.100.200/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fe80::1]/',
    'http://[fd00:ec2::254]/',
    'http://[fc00::1]/',
    'http://224.0.0.1/',
    'http://[ff02::1]/',
    'http://255.255.255.255/',
    'http://localhost/',
    'http://localhost./',
    'http://intranet.example.com/',
    'http://mixed.example.com/',
    'http://loop.example.com./',
    'http://v6loop.example.com/',
    'http://metadata.example.com/',
    'http://mapped.example.com/',
    'http://cgnat.example.com/',
    'http://ula.example.com/',
  ])('refuses %s', async (url) => {
    const res = await f.api('POST', '/api/webhooks', { body: { url, events: ['review.created'] }, strict: true });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/The webhook "url" is refused: .*(private|loopback|link-local|reserved|unique-local|multicast|unspecified|does not resolve)/);
  });

  it.each(['http://localhost/', 'http://localhost./', 'http://LOCALHOST:8080/x', 'http://api.localhost/'])('refuses %s as a loopback name', async (url) => {
    const res = await f.api('POST', '/api/webhooks', { body: { url, events: ['review.created'] }, strict: true });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/its host (api\.)?localhost\.? is a loopback name/);
  });

  it('names the way out for a private destination', async () => {
    const res = await f.api('POST', '/api/webhooks', { body: { url: 'http://10.0.0.1/', events: ['review.created'] }, strict: true });
    expect(res.body.error.message).toContain('WEBHOOK_ALLOW_PRIVATE=true');
  });

  it('refuses a host that does not resolve, saying so', async () => {
    const res = await f.api('POST', '/api/webhooks', { body: { url: 'https://nowhere.example.com/', events: ['review.created'] }, strict: true });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/host nowhere.example.com does not resolve \(ENOTFOUND\)/);
  });

  it.each(['https://hooks.example.com/x', 'http://93.184.216.34:8080/x', 'https://[2606:2800:220:1:248:1893:25c8:1946]/x', 'http://172.32.0.1/', 'http://100.128.0.1/'])('accepts the public destination %s', async (url) => {
    const res = await f.api('POST', '/api/webhooks', { body: { url, events: ['review.created'] }, strict: true });
    expect(res.status).toBe(201);
  });

  it('accepts a loopback destination when private ones are allowed', async () => {
    const res = await f.api('POST', '/api/webhooks', { body: { url: 'http://127.0.0.1:9/x', events: ['review.created'] } });
    expect(res.status).toBe(201);
  });

  it('checks a changed url too', async () => {
    const made = await f.api('POST', '/api/webhooks', { body: { url: 'https://hooks.example.com/y', events: ['review.created'] }, strict: true });
    const res = await f.api('PATCH', `/api/webhooks/${made.body.webhook.id}`, { body: { url: 'http://169.254.169.254/' }, strict: true });
    expect(res.status).toBe(400);
    expect((await f.api('GET', `/api/webhooks/${made.body.webhook.id}`)).body.webhook.url).toBe('https://hooks.example.com/y');
  });
});

describe('PATCH and DELETE /api/webhooks/:id', () => {
  it('changes fields, disables and enables, and audits each change', async () => {
    const made = (await f.api('POST', '/api/webhooks', { body: { url: 'https://hooks.example.com/p', events: ['review.created'] }, strict: true })).body.webhook;
    const patched = await f.api('PATCH', `/api/webhooks/${made.id}`, { body: { events: ['review.rejected'], description: 'ops', connections: ['billing'], enabled: false } });
    expect(patched.status).toBe(200);
    expect(patched.body.webhook).toMatchObject({ events: ['review.rejected'], description: 'ops', connections: ['billing'], enabled: false, disabledReason: 'disabled by root@example.com' });
    expect(patched.body.webhook.secret).toBeUndefined();
    const enabled = await f.api('PATCH', `/api/webhooks/${made.id}`, { body: { enabled: true } });
    expect(enabled.body.webhook).toMatchObject({ enabled: true, disabledAt: null, disabledReason: null });
    const events = (await audit('webhook.updated')).filter((e) => e.detail.webhookId === made.id);
    expect(events.map((e) => e.detail)).toEqual([
      {
        webhookId: made.id,
        before: { events: ['review.created'], description: null, connections: [], enabled: true },
        after: { events: ['review.rejected'], description: 'ops', connections: ['billing'], enabled: false },
      },
      { webhookId: made.id, before: { enabled: false }, after: { enabled: true } },
    ]);
  });

  it('rotates the secret: the new one is shown once, the old one valid for 24 h', async () => {
    const made = (await f.api('POST', '/api/webhooks', { body: { url: 'https://hooks.example.com/r', events: ['review.created'] }, strict: true })).body.webhook;
    const rotated = await f.api('PATCH', `/api/webhooks/${made.id}`, { body: { rotateSecret: true } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.webhook.secret).toMatch(/^whsec_/);
    expect(rotated.body.webhook.secret).not.toBe(made.secret);
    expect(Date.parse(rotated.body.webhook.previousSecretExpiresAt) - f.clock.now().getTime()).toBe(24 * 3600 * 1000);
    const [event] = (await audit('webhook.secret_rotated')).filter((e) => e.detail.webhookId === made.id);
    expect(JSON.stringify(event)).not.toContain('whsec_');
    expect(JSON.stringify(await audit('webhook.updated'))).not.toContain('whsec_');
  });

  it.each([
    [{}, /Nothing to change/],
    [{ rotateSecret: false }, /"rotateSecret" can only be true/],
    [{ enabled: 'yes' }, /"enabled" must be true or false/],
    [{ events: ['review.approve'] }, /Unknown event "review.approve"/],
    [{ secret: 'x' }, /does not take "secret"/],
  ])('refuses a bad change %#', async (body, message) => {
    const made = (await f.api('POST', '/api/webhooks', { body: { url: 'https://hooks.example.com/b', events: ['review.created'] }, strict: true })).body.webhook;
    const res = await f.api('PATCH', `/api/webhooks/${made.id}`, { body });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(message);
  });

  it('deletes an endpoint, audits it, and then answers 404', async () => {
    const made = (await f.api('POST', '/api/webhooks', { body: { url: 'https://hooks.example.com/d', events: ['review.created'] }, strict: true })).body.webhook;
    expect((await f.api('DELETE', `/api/webhooks/${made.id}`)).status).toBe(200);
    const gone = await f.api('GET', `/api/webhooks/${made.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.message).toContain('hoop admin get webhooks');
    expect((await f.api('DELETE', `/api/webhooks/${made.id}`)).status).toBe(404);
    expect((await f.api('GET', '/api/webhooks/not-a-uuid')).status).toBe(404);
    expect((await audit('webhook.deleted')).some((e) => e.detail.webhookId === made.id)).toBe(true);
  });

  it('pages the list with a cursor', async () => {
    const first = await f.api('GET', '/api/webhooks?limit=2');
    expect(first.body.webhooks).toHaveLength(2);
    const second = await f.api('GET', `/api/webhooks?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(second.body.webhooks.map((w: any) => w.id)).not.toContain(first.body.webhooks[0].id);
    expect((await f.api('GET', '/api/webhooks?cursor=abc')).status).toBe(400);
  });
});
