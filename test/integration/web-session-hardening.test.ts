// A security review's findings on the web sessions, each a test that failed before its fix: a
// cookie without the __Host- prefix accepted on an HTTPS gateway (cookie tossing from a sibling
// host), a sign-in that left the browser's previous session alive, a live stream that kept telling
// a person of reviews after their groups were taken away or they were deactivated, one that
// buffered without end for a client that never reads, and batches that each took a database
// connection while reads stalled. Last, CSRF variants the review tried that were already refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { liveStreamsCutSoFar } from '../../src/metrics.js';
import { takeSseEvents, type SseEvent } from '../helpers/sse.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };
let admin: { id: string; apiKey: string };

beforeAll(async () => {
  t = await startTestGateway({ slack: false });
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  admin = await t.createUser('ada@example.com', [], true);
  await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

async function signIn(baseUrl: string, apiKey: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}/auth/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ apiKey }) });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`sign-in: ${res.status} ${JSON.stringify(body)}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const [name, value] = setCookie.split(';')[0].split('=');
  return { cookie: `${name}=${value}`, name, token: value, csrf: body.csrfToken as string };
}

describe('the cookie on an HTTPS gateway', () => {
  it('is accepted only under its __Host- name, so a cookie planted by a sibling host or over HTTP signs no one in', async () => {
    const secure = await startTestGateway({ slack: false, databaseUrl: t.databaseUrl, env: { PUBLIC_URL: 'https://hoop.example.com' } });
    try {
      // The attacker signs in with their own key and plants the token without the prefix (a
      // sibling host or a plain-HTTP answer may set `hoop_session`, never `__Host-hoop_session`).
      const attacker = await signIn(secure.baseUrl, alice.apiKey);
      expect(attacker.name).toBe('__Host-hoop_session');
      expect((await fetch(`${secure.baseUrl}/api/me`, { headers: { cookie: attacker.cookie } })).status).toBe(200);
      const planted = `hoop_session=${attacker.token}`;
      const me = await fetch(`${secure.baseUrl}/api/me`, { headers: { cookie: planted } });
      expect(me.status).toBe(401);
      const session = await (await fetch(`${secure.baseUrl}/auth/session`, { headers: { cookie: planted } })).json();
      expect(session.user).toBeNull();
    } finally {
      await secure.stop();
    }
  });
});

describe('signing in again', () => {
  it('ends the session the browser already had, so a planted or forgotten one does not live on', async () => {
    const first = await signIn(t.baseUrl, alice.apiKey);
    const second = await signIn(t.baseUrl, alice.apiKey, { cookie: first.cookie });
    expect(second.token).not.toBe(first.token);
    expect((await fetch(`${t.baseUrl}/api/me`, { headers: { cookie: second.cookie } })).status).toBe(200);
    const old = await fetch(`${t.baseUrl}/api/me`, { headers: { cookie: first.cookie } });
    expect(old.status).toBe(401);
    expect((await old.json()).error.message).toMatch(/signed out/);
  });
});

/** Opens a stream and collects its events until `stop()` is called. */
async function listen(cookie: string) {
  const controller = new AbortController();
  const res = await fetch(`${t.baseUrl}/api/events`, { headers: { cookie }, signal: controller.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const events: SseEvent[] = [];
  let ended = false;
  let bytes = 0;
  let buffer = '';
  const reading = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        bytes += value.length;
        buffer = takeSseEvents(buffer + new TextDecoder().decode(value), events);
      }
    } catch {
      // aborted
    }
    ended = true;
  })();
  return {
    events,
    ended: () => ended,
    bytes: () => bytes,
    async stop() {
      controller.abort();
      await reading;
    },
  };
}

const until = async (what: string, check: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('the live stream after the person changed', () => {

  const submit = async () => {
    const res = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: 'DELETE FROM users WHERE id = 1', reason: 'stream test' } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };

  it('stops telling a reviewer of reviews as soon as their groups are taken away, not a minute later', async () => {
    const rita = await t.createUser('rita@example.com', ['dba-team']);
    const watcher = await listen((await signIn(t.baseUrl, admin.apiKey)).cookie);
    const stream = await listen((await signIn(t.baseUrl, rita.apiKey)).cookie);
    try {
      await until('both streams ready', () => watcher.events.some((e) => e.event === 'ready') && stream.events.some((e) => e.event === 'ready'));
      const before = await submit();
      await until('the reviewer hears of the first review', () => stream.events.some((e) => e.event === 'review' && e.data.id === before));
      await t.gateway.db.user.update({ where: { id: rita.id }, data: { groups: [] } });
      const after = await submit();
      await until('the admin hears of the second review', () => watcher.events.some((e) => e.event === 'review' && e.data.id === after));
      // The same batch went to every stream; a second more for a late write.
      await new Promise((r) => setTimeout(r, 1000));
      expect(stream.events.filter((e) => e.event === 'review' && e.data.id === after)).toEqual([]);
    } finally {
      await watcher.stop();
      await stream.stop();
    }
  });

  it('ends the stream of a person deactivated meanwhile at the next change, telling the page they are signed out', async () => {
    const dora = await t.createUser('dora@example.com', ['dba-team']);
    const stream = await listen((await signIn(t.baseUrl, dora.apiKey)).cookie);
    try {
      await until('ready', () => stream.events.some((e) => e.event === 'ready'));
      await t.gateway.db.user.update({ where: { id: dora.id }, data: { active: false } });
      const id = await submit();
      await until('the stream ends', () => stream.ended());
      expect(stream.events.filter((e) => e.event === 'review' && e.data.id === id)).toEqual([]);
      expect(stream.events.at(-1)?.event).toBe('signed-out');
    } finally {
      await stream.stop();
    }
  });
});

describe('a live stream whose client never reads', () => {
  it('is cut once a megabyte waits unsent for it, instead of the gateway buffering without end', async () => {
    const { Socket } = await import('node:net');
    const s = await signIn(t.baseUrl, admin.apiKey);
    const connection = await t.gateway.db.connection.findFirstOrThrow({ where: { name: 'prod-db' } });
    const many = await t.gateway.db.review.createManyAndReturn({
      data: Array.from({ length: 5000 }, (_, i) => ({ connectionId: connection.id, requesterId: alice.id, input: `SELECT ${i}`, expiresAt: new Date(Date.now() + 3600_000) })),
      select: { id: true },
    });
    const url = new URL(t.baseUrl);
    const socket = new Socket();
    let received = 0;
    let closed = false;
    socket.on('data', (b: Buffer) => (received += b.length));
    socket.on('error', () => {});
    socket.on('close', () => (closed = true));
    await new Promise<void>((r) => socket.connect(Number(url.port), url.hostname, () => r()));
    socket.write(`GET /api/events HTTP/1.1\r\nHost: ${url.host}\r\n${'Cookie'}: ${s.cookie}\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 500));
    expect(received).toBeGreaterThan(0); // the stream's head and `ready`
    socket.pause();
    // 5000 visible changes a round (~400 KB of events). The kernel's socket buffers on loopback
    // take several megabytes (tcp_wmem up to 4 MiB) before anything waits in the gateway, so rounds
    // go on until the gateway says it cut the stream, up to far more than buffers and bound hold.
    // A second stream of the same person that reads tells when a round was written: each batch goes
    // to every stream at once, and a round published before the last was flushed would merge with it.
    const twin = await listen(s.cookie);
    const cutBefore = await liveStreamsCutSoFar();
    const last = many.at(-1)!.id;
    let rounds = 0;
    try {
      while ((await liveStreamsCutSoFar()) === cutBefore && rounds < 60) {
        for (const r of many) await t.gateway.events.publish(r.id);
        rounds++;
        await until(`round ${rounds} written`, () => twin.events.filter((e) => e.event === 'review' && e.data.id === last).length >= rounds, 30_000);
      }
    } finally {
      await twin.stop();
    }
    const cutByGateway = (await liveStreamsCutSoFar()) > cutBefore;
    const allSent = twin.bytes();
    // Reading again, the client gets what the buffers held, then the end.
    socket.resume();
    const deadline = Date.now() + 15_000;
    while (!closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await t.gateway.db.review.deleteMany({ where: { id: { in: many.map((r) => r.id) } } });
    expect(cutByGateway).toBe(true);
    expect(closed).toBe(true);
    // The twin got every round; this client hundreds of kilobytes less: dropped, not held (what
    // the gateway had queued when it cut, less what its socket had already taken).
    expect(received).toBeLessThan(allSent - 512 * 1024);
  }, 120_000);
});

