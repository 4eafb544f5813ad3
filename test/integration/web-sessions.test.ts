// The web app's sessions over HTTP: sign-in with a key, the cookie's flags, what the cookie may do
// (reads; changes only with the CSRF token and from this site), what ends a session (sign-out,
// expiry, idle time, a revoked key, a deactivated user), the pages' headers, and the live stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { takeSseEvents, type SseEvent } from '../helpers/sse.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };
let outsider: { id: string; apiKey: string };
let now = Date.now();
const clock = { now: () => new Date(now) };

beforeAll(async () => {
  t = await startTestGateway({ slack: false, clock });
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  outsider = await t.createUser('olga@example.com', ['marketing']);
  await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

interface Session {
  cookie: string;
  csrf: string;
  setCookie: string;
}

async function signIn(apiKey: string, headers: Record<string, string> = {}): Promise<Session> {
  const res = await fetch(`${t.baseUrl}/auth/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ apiKey }) });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`sign-in: ${res.status} ${JSON.stringify(body)}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0], csrf: body.csrfToken, setCookie };
}

const call = async (s: Session | undefined, method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; csrf?: string | null } = {}) => {
  const headers: Record<string, string> = { ...options.headers };
  if (s) headers.cookie = s.cookie;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const csrf = options.csrf === undefined ? s?.csrf : options.csrf;
  if (csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(t.baseUrl + path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body, headers: res.headers };
};

const submit = async (input: string) => {
  const res = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input, reason: 'web test' } });
  expect(res.status).toBe(201);
  return res.body.id as string;
};

