// SIGTERM while the process is still applying migrations: the migration is not cut half-way (that
// would leave a failed row in _prisma_migrations that blocks every later deploy); the process lets
// it finish, never starts serving, and exits 0 with nothing left running.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_URL, uniqueName, withDatabase } from '../helpers/databases.js';
import { descendants, gatewayEnv, isAlive, ROOT, startGatewayProcess } from '../helpers/gateway-process.js';
import { eventually } from '../helpers/gateway.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

describe('SIGTERM during the migrations of start-up', () => {
  // To the gateway alone, or to its whole process group as systemd's default stop and Ctrl-C send it.
  it.each([
    ['the gateway', false],
    ['its whole process group', true],
  ])('sent to %s: lets them finish, does not start serving and exits 0', async (_to, group) => {
    const name = uniqueName('hoop_test_missing');
    cleanups.push(async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    });
    const gw = startGatewayProcess(gatewayEnv(withDatabase(ADMIN_URL, name)), { ownGroup: group });
    cleanups.push(() => gw.dispose());
    // The Prisma CLI running as the gateway's child: the gateway's own handlers are installed.
    const tree = await eventually(async () => {
      const pids = descendants(gw.pid);
      return pids.some((p) => commandLine(p).includes('migrate deploy')) && pids;
    }, 20_000, 'prisma migrate deploy to run');
    const sent = Date.now();
    if (group) process.kill(-gw.pid, 'SIGTERM');
    else gw.child.kill('SIGTERM');
    const exit = await gw.exited;
    console.log(`SIGTERM to ${_to} during migrations: exit ${exit.code} ${exit.at - sent} ms later`);
    expect(exit.code).toBe(0);
    const msgs = gw.logs.map((l) => l.msg);
    expect(msgs).toContain('stopping');
    expect(msgs.indexOf('database migrations applied')).toBeGreaterThan(msgs.indexOf('stopping'));
    expect(msgs).toContain('stopped before starting');
    expect(msgs).not.toContain('gateway listening');
    await new Promise((r) => setTimeout(r, 300));
    expect(tree.filter(isAlive)).toEqual([]);
    const expected = readdirSync(path.join(ROOT, 'prisma/migrations')).filter((d) => /^\d{14}_/.test(d)).length;
    const c = new pg.Client({ connectionString: withDatabase(ADMIN_URL, name) });
    await c.connect();
    const { rows } = await c.query('SELECT count(*)::int AS n, count(finished_at)::int AS done, count(rolled_back_at)::int AS rolled_back FROM _prisma_migrations');
    await c.end();
    expect(rows[0]).toEqual({ n: expected, done: expected, rolled_back: 0 });
  });
});
