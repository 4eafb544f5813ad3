// The start-up sweep settles runs a stopped process left RUNNING by asking their targets; a target
// whose host stops answering mid-check must hold back neither the start (listen, workers) nor the
// repairs that need no target: an overdue request still expires, an approved one still runs.
import net from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { createStateDatabase, createTargetDatabase, uniqueName } from '../helpers/databases.js';
import { deleteQueues, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** A proxy to PostgreSQL that lets the handshake through, then swallows every query: a host gone mid-check. */
async function freezingProxy(): Promise<{ port: number; frozen: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let frozen = 0;
  const server = net.createServer((client) => {
    const up = net.connect(5432, '127.0.0.1');
    sockets.add(client).add(up);
    let stuck = false;
    client.on('data', (d) => {
      // 'Q' (simple query) or 'P' (parse): past the startup message, the host vanishes.
      if (!stuck && (d[0] === 0x51 || d[0] === 0x50)) (stuck = true), frozen++;
      if (!stuck) up.write(d);
    });
    up.on('data', (d) => void (stuck || client.write(d)));
    for (const s of [client, up]) s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    frozen: () => frozen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

it('a gateway starts, serves, expires and runs while its start-up check of a stopped run hangs', async () => {
  const state = await createStateDatabase();
  cleanups.push(() => state.drop());
  const target = await createTargetDatabase();
  cleanups.push(() => target.drop());
  await target.query('CREATE TABLE t (v int)');
  const proxy = await freezingProxy();
  cleanups.push(() => proxy.close());
  const gone = new URL(target.url);
  gone.port = String(proxy.port);

  // The first process: no workers (so no job and no sweep of its own); it stops, leaving the state below.
  const first = await startTestGateway({ slack: false, workers: false, databaseUrl: state.url, env: { REVIEW_TIMEOUT_SEC: '2' } });
  const alice = await first.createUser('alice@example.com', ['dev']);
  const dana = await first.createUser('dana@example.com', ['dba']);
  for (const [name, url] of [['prod', target.url], ['gone', gone.toString()]]) {
    expect((await first.api('POST', '/api/connections', { body: { name, url, reviewers: ['dba'], reviewMode: 'all' } })).status).toBe(201);
  }
  const submit = async (connection: string, input: string) => (await first.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input } })).body.id as string;
  const overdue = await submit('prod', 'DELETE FROM t WHERE v = 0');
  const approved = await submit('prod', 'INSERT INTO t VALUES (1)');
  const stopped = await submit('gone', 'INSERT INTO t VALUES (2)');
  for (const id of [approved, stopped]) expect((await first.api('PUT', `/api/reviews/${id}/approve`, { key: dana.apiKey })).status).toBe(200);
  // A run its process left RUNNING in a recorded transaction, without heartbeat, on the target whose host is gone.
  await first.gateway.db.review.update({
    where: { id: stopped },
    data: { status: 'RUNNING', startedAt: new Date(Date.now() - 120_000), heartbeatAt: null, runTracking: 'transaction', runBackendPid: '999999', runBackendStart: '2020-01-01T00:00:00.000000Z', runXid: '1' },
  });
  await first.gateway.db.review.updateMany({ where: { id: { in: [overdue, approved] } }, data: { decidedAt: new Date(Date.now() - 60_000) } });
  await first.stop();

  // The next start, on queues of its own (the jobs the first process queued are lost, as with a Redis flush).
  const prefix = uniqueName('sb');
  cleanups.push(() => deleteQueues(prefix));
  const t0 = Date.now();
  let next: TestGateway | undefined;
  const starting = startTestGateway({ slack: false, databaseUrl: state.url, prefix, sweepIntervalMs: 30_000, env: { SHUTDOWN_GRACE_SEC: '2' } }).then((g) => (next = g));
  cleanups.push(async () => (await starting.catch(() => undefined))?.stop());
  await Promise.race([starting, new Promise((r) => setTimeout(r, 8000))]);
  expect(next, 'start() resolved within 8 s').toBeDefined();
  const startedMs = Date.now() - t0;
  expect(startedMs).toBeLessThan(5000);
  // It serves.
  expect((await next!.api('GET', `/api/reviews/${stopped}`)).body.status).toBe('RUNNING');
  // The repairs that need no target do not wait for the check.
  await eventually(async () => (await next!.api('GET', `/api/reviews/${overdue}`)).body.status === 'EXPIRED', 5000, 'the overdue request to expire');
  await eventually(async () => (await next!.api('GET', `/api/reviews/${approved}`)).body.status === 'EXECUTED', 5000, 'the approved request to run');
  // And the check of the stopped run really is hanging on the target all the while.
  expect(proxy.frozen()).toBeGreaterThan(0);
  expect((await next!.api('GET', `/api/reviews/${stopped}`)).body.status).toBe('RUNNING');
  console.log(`started in ${startedMs} ms while the outcome check hung`);
}, 30_000);
