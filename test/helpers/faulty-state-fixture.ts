// What the tests of a state database that drops or delays its answers share: a state database
// reached through a fault-injecting proxy, a target, a direct connection to the state database
// to check what was committed, and a gateway (no workers) with alice, dana and prod-db, whose
// every command is reviewed by dana's group.
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import { ADMIN_URL, createStateDatabase, createTargetDatabase } from './databases.js';
import { startTestGateway, type TestGateway } from './gateway.js';
import { startPgFaultProxy, type PgFaultProxy } from './pg-fault-proxy.js';

export interface FaultyStateFixture {
  t: TestGateway;
  proxy: PgFaultProxy;
  state: Awaited<ReturnType<typeof createStateDatabase>>;
  target: Awaited<ReturnType<typeof createTargetDatabase>>;
  checker: pg.Client;
  alice: { id: string; apiKey: string };
  dana: { id: string; apiKey: string };
}

/**
 * Starts the fixture before the file's tests and stops it after them; `use` receives it once
 * started. `prepare` runs on the state database (through `checker`) before the gateway starts.
 */
export function useFaultyStateFixture(options: { slack: boolean; prepare?: (checker: pg.Client) => Promise<unknown> }, use: (f: FaultyStateFixture) => void): void {
  const f: Partial<FaultyStateFixture> = {};
  beforeAll(async () => {
    f.state = await createStateDatabase();
    f.target = await createTargetDatabase();
    const admin = new URL(ADMIN_URL);
    f.proxy = await startPgFaultProxy({ host: admin.hostname, port: Number(admin.port || 5432) });
    f.checker = new pg.Client({ connectionString: f.state.url });
    await f.checker.connect();
    await options.prepare?.(f.checker);
    // No workers: the only transactions through the proxy are the requests' own (and approved
    // reviews are run by hand).
    // The chainer's own COMMITs would take the fault armed for the submit's or the vote's.
    f.t = await startTestGateway({ databaseUrl: f.proxy.url(f.state.url), workers: false, auditChain: false, ...(options.slack ? {} : { slack: false }) });
    f.alice = await f.t.createUser('alice@example.com', ['developers']);
    f.dana = await f.t.createUser('dana@example.com', ['dba-team']);
    expect((await f.t.api('POST', '/api/connections', { body: { name: 'prod-db', url: f.target.url, reviewers: ['dba-team'], reviewMode: 'all' } })).status).toBe(201);
    use(f as FaultyStateFixture);
  }, 60_000);
  afterAll(async () => {
    f.proxy?.up();
    await f.t?.stop();
    await f.proxy?.close();
    await f.checker?.end();
    await f.state?.drop();
    await f.target?.drop();
  });
}
