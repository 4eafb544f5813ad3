// A submit that a stopping gateway cuts (a read without review still running at the grace bound)
// is reported by `hoop exec` as what it is — maybe created, maybe run — not as an unreachable
// gateway, which would say nothing was done.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createStateDatabase, createTargetDatabase } from '../helpers/databases.js';
import { gatewayEnv, hoopExec, startGatewayProcess } from '../helpers/gateway-process.js';
import { eventually } from '../helpers/gateway.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('hoop exec whose submit a stopping gateway cuts', () => {
  it('says a submit cut by the stop may have been created and run, not that the gateway was unreachable', async () => {
    const state = await createStateDatabase();
    const target = await createTargetDatabase();
    cleanups.push(() => state.drop(), () => target.drop());
    const gw = startGatewayProcess(gatewayEnv(state.url, { MIGRATE_ON_START: 'false', SHUTDOWN_GRACE_SEC: '1' }));
    cleanups.push(() => gw.dispose());
    const port = await gw.listening;
    const alice = (await gw.api('POST', '/api/users', { body: { email: 'alice@example.com', groups: ['developers'] } })).body.apiKey;
    // Reads run at once, without review, inside the submit request.
    expect((await gw.api('POST', '/api/connections', { body: { name: 'reads', url: target.url, reviewers: ['dba-team'] } })).status).toBe(201);
    const input = 'SELECT pg_sleep(6)';
    const { out, exit } = hoopExec(port, alice, 'reads', input, cleanups);
    // A read leaves no request: it is seen running on the target itself.
    await eventually(async () => (await target.query(`SELECT 1 FROM pg_stat_activity WHERE query = '${input}' AND state = 'active'`)).length === 1, 10_000, 'the read running');
    gw.child.kill('SIGTERM');
    expect((await gw.exited).code).toBe(0);
    expect(await exit).toBe(5);
    expect(out.stderr).toContain('the request may have been created, and a read without review may have run');
    expect(out.stderr).not.toContain('Cannot reach');
    // No request was stored for it; its audit says it started.
    const db = new pg.Client({ connectionString: state.url });
    await db.connect();
    try {
      expect((await db.query('SELECT count(*)::int AS n FROM "Review"')).rows[0].n).toBe(0);
      expect((await db.query(`SELECT count(*)::int AS n FROM "AuditEvent" WHERE action = 'read.started' AND detail->>'input' = $1`, [input])).rows[0].n).toBe(1);
    } finally {
      await db.end();
    }
  });
});
