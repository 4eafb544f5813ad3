// Submissions per second through real gateway processes (`node --import tsx src/main.ts`, HTTP +
// workers each) sharing one state database and one queue prefix, with the fake Slack in this
// process: ONE process first (the baseline), then TWO, in the same run. For DURATION seconds,
// CONCURRENCY requests stay in flight (spread over the processes); each is a write that waits for
// review, so it is stored PENDING with its expiry scheduled and its review message posted. After
// the load stops, everything is counted: rows, audit events, outbox rows left, delayed expiry jobs
// in BullMQ, request messages at the fake Slack and their slots: nothing lost, nothing doubled
// (asserted: the bench exits 1 otherwise). Writes bench/results/throughput.json.
// PROFILE_DIR=dir: the gateway processes run with --cpu-prof and write their profiles there.
// OLD_GATEWAY_DIR=<another checkout, prisma client generated>: that checkout's gateway is measured
// with the same steps in the same run, before this one at each process count.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import setup from '../test/global-setup.js';
import { startFakeSlack, type FakeSlack } from '../test/fakes/fake-slack.js';
import { createStateDatabase, createTargetDatabase, REDIS_URL, uniqueName } from '../test/helpers/databases.js';
import { ADMIN_KEY, deleteQueues, SIGNING_SECRET } from '../test/helpers/gateway.js';
import { productionArgv } from '../test/helpers/gateway-process.js';

const DURATION_SEC = Number(process.env.DURATION ?? 30);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 64);
const PROCESSES = (process.env.PROCESSES ?? '1,2').split(',').map(Number);
const SETTLE_TIMEOUT_MS = Number(process.env.SETTLE_TIMEOUT_MS ?? 120_000);
const ROOT = new URL('..', import.meta.url).pathname;
const CHANNEL = 'C-REVIEWS';

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });

function request(port: number, method: string, urlPath: string, key: string, body?: unknown): Promise<{ status: number; body: any }> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: urlPath, agent, headers: { authorization: `Bearer ${key}`, ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: any = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface Child {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

async function startChild(dir: string, env: Record<string, string>, profileDir?: string): Promise<Child> {
  const port = await freePort();
  // --cpu-prof is refused in NODE_OPTIONS: it goes on the command line.
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  // This checkout's gateway as `npm start` runs it (bundle and node flags); another checkout's from its sources.
  const argv = dir === ROOT ? productionArgv() : ['--import', 'tsx', 'src/main.ts'];
  const child = spawn(process.execPath, [...profile, ...argv], {
    cwd: dir,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const keep = (d: Buffer) => {
    text = (text + d).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited at start:\n${text}`);
    const ok = await request(port, 'GET', '/readyz', ADMIN_KEY).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`gateway not ready after 60 s:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, port, output: () => text, exited };
}

const TICK_MS = 1000 / 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

/** CPU time (user + system) a process used so far, in ms; 0 when it is gone. */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** PostgreSQL backends serving `database` (their titles name it), with the CPU each used so far. */
function postgresBackends(database: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.startsWith('postgres:') && cmd.includes(` ${database} `)) out.set(Number(entry), cpuMsOf(Number(entry)));
    } catch {
      /* gone */
    }
  }
  return out;
}

function pct(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (x: number) => Math.round(x * 10) / 10;

async function scenario(gateway: { label: string; dir: string }, processes: number, targetUrl: string) {
  const state = await createStateDatabase();
  // A fake Slack of its own: the counts of one scenario never mix with another's.
  const slack: FakeSlack = await startFakeSlack();
  const prefix = uniqueName('tp');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: state.url,
    REDIS_URL,
    HOST: '127.0.0.1',
    ADMIN_API_KEY: ADMIN_KEY,
    ADMIN_EMAIL: 'root@example.com',
    QUEUE_PREFIX: prefix,
    REVIEW_TIMEOUT_SEC: '3600',
    RATE_LIMIT_SUBMITS: '100000000',
    RATE_LIMIT_AUTH_FAILURES_PER_IP: '100000',
    RATE_LIMIT_AUTH_FAILURES_PER_KEY: '100000',
    CHECKPOINT_DISABLE: '1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    SLACK_BOT_ID: 'BBOT',
    SLACK_BOT_USER_ID: 'UBOT',
    SLACK_CHANNEL: CHANNEL,
    ...(process.env.DATABASE_POOL_SIZE ? { DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE } : {}),
  };
  const profileDir = process.env.PROFILE_DIR ? path.resolve(process.env.PROFILE_DIR, `${gateway.label}-${processes}p`) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  // One after the other: each applies the migrations on start (already applied: a no-op).
  const children: Child[] = [];
  try {
    for (let i = 0; i < processes; i++) children.push(await startChild(gateway.dir, env, profileDir));
    const first = children[0].port;
    const user = await request(first, 'POST', '/api/users', ADMIN_KEY, { email: 'tp-requester@example.com', groups: ['developers'] });
    if (user.status !== 201) throw new Error(`create user: ${user.status} ${JSON.stringify(user.body)}`);
    const key: string = user.body.apiKey;
    const conn = await request(first, 'POST', '/api/connections', ADMIN_KEY, { name: 'tp', url: targetUrl, reviewers: ['dba-team'] });
    if (conn.status !== 201) throw new Error(`create connection: ${conn.status} ${JSON.stringify(conn.body)}`);

    // Posts of this scenario's reviews, counted as the fake records them.
    const ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
    const posts = new Map<string, number>();
    const created = new Map<string, number>();
    const postLatency: number[] = [];
    slack.onCall((c) => {
      if (c.method !== 'chat.postMessage' || c.args.thread_ts || c.args.channel !== CHANNEL) return;
      const id = ID.exec(JSON.stringify(c.args.blocks ?? ''))?.[0];
      if (!id) return;
      posts.set(id, (posts.get(id) ?? 0) + 1);
      const at = created.get(id);
      if (at !== undefined && posts.get(id) === 1) postLatency.push(c.at - at);
    });

    // CPU of each party over the load (the machine is shared: this is what the run itself cost).
    const database = new URL(state.url).pathname.slice(1);
    const pgBefore = postgresBackends(database);
    const gwBefore = children.map((c) => cpuMsOf(c.child.pid!));
    const selfBefore = process.cpuUsage();
    const latencies: number[] = [];
    const errors = new Map<string, number>();
    let ok = 0;
    let n = 0;
    const started = Date.now();
    const end = started + DURATION_SEC * 1000;
    const perSecond: number[] = [];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, lane) => {
        const port = children[lane % children.length].port;
        while (Date.now() < end) {
          const i = n++;
          const t0 = performance.now();
          const sent = Date.now();
          try {
            const res = await request(port, 'POST', '/api/connections/tp/exec', key, { input: `UPDATE users SET status = 't${i}' WHERE id = ${(i % 3) + 1}` });
            if (res.status === 201) {
              ok++;
              created.set(res.body.id, sent);
              latencies.push(performance.now() - t0);
              const sec = Math.floor((Date.now() - started) / 1000);
              perSecond[sec] = (perSecond[sec] ?? 0) + 1;
            } else {
              const k = `${res.status} ${String(res.body?.error?.code ?? res.body?.code ?? '')}`;
              errors.set(k, (errors.get(k) ?? 0) + 1);
            }
          } catch (error) {
            const k = (error as Error).message;
            errors.set(k, (errors.get(k) ?? 0) + 1);
          }
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const pgAfter = postgresBackends(database);
    const pgMs = [...pgAfter].reduce((a, [pid, ms]) => a + ms - (pgBefore.get(pid) ?? 0), 0);
    const gwMs = children.reduce((a, c, i) => a + cpuMsOf(c.child.pid!) - gwBefore[i], 0);
    const self = process.cpuUsage(selfBefore);
    const perSubmission = (ms: number) => round(ms / Math.max(1, ok));
    const cpuMsPerSubmission = { gateways: perSubmission(gwMs), postgres: perSubmission(pgMs), loadGeneratorAndFakeSlack: perSubmission((self.user + self.system) / 1000) };

    // Wait until every accepted request is announced and the outbox is empty (or time out).
    const db = new pg.Client({ connectionString: state.url });
    await db.connect();
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const reviewsQueue = new Queue(`${prefix}-reviews`, { connection: redis });
    const slackQueue = new Queue(`${prefix}-slack`, { connection: redis });
    const settleStarted = Date.now();
    let outboxLeft = -1;
    for (;;) {
      outboxLeft = Number((await db.query('SELECT count(*)::int AS n FROM "OutboxJob"')).rows[0].n);
      const slackBusy = await slackQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      const busy = Object.values(slackBusy).reduce((a, b) => a + b, 0);
      if ((outboxLeft === 0 && busy === 0 && posts.size >= ok) || Date.now() - settleStarted > SETTLE_TIMEOUT_MS) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const settleMs = Date.now() - settleStarted;
    // The whole work of the run: what a gateway leaves to its queue during the load is done by now.
    const pgAll = [...postgresBackends(database)].reduce((a, [pid, ms]) => a + ms - (pgBefore.get(pid) ?? 0), 0);
    const gwAll = children.reduce((a, c, i) => a + cpuMsOf(c.child.pid!) - gwBefore[i], 0);
    const cpuMsPerSubmissionWithSettle = { gateways: perSubmission(gwAll), postgres: perSubmission(pgAll) };
    // Let a late double post show itself before counting.
    await new Promise((r) => setTimeout(r, 1000));

    const rows = (await db.query(`SELECT r.id::text, r.status FROM "Review" r`)).rows as { id: string; status: string }[];
    const audited = Number((await db.query(`SELECT count(*)::int AS n FROM "AuditEvent" WHERE action = 'review.created'`)).rows[0].n);
    const slots = (await db.query(`SELECT "reviewId"::text AS id, count(*)::int AS n FROM "ChannelMessage" WHERE channel = 'slack' AND kind = 'request' AND status = 'posted' GROUP BY 1`)).rows as { id: string; n: number }[];
    const expiryJobs = new Set<string>();
    for (let start = 0; ; start += 1000) {
      const jobs = await reviewsQueue.getJobs(['delayed', 'waiting', 'prioritized'], start, start + 999);
      for (const j of jobs) if (j?.name === 'review.expire') expiryJobs.add(String(j.data.reviewId));
      if (jobs.length < 1000) break;
    }
    const slackJobs = await slackQueue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
    await reviewsQueue.close();
    await slackQueue.close();
    redis.disconnect();
    await db.end();

    const ids = new Set(rows.map((r) => r.id));
    const missingPost = [...ids].filter((id) => !posts.has(id)).length;
    const doubledPost = [...posts].filter(([id, c]) => ids.has(id) && c > 1).length;
    const missingExpiry = [...ids].filter((id) => !expiryJobs.has(id)).length;
    const missingSlot = [...ids].length - slots.filter((s) => ids.has(s.id)).length;
    const doubledSlot = slots.filter((s) => s.n > 1).length;
    const unknownRows = [...created.keys()].filter((id) => !ids.has(id)).length;
    const counts = {
      accepted: ok,
      reviewRows: rows.length,
      pendingRows: rows.filter((r) => r.status === 'PENDING').length,
      auditCreated: audited,
      outboxLeft,
      expiryJobsInBullMQ: expiryJobs.size,
      slackQueueJobs: slackJobs,
      requestPostsAtFakeSlack: [...posts].filter(([id]) => ids.has(id)).reduce((a, [, c]) => a + c, 0),
      postedSlots: slots.reduce((a, s) => a + s.n, 0),
    };
    const problems = {
      acceptedWithoutRow: unknownRows,
      rowsNotAccepted: rows.length - ok,
      auditMismatch: audited - rows.length,
      outboxLeft,
      withoutExpiryJob: missingExpiry,
      withoutPost: missingPost,
      postedTwice: doubledPost,
      withoutPostedSlot: missingSlot,
      slotTwice: doubledSlot,
    };
    // Steady state: the seconds after the first and before the last (warm-up and tail excluded).
    const steady = Array.from(perSecond, (x) => x ?? 0).slice(1, Math.max(2, perSecond.length - 1));
    return {
      gateway: gateway.label,
      processes,
      seconds: round(seconds),
      submissionsPerSecond: round(ok / seconds),
      steadyPerSecond: { min: Math.min(...steady), median: pct(steady, 50), max: Math.max(...steady) },
      submitMs: { p50: round(pct(latencies, 50)), p95: round(pct(latencies, 95)), p99: round(pct(latencies, 99)) },
      submitToPostedMs: { p50: round(pct(postLatency, 50)), p95: round(pct(postLatency, 95)), p99: round(pct(postLatency, 99)) },
      settleAfterLoadMs: settleMs,
      // During the load only (the posts still due after it are not counted); Redis not included.
      cpuMsPerSubmission,
      // From the start of the load until every request was announced and the outbox drained.
      cpuMsPerSubmissionWithSettle,
      errors: Object.fromEntries(errors),
      counts,
      problems,
      ok: Object.values(problems).every((v) => v === 0),
    };
  } finally {
    for (const c of children) c.child.kill('SIGTERM');
    const codes = await Promise.all(children.map((c) => Promise.race([c.exited, new Promise<null>((r) => setTimeout(() => r(null), 20_000))])));
    for (const [i, c] of children.entries()) if (codes[i] === null && c.child.exitCode === null) c.child.kill('SIGKILL');
    await slack.close();
    await state.drop();
    await deleteQueues(prefix);
  }
}

async function main() {
  await setup();
  const target = await createTargetDatabase();
  const results: Awaited<ReturnType<typeof scenario>>[] = [];
  try {
    const gateways = [...(process.env.OLD_GATEWAY_DIR ? [{ label: 'old', dir: path.resolve(process.env.OLD_GATEWAY_DIR) }] : []), { label: 'this', dir: ROOT }];
    for (const p of PROCESSES) {
      for (const g of gateways) {
        const r = await scenario(g, p, target.url);
        console.log(JSON.stringify(r, null, 2));
        results.push(r);
      }
    }
  } finally {
    await target.drop();
  }
  const base = results.find((r) => r.processes === 1 && r.gateway === 'this');
  const two = results.find((r) => r.processes === 2 && r.gateway === 'this');
  const old = (p: number) => results.find((r) => r.processes === p && r.gateway === 'old');
  const result = {
    bench: 'throughput',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    durationSec: DURATION_SEC,
    concurrency: CONCURRENCY,
    results,
    ...(base && two ? { twoOverOne: round(two.submissionsPerSecond / base.submissionsPerSecond) } : {}),
    ...(old(1) || old(2) ? { thisOverOld: Object.fromEntries(PROCESSES.map((p) => [`${p}p`, round((results.find((r) => r.processes === p && r.gateway === 'this')?.submissionsPerSecond ?? NaN) / (old(p)?.submissionsPerSecond ?? NaN))])) } : {}),
    note: 'gateway child processes (HTTP + workers) on one state database and queue prefix; a PENDING write per request, its expiry job and its channel message counted after the run',
  };
  console.log(JSON.stringify({ summary: results.map((r) => ({ gateway: r.gateway, processes: r.processes, perSecond: r.submissionsPerSecond, ok: r.ok })), twoOverOne: result.twoOverOne, thisOverOld: result.thisOverOld }));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/throughput.json', JSON.stringify(result, null, 2) + '\n');
  if (results.some((r) => !r.ok)) {
    console.error('LOST OR DOUBLED: see "problems" above');
    process.exitCode = 1;
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