describe('the live stream while the database is slow', () => {
  it('loads one batch at a time, so a stalled query does not take a database connection per batch, and sends what gathered meanwhile after', async () => {
    const pg = (await import('pg')).default;
    const s = await signIn(t.baseUrl, admin.apiKey);
    const controller = new AbortController();
    const res = await fetch(`${t.baseUrl}/api/events`, { headers: { cookie: s.cookie }, signal: controller.signal });
    const reader = res.body!.getReader();
    let text = '';
    const reading = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
      } catch {}
    })();
    const locker = new pg.Client({ connectionString: t.databaseUrl });
    await locker.connect();
    try {
      const id = (await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: 'DELETE FROM users WHERE id = 2', reason: 'slow db' } })).body.id as string;
      // Reads of "Review" wait behind this lock, as they would behind a stalled database; the
      // stream's batch query is the one that joins the connection.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE "Review" IN ACCESS EXCLUSIVE MODE');
      for (let i = 0; i < 12; i++) {
        await t.gateway.events.publish(id);
        await new Promise((r) => setTimeout(r, 250));
      }
      const waiting = await locker.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%Review_connection%'`);
      expect(waiting.rows[0].n).toBe(1);
      await locker.query('COMMIT');
      const deadline = Date.now() + 10_000;
      while (!text.includes(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(text).toContain(id);
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
      controller.abort();
      await reading;
    }
  });
});

