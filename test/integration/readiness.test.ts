// /readyz says which dependency does not answer; /healthz stays liveness. (Redis down is covered,
// with the rest of a Redis outage, in redis-outage.test.ts.)
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_URL } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway({ slack: false });
});

afterAll(async () => {
  await t?.stop();
});

async function get(path: string): Promise<{ status: number; body: any; retryAfter: string | null; ms: number }> {
  const started = performance.now();
  const res = await fetch(t.baseUrl + path, { signal: AbortSignal.timeout(8000) });
  return { status: res.status, body: await res.json(), retryAfter: res.headers.get('retry-after'), ms: Math.round(performance.now() - started) };
}

describe('/readyz', () => {
  it('answers 200 with each dependency when the state database and Redis answer', async () => {
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ ready: true, dependencies: { database: { ok: true }, redis: { ok: true } } });
  });

  it('takes ?require=: only the dependencies named decide, the report still shows all; an unknown name is a 400 naming the known ones', async () => {
    for (const path of ['/readyz?require=database', '/readyz?require=redis', '/readyz?require=database,redis', '/readyz?require=database&require=redis']) {
      const ready = await get(path);
      expect(ready.status, path).toBe(200);
      expect(ready.body, path).toEqual({ ready: true, dependencies: { database: { ok: true }, redis: { ok: true } } });
    }
    for (const path of ['/readyz?require=postgres', '/readyz?require=database,kafka', '/readyz?require=%3Cscript%3E']) {
      const bad = await get(path);
      expect(bad.status, path).toBe(400);
      expect(bad.body.error.code, path).toBe('bad_input');
      expect(bad.body.error.message, path).toMatch(/^\/readyz has no dependency ".+"; require one of: database, redis\.$/);
    }
  });

  it('answers 503 naming the state database when it is gone, within its bound, while /healthz stays 200', async () => {
    const name = new URL(t.databaseUrl).pathname.slice(1);
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.retryAfter).toBe('5');
    expect(ready.body.ready).toBe(false);
    expect(ready.body.dependencies.database).toEqual({ ok: false, error: 'connection failed or refused' });
    expect(ready.body.dependencies.redis).toEqual({ ok: true });
    expect(ready.body.error.code).toBe('unavailable');
    expect(ready.body.error.message).toBe('Not ready: database (connection failed or refused) does not answer.');
    // What failed inside is logged, not told to whoever asks.
    expect(JSON.stringify(ready.body)).not.toContain(name);
    expect(ready.ms).toBeLessThan(2500);
    const alive = await get('/healthz');
    expect(alive.status).toBe(200);
    // Asked for Redis alone, the gateway is ready for it; the report still shows the database down.
    const redisOnly = await get('/readyz?require=redis');
    expect(redisOnly.status).toBe(200);
    expect(redisOnly.body).toEqual({ ready: true, dependencies: { database: { ok: false, error: 'connection failed or refused' }, redis: { ok: true } } });
    const database = await get('/readyz?require=database');
    expect(database.status).toBe(503);
    expect(database.body.error.message).toBe('Not ready: database (connection failed or refused) does not answer.');
  });
});
