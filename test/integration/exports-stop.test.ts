// An export open while the gateway stops gracefully: it is cut at once (the stop does not wait out
// the grace period for it), and audited as cut while the database is still there.
import http from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let state: pg.Client;

beforeAll(async () => {
  // A grace period far longer than the test: a stop that waited for the export would time out.
  t = await startTestGateway({ slack: false, workers: false, env: { SHUTDOWN_GRACE_SEC: '3600' } });
  state = new pg.Client({ connectionString: t.databaseUrl });
  await state.connect();
  await state.query(
    `INSERT INTO "AuditEvent" ("actor", "action", "source", "detail", "createdAt")
     SELECT 'bulk@example.com', 'bulk.test', 'system', jsonb_build_object('n', n, 'pad', repeat('x', 2000)), timezone('UTC', now())
     FROM generate_series(1, 20000) AS n`,
  );
}, 60_000);

afterAll(async () => {
  await state?.end();
  await t?.stop();
});

describe('an export during a graceful stop', () => {
  it('is cut when the stop begins and audited as incomplete', async () => {
    const req = http.get(`${t.baseUrl}/api/audit/export?action=bulk.test`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
    expect(res.statusCode).toBe(200);
    await new Promise((resolve) => res.once('data', resolve));
    // Left unread: the export waits on the socket, as behind a slow client.
    res.pause();
    await t.gateway.stop();
    req.destroy();
    const { rows } = await state.query(`SELECT detail FROM "AuditEvent" WHERE action = 'audit.exported'`);
    expect(rows).toHaveLength(1);
    expect(rows[0].detail).toMatchObject({ complete: false, error: 'the gateway is stopping', format: 'jsonl', actions: ['bulk.test'] });
    expect(rows[0].detail.rows).toBeLessThan(20000);
  }, 60_000);
});