describe('CSRF variants a review tried (all refused already)', () => {
  it('refuses a change without the token whatever Sec-Fetch-Site, casing, duplicates, method override or body type say', async () => {
    const s = await signIn(t.baseUrl, alice.apiKey);
    const base = { cookie: s.cookie, 'content-type': 'application/json' };
    const variants: Array<{ method: string; headers: Record<string, string>; body?: string }> = [
      { method: 'POST', headers: { ...base, 'sec-fetch-site': 'none' } },
      { method: 'POST', headers: { ...base, 'sec-fetch-site': 'same-origin' } },
      { method: 'POST', headers: { ...base, 'X-CSRF-TOKEN': s.csrf.toUpperCase() } },
      { method: 'POST', headers: { ...base, 'x-csrf-token': `${s.csrf}, ${s.csrf}` } },
      { method: 'POST', headers: { ...base, 'x-csrf-token': s.csrf, 'sec-fetch-site': 'same-site' } },
      { method: 'POST', headers: { ...base, 'x-csrf-token': s.csrf, origin: 'null' } },
      { method: 'POST', headers: { ...base, 'x-csrf-token': s.csrf, origin: `${t.baseUrl}.evil.example` } },
      { method: 'POST', headers: { ...base, 'x-http-method-override': 'GET', 'x-method-override': 'GET' } },
      { method: 'POST', headers: { cookie: s.cookie, 'content-type': 'text/plain' } },
    ];
    for (const v of variants) {
      const res = await fetch(`${t.baseUrl}/api/connections/prod-db/exec`, { method: v.method, headers: v.headers, body: v.body ?? JSON.stringify({ input: 'DELETE FROM users', reason: 'csrf' }) });
      expect(res.status, JSON.stringify(v.headers)).toBe(403);
    }
    // A GET with an override header stays a GET: it reads.
    const get = await fetch(`${t.baseUrl}/api/me`, { headers: { cookie: s.cookie, 'x-http-method-override': 'DELETE' } });
    expect(get.status).toBe(200);
    expect((await t.gateway.db.review.count({ where: { reason: 'csrf' } }))).toBe(0);
  });
});

describe('live streams of one person', () => {
  it('are at most 8 at once: the ninth is a 429 saying to close tabs, and closing one frees a place', async () => {
    const rosa = await t.createUser('rosa@example.com', ['developers']);
    const { cookie } = await signIn(t.baseUrl, rosa.apiKey);
    const open = [];
    try {
      for (let i = 0; i < 8; i++) open.push(await listen(cookie));
      const ninth = await fetch(`${t.baseUrl}/api/events`, { headers: { cookie } });
      expect(ninth.status).toBe(429);
      expect(ninth.headers.get('retry-after')).toBe('30');
      expect((await ninth.json()).error.message).toMatch(/8 live streams open .* Close some of the web app's tabs/);
      // Another person is not counted against her.
      const other = await listen((await signIn(t.baseUrl, alice.apiKey)).cookie);
      await other.stop();
      await open.pop()!.stop();
      let again: Response | undefined;
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && (again = await fetch(`${t.baseUrl}/api/events`, { headers: { cookie } })).status === 429) await new Promise((r) => setTimeout(r, 50));
      expect(again!.status).toBe(200);
      await again!.body?.cancel();
    } finally {
      for (const s of open) await s.stop();
    }
  });
});
