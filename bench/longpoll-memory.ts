// Memory of N parallel long-polls (GET /api/reviews/:id?wait=) in a gateway process of its own,
// against the same process holding N idle keep-alive connections first: the growth the waits add
// on top of their connections is what the long-poll path costs.
// Prints RSS figures and writes bench/results/longpoll-memory.json.
// N=500 WAIT_SEC=20 INPUT_BYTES=20000; OLD_GATEWAY_DIR=<another checkout, prisma client generated>
// also measures that checkout's gateway with the same steps, in the same run.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import setup from '../test/global-setup.js';
import { createStateDatabase, createTargetDatabase, REDIS_URL, uniqueName } from '../test/helpers/databases.js';
import { deleteQueues } from '../test/helpers/gateway.js';

const N = Number(process.env.N ?? 500);
const WAIT_SEC = Number(process.env.WAIT_SEC ?? 20);
const INPUT_BYTES = Number(process.env.INPUT_BYTES ?? 20_000);
const ADMIN_KEY = 'hoop_bench_admin_key_0123456789';
const SETTLE_MS = 3000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (kb: number) => Math.round(kb / 102.4) / 10;

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

async function freePort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** One JSON request over `agent`; rejects on anything but `expect`. */
function request(agent: http.Agent, port: number, method: string, path: string, key: string | null, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (key) headers.authorization = `Bearer ${key}`;
    if (data) headers['content-type'] = 'application/json';
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function inBatches<T>(n: number, size: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += size) out.push(...(await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, j) => fn(i + j)))));
  return out;
}

/** The gateway of checkout `dir` in a process of its own, on a fresh database and queue prefix. */
async function startGateway(dir: string, targetUrl: string) {
  const state = await createStateDatabase();
  const prefix = uniqueName('bench');
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: dir,
    env: {
      ...process.env,
      DATABASE_URL: state.url, REDIS_URL, PORT: String(port), HOST: '127.0.0.1', ADMIN_API_KEY: ADMIN_KEY, ADMIN_EMAIL: 'root@example.com',
      QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', LONG_POLLS_PER_KEY: String(N), RATE_LIMIT_SUBMITS: '0',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the gateway in ${dir} exited with ${child.exitCode}`);
    const ok = await request(agent, port, 'GET', '/healthz', null).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (i > 300) throw new Error('the gateway did not start in 60 s');
    await sleep(200);
  }
  const api = (method: string, p: string, key: string | null, body?: unknown) => request(agent, port, method, p, key, body);
  const requester = (await api('POST', '/api/users', ADMIN_KEY, { email: 'req@example.com', groups: ['dev'] })).body.apiKey as string;
  await api('POST', '/api/users', ADMIN_KEY, { email: 'dba@example.com', groups: ['dba-team'] });
  await api('POST', '/api/connections', ADMIN_KEY, { name: 'prod', url: targetUrl, reviewers: ['dba-team'], reviewMode: 'all' });
  return {
    pid: child.pid!,
    port,
    api,
    requester,
    async stop() {
      agent.destroy();
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      await state.drop();
      await deleteQueues(prefix);
    },
  };
}

/** The steps, measured: reviews made, N idle connections, then N waits over those connections. */
async function measure(dir: string, targetUrl: string) {
  const gw = await startGateway(dir, targetUrl);
  try {
    const padding = 'x'.repeat(Math.max(0, INPUT_BYTES - 60));
    const ids = await inBatches(N, 20, async (i) => {
      const res = await gw.api('POST', '/api/connections/prod/exec', gw.requester, { input: `UPDATE users SET status = '${padding}' WHERE id = ${i}` });
      if (res.status !== 201) throw new Error(`submit ${i}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.id as string;
    });
    await sleep(SETTLE_MS);
    const start = rssKb(gw.pid);

    // N connections to the gateway, each used once and kept open: the baseline.
    const idle = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    await Promise.all(Array.from({ length: N }, () => request(idle, gw.port, 'GET', '/healthz', null)));
    await sleep(SETTLE_MS);
    const withIdle = rssKb(gw.pid);

    // The same N connections, each now waiting on its own pending review.
    const samples: { at: number; kb: number }[] = [];
    const sampler = setInterval(() => samples.push({ at: Date.now(), kb: rssKb(gw.pid) }), 250);
    const started = Date.now();
    const answers = await Promise.all(ids.map((id) => request(idle, gw.port, 'GET', `/api/reviews/${id}?wait=${WAIT_SEC}`, gw.requester)));
    const waitedMs = Date.now() - started;
    clearInterval(sampler);
    const bad = answers.filter((a) => a.status !== 200 || a.body.status !== 'PENDING');
    if (bad.length) throw new Error(`${bad.length} waits did not answer 200 PENDING, e.g. ${JSON.stringify(bad[0]).slice(0, 300)}`);
    await sleep(SETTLE_MS);
    const after = rssKb(gw.pid);
    idle.destroy();
    const peak = Math.max(...samples.map((x) => x.kb));
    // The middle half of the wait, away from the bursts of N arrivals and N answers at its ends.
    const middle = samples.filter((x) => x.at >= started + waitedMs * 0.25 && x.at <= started + waitedMs * 0.75).map((x) => x.kb).sort((a, b) => a - b);
    const steady = middle[Math.floor(middle.length / 2)];
    return {
      rssMb: { start: mb(start), withIdleConnections: mb(withIdle), steadyWhileWaiting: mb(steady), peakWhileWaiting: mb(peak), afterWaits: mb(after) },
      growthMb: { idleConnections: mb(withIdle - start), steadyWaitsOverIdle: mb(steady - withIdle), peakWaitsOverIdle: mb(peak - withIdle) },
      kbPerWait: { steady: Math.round(((steady - withIdle) / N) * 10) / 10, peak: Math.round(((peak - withIdle) / N) * 10) / 10 },
      waitedSec: Math.round(waitedMs / 100) / 10,
    };
  } finally {
    await gw.stop();
  }
}

async function main() {
  const dropTemplate = await setup();
  const target = await createTargetDatabase();
  try {
    const current = await measure(process.cwd(), target.url);
    const old = process.env.OLD_GATEWAY_DIR ? await measure(path.resolve(process.env.OLD_GATEWAY_DIR), target.url) : undefined;
    const result = {
      bench: 'longpoll-memory',
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      waits: N,
      waitSec: WAIT_SEC,
      inputBytes: INPUT_BYTES,
      current,
      ...(old ? { old: { dir: process.env.OLD_GATEWAY_DIR, ...old } } : {}),
      note: 'RSS of the gateway process (/proc/PID/status VmRSS). Baseline: the same N keep-alive connections held idle before they wait; steady = median RSS over the middle half of the wait, peak = highest sample (the N arrivals and the N answers at the ends load whole reviews); each minus RSS with the N idle connections.',
    };
    console.log(JSON.stringify(result, null, 2));
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/longpoll-memory.json', JSON.stringify(result, null, 2) + '\n');
  } finally {
    await target.drop();
    await dropTemplate();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