describe('signing in', () => {
  it('exchanges a key for an httpOnly, SameSite=Lax cookie, and the session answers as its user', async () => {
    const s = await signIn(alice.apiKey);
    expect(s.setCookie).toMatch(/^hoop_session=hoop_web_[\w-]{43};/);
    expect(s.setCookie).toMatch(/HttpOnly/i);
    expect(s.setCookie).toMatch(/SameSite=Lax/i);
    expect(s.setCookie).toMatch(/Path=\//);
    expect(s.setCookie).toMatch(/Expires=/);
    expect(s.setCookie).not.toMatch(/Secure/i);
    const me = await call(s, 'GET', '/api/me');
    expect(me.body.user.email).toBe('alice@example.com');
    const current = await call(s, 'GET', '/auth/session');
    expect(current.body).toMatchObject({ user: { email: 'alice@example.com', admin: false, groups: ['developers'], method: 'api-key' }, csrfToken: s.csrf, sso: { enabled: false } });
    // Only the token's hash is stored.
    const rows = await t.gateway.db.webSession.findMany({ where: { userId: alice.id } });
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.hash).not.toContain(s.cookie.split('=')[1].slice(9, 30));
  });

  it('refuses a wrong key, a missing key, a non-JSON body and a sign-in from another site, in words', async () => {
    const wrong = await call(undefined, 'POST', '/auth/session', { body: { apiKey: 'hoop_nope_0123456789abcdef0123' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.message).toMatch(/not valid/);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const missing = await call(undefined, 'POST', '/auth/session', { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/apiKey/);
    const typo = await call(undefined, 'POST', '/auth/session', { body: { apikey: alice.apiKey } });
    expect(typo.status).toBe(400);
    const form = await fetch(`${t.baseUrl}/auth/session`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `apiKey=${alice.apiKey}` });
    expect(form.status).toBe(415);
    const plain = await fetch(`${t.baseUrl}/auth/session`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ apiKey: alice.apiKey }) });
    expect(plain.status).toBe(415);
    const sites: Record<string, string>[] = [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'null' }];
    for (const headers of sites) {
      const res = await call(undefined, 'POST', '/auth/session', { body: { apiKey: alice.apiKey }, headers });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
  });

  it('marks the cookie Secure with the __Host- prefix when PUBLIC_URL is https', async () => {
    const secure = await startTestGateway({ slack: false, databaseUrl: t.databaseUrl, env: { PUBLIC_URL: 'https://hoop.example.com' } });
    try {
      const res = await fetch(`${secure.baseUrl}/auth/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiKey: alice.apiKey }) });
      expect(res.status).toBe(201);
      const setCookie = res.headers.get('set-cookie')!;
      expect(setCookie).toMatch(/^__Host-hoop_session=/);
      expect(setCookie).toMatch(/Secure/);
      expect(setCookie).not.toMatch(/Domain=/i);
      // The page at PUBLIC_URL is this site.
      const cookie = setCookie.split(';')[0];
      const me = await fetch(`${secure.baseUrl}/api/me`, { headers: { cookie } });
      expect(me.status).toBe(200);
    } finally {
      await secure.stop();
    }
  });
});

describe('what a session cookie may do', () => {
  it('decides with the CSRF token from this site, audited as the web; refuses a change without it or from another site', async () => {
    const id = await submit('UPDATE users SET name = name');
    const s = await signIn(dana.apiKey);
    const variants: Array<{ csrf?: string | null; headers?: Record<string, string> }> = [
      { csrf: null },
      { csrf: '' },
      { csrf: 'x'.repeat(43) },
      { csrf: (await signIn(dana.apiKey)).csrf }, // another session's token
      { headers: { origin: 'https://evil.example' } },
      { headers: { 'sec-fetch-site': 'cross-site' } },
      { headers: { origin: `http://localhost.evil.example` } },
    ];
    for (const v of variants) {
      const res = await call(s, 'PUT', `/api/reviews/${id}/approve`, { body: {}, ...v });
      expect(res.status, JSON.stringify(v)).toBe(403);
      expect(res.body.error.message).toMatch(/CSRF|another site/);
    }
    expect((await t.api('GET', `/api/reviews/${id}`)).body.status).toBe('PENDING');
    const ok = await call(s, 'PUT', `/api/reviews/${id}/approve`, { body: {}, headers: { origin: t.baseUrl, 'sec-fetch-site': 'same-origin' } });
    expect(ok.status).toBe(200);
    const events = (await t.api('GET', `/api/reviews/${id}/events`)).body.events;
    const vote = events.find((e: any) => e.actor === 'dana@example.com');
    expect(vote.source).toBe('web');
  });

  it('a cross-site form post cannot reach the API at all: not JSON', async () => {
    const s = await signIn(alice.apiKey);
    const res = await fetch(`${t.baseUrl}/api/connections/prod-db/exec`, { method: 'POST', headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: 'input=DELETE+FROM+users' });
    expect([403, 415]).toContain(res.status);
  });

  it('an API key in Authorization wins over a cookie, and needs no CSRF token', async () => {
    const s = await signIn(alice.apiKey);
    const res = await call(s, 'GET', '/api/me', { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(res.body.user.email).toBe('root@example.com');
  });
});

describe('what ends a session', () => {
  it('sign-out revokes it on every replica, and needs the CSRF token', async () => {
    const s = await signIn(alice.apiKey);
    expect((await call(s, 'DELETE', '/auth/session', { csrf: null })).status).toBe(403);
    const out = await call(s, 'DELETE', '/auth/session');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/hoop_session=;/);
    const replica = await startTestGateway({ slack: false, databaseUrl: t.databaseUrl });
    try {
      const res = await fetch(`${replica.baseUrl}/api/me`, { headers: { cookie: s.cookie } });
      expect(res.status).toBe(401);
      expect((await res.json()).error.message).toMatch(/signed out/);
    } finally {
      await replica.stop();
    }
    const current = await call(s, 'GET', '/auth/session');
    expect(current.body.user).toBeNull();
  });

  it('ends with the API key it was made with, and with a deactivated user', async () => {
    const bob = await t.createUser('bob@example.com', ['developers']);
    const s = await signIn(bob.apiKey);
    expect((await call(s, 'GET', '/api/me')).status).toBe(200);
    const keys = await t.gateway.db.apiKey.findMany({ where: { userId: bob.id } });
    await t.gateway.db.apiKey.update({ where: { id: keys[0].id }, data: { revokedAt: new Date() } });
    const revoked = await call(s, 'GET', '/api/me');
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.message).toMatch(/revoked/);

    const carol = await t.createUser('carol@example.com', ['developers']);
    const c = await signIn(carol.apiKey);
    await t.gateway.db.user.update({ where: { id: carol.id }, data: { active: false } });
    const gone = await call(c, 'GET', '/api/me');
    expect(gone.status).toBe(401);
    expect(gone.body.error.message).toMatch(/deactivated/);
  });

  it('expires after WEB_SESSION_TTL_SEC and after WEB_SESSION_IDLE_SEC unused', async () => {
    const s = await signIn(alice.apiKey);
    const start = now;
    try {
      now = start + 2 * 3600 * 1000 + 5000; // idle default: 2 h
      const idle = await call(s, 'GET', '/api/me');
      expect(idle.status).toBe(401);
      expect(idle.body.error.message).toMatch(/without use/);
      now = start;
      const s2 = await signIn(alice.apiKey);
      // Used every hour, it still ends 12 h after sign-in.
      for (let h = 1; h <= 11; h++) {
        now = start + h * 3600 * 1000;
        expect((await call(s2, 'GET', '/api/me')).status).toBe(200);
        await eventually(async () => (await t.gateway.db.webSession.findFirst({ where: { hash: { not: '' }, lastSeenAt: new Date(now) } })) !== null, 5000, 'lastSeenAt written');
      }
      now = start + 12 * 3600 * 1000 + 1000;
      const expired = await call(s2, 'GET', '/api/me');
      expect(expired.status).toBe(401);
      expect(expired.body.error.message).toMatch(/expired/);
    } finally {
      now = start;
    }
  });

  it('refuses forged, malformed and oversized cookies in words', async () => {
    for (const value of ['hoop_web_forged', 'garbage', 'hoop_web_' + 'a'.repeat(500), '']) {
      const res = await fetch(`${t.baseUrl}/api/me`, { headers: { cookie: `hoop_session=${value}` } });
      expect(res.status, value.slice(0, 20)).toBe(401);
    }
  });
});

