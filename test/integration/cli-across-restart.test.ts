// A rolling restart under a waiting `hoop exec`: the stopping gateway answers the CLI's long-poll
// at once, the CLI waits out the seconds without a gateway, and gets its result from the new
// process on the same address. Nothing is lost and nothing runs twice.
import net from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createStateDatabase, createTargetDatabase } from '../helpers/databases.js';
import { gatewayEnv, hoopExec, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { eventually } from '../helpers/gateway.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('hoop exec waiting while its gateway restarts', () => {
  it('keeps waiting, then prints the result the new process ran, once', async () => {
    const state = await createStateDatabase();
    const target = await createTargetDatabase();
    cleanups.push(() => state.drop(), () => target.drop());
    const port = await freePort();
    const env = gatewayEnv(state.url, { PORT: String(port), MIGRATE_ON_START: 'false' });
    const start = () => {
      const gw = startGatewayProcess(env);
      cleanups.push(() => gw.dispose());
      return gw;
    };
    const first: GatewayProcess = start();
    await first.listening;
    const alice = (await first.api('POST', '/api/users', { body: { email: 'alice@example.com', groups: ['developers'] } })).body.apiKey;
    const dana = (await first.api('POST', '/api/users', { body: { email: 'dana@example.com', groups: ['dba-team'] } })).body.apiKey;
    expect((await first.api('POST', '/api/connections', { body: { name: 'prod', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } })).status).toBe(201);

    const input = "UPDATE users SET status = 'restarted' WHERE id = 2";
    const { out, exit: cliExit } = hoopExec(port, alice, 'prod', input, cleanups);
    const review = await eventually(async () => (await first.api('GET', '/api/reviews?status=pending')).body.reviews.find((r: any) => r.input === input), 10_000, 'the pending review');
    await eventually(async () => out.stderr.includes('waiting on'), 10_000, 'the CLI waiting');
    const sent = Date.now();
    first.child.kill('SIGTERM');
    const firstExit = await first.exited;
    expect(firstExit.code).toBe(0);
    console.log(`first gateway exited ${firstExit.at - sent} ms after SIGTERM`);
    await eventually(async () => out.stderr.includes('does not answer'), 10_000, 'the CLI noticing the gateway is gone').catch((e) => {
      throw new Error(`${e.message}; CLI stderr: ${out.stderr}`);
    });

    const second = start();
    await second.listening;
    expect((await second.api('PUT', `/api/reviews/${review.id}/approve`, { key: dana, body: {} })).status).toBe(200);
    const code = await cliExit;
    expect(out.stderr).not.toContain('Cannot reach');
    expect(code).toBe(0);
    expect(out.stdout).toContain('UPDATE 1');
    expect(await target.query('SELECT status FROM users WHERE id = 2')).toEqual([{ status: 'restarted' }]);
    const c = new pg.Client({ connectionString: state.url });
    await c.connect();
    const runs = (await c.query(`SELECT count(*)::int AS n FROM "AuditEvent" WHERE "reviewId" = $1 AND action = 'review.executed'`, [review.id])).rows[0].n;
    await c.end();
    expect(runs).toBe(1);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });

});
