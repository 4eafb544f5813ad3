// Replicas started at the same moment on a database that does not exist yet: every one of them
// must start (each creates the database and applies the migrations, racing the others), as a
// supervisor starts them: `npm start`.
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { missingDatabase } from '../helpers/databases.js';
import { gatewayEnv, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const missing = () => missingDatabase(cleanups);

describe('gateways started at once on a missing database', () => {
  const n = 4;
  it(`all ${n} start, serve and stop with exit 0`, async () => {
    const db = missing();
    const started = Date.now();
    // Replicas of one deployment: one database, one queue prefix.
    const env = gatewayEnv(db.url);
    const gws: GatewayProcess[] = Array.from({ length: n }, () => startGatewayProcess(env, { npm: 'start' }));
    cleanups.push(() => Promise.all(gws.map((g) => g.dispose())).then(() => {}));
    const outcomes = await Promise.allSettled(gws.map((g) => g.listening));
    const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`gateway ${i + 1}: ${(o.reason as Error).message.slice(0, 1500)}`] : []));
    expect(failed).toEqual([]);
    console.log(`${n} gateways at once on a missing database: all listening after ${Date.now() - started} ms`);
    for (const g of gws) expect((await g.api('GET', '/api/me')).status).toBe(200);
    const m = new pg.Client({ connectionString: db.url });
    await m.connect();
    const migrations = (await m.query('SELECT count(*)::int AS n, count(finished_at)::int AS done, count(DISTINCT migration_name)::int AS distinct FROM _prisma_migrations')).rows[0];
    await m.end();
    // Each migration applied once, by one of them.
    expect(migrations.n).toBeGreaterThan(0);
    expect(migrations.n).toBe(migrations.distinct);
    expect(migrations.done).toBe(migrations.n);
    for (const g of gws) g.child.kill('SIGTERM');
    const exits = await Promise.all(gws.map((g) => g.exited));
    expect(exits.map((e) => e.code)).toEqual(gws.map(() => 0));
  }, 60_000);
});