describe('the pages', () => {
  it('serves the app at / and at its paths with a strict CSP, and keeps the API answering JSON', async () => {
    for (const path of ['/', '/reviews', '/reviews/0b6f8d5e-6a4c-4b8e-9b8f-2f0d5a0c1e11', '/connections', '/run?x=1']) {
      const res = await fetch(t.baseUrl + path, { headers: { accept: 'text/html' } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      const html = await res.text();
      expect(html).toContain('<div id="root">');
      expect(html).not.toMatch(/<script>(?!<\/script>)|<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
      expect(html).not.toContain(target.url);
    }
    const api = await fetch(`${t.baseUrl}/api/nope`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(404);
    expect((await api.json()).error.message).toMatch(/No route/);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(await (await fetch(`${t.baseUrl}/`, { headers: { accept: 'text/html' } })).text())![1];
    const js = await fetch(t.baseUrl + asset);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${t.baseUrl}/assets/..%2f..%2fpackage.json`)).status).toBe(404);
    expect((await fetch(`${t.baseUrl}/assets/../../package.json`)).status).toBe(404);
  });
});

describe('live updates', () => {
  /** Reads a stream's events until `until` holds or it times out. */
  async function readEvents(cookie: string, act: () => Promise<unknown>, until: (events: Array<{ event: string; data: any }>) => boolean) {
    const controller = new AbortController();
    const res = await fetch(`${t.baseUrl}/api/events`, { headers: { cookie }, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const events: SseEvent[] = [];
    let buffer = '';
    let acted = false;
    const deadline = Date.now() + 10_000;
    try {
      while (Date.now() < deadline && !until(events)) {
        const { value, done } = await Promise.race([reader.read(), new Promise<{ value: undefined; done: true }>((r) => setTimeout(() => r({ value: undefined, done: true }), 2000))]);
        if (value) buffer = takeSseEvents(buffer + new TextDecoder().decode(value), events);
        if (!acted && events.some((e) => e.event === 'ready')) {
          acted = true;
          await act();
        }
        if (done && !value) continue;
      }
    } finally {
      controller.abort();
    }
    return events;
  }

  it('tells a reviewer of a new request and its decision, and tells a user who may not see it nothing', async () => {
    const reviewer = await signIn(dana.apiKey);
    const other = await signIn(outsider.apiKey);
    let id = '';
    let seenAt = 0;
    const [seen, unseen] = await Promise.all([
      readEvents(reviewer.cookie, async () => {
        id = await submit('DELETE FROM users WHERE id = 1');
        await t.api('PUT', `/api/reviews/${id}/reject`, { key: dana.apiKey, body: { reason: 'no' } });
      }, (ev) => ev.some((e) => e.event === 'review' && e.data.status === 'REJECTED') && (seenAt ||= Date.now()) > 0),
      // The outsider listens as long as the reviewer did, and a second more for a late event.
      readEvents(other.cookie, async () => {}, () => seenAt > 0 && Date.now() > seenAt + 1000),
    ]);
    const mine = seen.filter((e) => e.event === 'review' && e.data.id === id).map((e) => e.data.status);
    expect(mine).toContain('REJECTED');
    expect(unseen.filter((e) => e.event === 'review')).toEqual([]);
    expect(unseen[0]?.event).toBe('ready');
  });

  it('ends open streams when the gateway stops, so the stop does not wait for browsers', async () => {
    const replica = await startTestGateway({ slack: false, databaseUrl: t.databaseUrl, env: { SHUTDOWN_GRACE_SEC: '30' } });
    const s = await signIn(alice.apiKey);
    const res = await fetch(`${replica.baseUrl}/api/events`, { headers: { cookie: s.cookie } });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('retry:');
    const stopped = replica.stop().then(() => 'stopped');
    // The stream ends (done) rather than hanging until the grace period runs out.
    let done = false;
    while (!done) done = (await reader.read()).done;
    expect(await Promise.race([stopped, new Promise((r) => setTimeout(() => r('still stopping'), 20_000))])).toBe('stopped');
    const after = await fetch(`${replica.baseUrl}/api/events`, { headers: { cookie: s.cookie } }).catch(() => null);
    expect(after?.status ?? 0).not.toBe(200);
  });

  it('needs a session or a key', async () => {
    expect((await fetch(`${t.baseUrl}/api/events`)).status).toBe(401);
  });
});
