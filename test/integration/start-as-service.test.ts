// `npm start` / `npm run worker` as a supervisor runs them: the process it signals is the one that
// stops, on a database that did not exist yet (the gateway applies the migrations itself), and
// nothing of the process tree is left behind.
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_URL, uniqueName, withDatabase } from '../helpers/databases.js';
import { descendants, gatewayEnv, isAlive, portOpen, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import pg from 'pg';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A database name nobody created: the process must create and migrate it. */
function missingDatabase(): string {
  const name = uniqueName('hoop_test_missing');
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  return withDatabase(ADMIN_URL, name);
}

async function stopTree(gw: GatewayProcess, ready: string): Promise<{ exit: Awaited<GatewayProcess['exited']>; ms: number; tree: number[] }> {
  await gw.waitForLog((l) => l.msg === ready, 25_000, ready);
  // npm, then the gateway node process (and whatever it runs, e.g. tsx's esbuild service).
  const tree = descendants(gw.pid);
  expect(tree.length).toBeGreaterThan(0);
  const sent = Date.now();
  process.kill(gw.pid, 'SIGTERM');
  const exit = await gw.exited;
  // A survivor would be reparented, not exit: give it a moment, then look.
  await new Promise((r) => setTimeout(r, 300));
  const alive = tree.filter(isAlive);
  expect(alive, `left running: ${alive.join(', ')}`).toEqual([]);
  return { exit, ms: exit.at - sent, tree };
}

describe('npm start', () => {
  it('creates and migrates a missing database, stops on SIGTERM to npm with exit 0, closes its port and leaves no process', async () => {
    const gw = startGatewayProcess(gatewayEnv(missingDatabase()), { npm: 'start' });
    cleanups.push(() => gw.dispose());
    const port = await gw.listening;
    // Serving an authenticated request means the tables are there.
    expect((await gw.api('GET', '/api/me')).status).toBe(200);
    const { exit, ms, tree } = await stopTree(gw, 'gateway listening');
    console.log(`npm start: tree ${tree.length + 1} processes, exit ${exit.code} ${ms} ms after SIGTERM`);
    expect(gw.logs.some((l) => l.msg === 'stopping' && l.signal === 'SIGTERM')).toBe(true);
    expect(exit.code).toBe(0);
    expect(ms).toBeLessThan(5000);
    expect(await portOpen(port)).toBe(false);
    expect(gw.logs.some((l) => l.msg === 'database migrations applied')).toBe(true);
  });
});

describe('npm run worker', () => {
  it('stops on SIGTERM to npm with exit 0 and leaves no process', async () => {
    const gw = startGatewayProcess(gatewayEnv(missingDatabase()), { npm: 'worker' });
    cleanups.push(() => gw.dispose());
    const { exit, ms } = await stopTree(gw, 'start-up sweep done');
    console.log(`npm run worker: exit ${exit.code} ${ms} ms after SIGTERM`);
    expect(gw.logs.some((l) => l.msg === 'stopping' && l.signal === 'SIGTERM')).toBe(true);
    expect(exit.code).toBe(0);
    expect(ms).toBeLessThan(5000);
  });
});
