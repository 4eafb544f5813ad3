// Outside review of issue 7: one auto-run read (no review, no special rights) stops the gateway.
// The proxy keeps up to 10,000 rows and pads every cell to its column's widest value before it cuts
// the text to OUTPUT_MAX_BYTES (src/sql/psql-format.ts formatStatement, called from
// src/execution/postgres.ts finish() on the event loop). One wide value in a right-aligned (numeric)
// column makes every one of the 10,000 lines that wide: ten 131,000-digit numerics make ~13 GB of
// strings, and V8 aborts the process ("Reached heap limit"). A left-aligned column is trimmed, but
// still costs about 1 MB of padding per row (10 s of a blocked event loop for 10,000 rows).
// The finding (fixed): the gateway process died. Output is now bounded while it is read and formatted.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createStateDatabase, createTargetDatabase, REDIS_URL, uniqueName } from '../helpers/databases.js';
import { ADMIN_KEY, deleteQueues } from '../helpers/gateway.js';

let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let state: Awaited<ReturnType<typeof createStateDatabase>>;
let child: ChildProcess;
let port: number;
const prefix = uniqueName('rvdos');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

const api = async (method: string, path: string, key: string, body?: unknown) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
};
const healthy = () => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);

beforeAll(async () => {
  target = await createTargetDatabase();
  state = await createStateDatabase();
  port = await freePort();
  // The heap is capped so this test costs the machine little; the input needs ~13 GB, so the
  // default heap (about 4 GB here) dies the same way, only later.
  child = spawn(process.execPath, ['--max-old-space-size=1024', 'bin/gateway.mjs'], {
    env: { ...process.env, DATABASE_URL: state.url, REDIS_URL, PORT: String(port), HOST: '127.0.0.1', ADMIN_API_KEY: ADMIN_KEY, ADMIN_EMAIL: 'root@example.com', QUEUE_PREFIX: prefix, LOG_LEVEL: 'fatal' },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  for (let i = 0; !(await healthy()); i++) {
    if (i > 300 || child.exitCode !== null) throw new Error('the gateway did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
}, 90_000);

afterAll(async () => {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  await state?.drop();
  await target?.drop();
  await deleteQueues(prefix);
});

it('one read without review does not stop the gateway', async () => {
  const alice = (await api('POST', '/api/users', ADMIN_KEY, { email: 'alice@example.com', groups: ['developers'] })).body.apiKey as string;
  expect((await api('POST', '/api/connections', ADMIN_KEY, { name: 'pg', url: target.url, reviewers: ['dba-team'] })).status).toBe(201);
  const wide = Array.from({ length: 10 }, (_, i) => `CASE WHEN g = 1 THEN repeat('9', 131000)::numeric ELSE 0 END AS c${i}`).join(', ');
  const input = `SELECT ${wide} FROM generate_series(1, 10000) g`;
  expect(input.length).toBeLessThan(1000); // a few hundred bytes of SQL
  const answer = await api('POST', '/api/connections/pg/exec', alice, { input }).catch((e: Error) => ({ status: 0, body: e.message }));
  await new Promise((r) => setTimeout(r, 500));
  const exited = child.exitCode !== null || child.signalCode !== null;
  expect({ answered: answer.status, exited, healthz: await healthy() }).toEqual({ answered: 201, exited: false, healthz: true });
}, 120_000);
