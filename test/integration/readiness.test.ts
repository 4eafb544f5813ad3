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
  });
});
