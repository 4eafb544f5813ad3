// The gateway's own PostgreSQL drops connections (pg_terminate_backend, a failover, a restart):
// the process keeps running and serving, every request in flight either succeeds and says so or
// gets a retryable 503 and changed nothing, and a request that did happen is never answered with
// an error. The gateway runs as a child process, as in production: an unhandled 'error' event
// would end it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlTarget, createStateDatabase, createTargetDatabase, MYSQL_URL, REDIS_URL, uniqueName } from '../helpers/databases.js';
import { ADMIN_KEY, deleteQueues } from '../helpers/gateway.js';

const ROUNDS = 4;
const SUBMITS_PER_ROUND = 16;
/** Requests of a round start at random within this many ms; the killer strikes every KILL_EVERY_MS. */
const BURST_MS = 600;
const KILL_EVERY_MS = 80;
/** The test's own sessions on the state database: the killer spares them. */
const CHECKER = 'hoop-test-checker';

interface Answer {
  kind: 'submit' | 'approve';
  status: number | 'reset';
  retryAfter: string | null;
  body: any;
  marker: string;
  reviewId?: string;
}

let state: Awaited<ReturnType<typeof createStateDatabase>>;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let mysqlTarget: Awaited<ReturnType<typeof createMysqlTarget>>;
let child: ChildProcess;
let exited: { code: number | null; signal: string | null } | null = null;
const output: string[] = [];
let baseUrl: string;
let checker: pg.Client;
let databaseName: string;
const prefix = uniqueName('pgdrop');
let alice: string;
let dana: string;

function keep(line: string) {
  if (process.env.PGDROP_LOG) appendFileSync(process.env.PGDROP_LOG, line + '\n');
  output.push(line);
  if (output.length > 400) output.shift();
}

/** What the child printed last (its crash, when it crashed). */
const tail = () => output.slice(-40).join('\n');

async function startChild(): Promise<void> {
  child = spawn(process.execPath, ['bin/gateway.mjs'], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: state.url,
      REDIS_URL,
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_API_KEY: ADMIN_KEY,
      ADMIN_EMAIL: 'root@example.com',
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'info',
      RATE_LIMIT_SUBMITS: '100000',
      RATE_LIMIT_AUTH_FAILURES_PER_IP: '100000',
      RATE_LIMIT_AUTH_FAILURES_PER_KEY: '100000',
      DATABASE_POOL_SIZE: '6',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  createInterface({ input: child.stderr! }).on('line', keep);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not start:\n${tail()}`)), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'gateway listening' && entry.port) {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        // not a log line
      }
    });
    child.once('exit', () => reject(new Error(`the gateway exited at start:\n${tail()}`)));
  });
  baseUrl = `http://127.0.0.1:${port}`;
}

async function call(method: string, path: string, key: string, body?: unknown): Promise<{ status: number | 'reset'; retryAfter: string | null; body: any }> {
  try {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // kept as text
    }
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: parsed };
  } catch (error) {
    return { status: 'reset', retryAfter: null, body: String(error) };
  }
}

/** Terminates every session of the state database but the test's own, until `stop` resolves; returns how many rounds ran. */
async function terminateUntil(stop: Promise<unknown>, everyMs: number): Promise<{ rounds: number; killed: number }> {
  let done = false;
  void stop.finally(() => {
    done = true;
  });
  let rounds = 0;
  let killed = 0;
  const killer = new pg.Client({ connectionString: state.url.replace(/\/[^/]*$/, '/postgres'), application_name: CHECKER });
  await killer.connect();
  try {
    while (!done) {
      const r = await killer.query(
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> $2`,
        [databaseName, CHECKER],
      );
      rounds++;
      killed += r.rows[0].n;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  } finally {
    await killer.end();
  }
  return { rounds, killed };
}

async function submit(marker: string): Promise<Answer> {
  const r = await call('POST', '/api/connections/prod-db/exec', alice, { input: `UPDATE users SET status = 'x' WHERE id = 1`, reason: marker });
  return { kind: 'submit', marker, ...r, reviewId: typeof r.status === 'number' && r.status === 201 ? r.body.id : undefined };
}

async function approve(reviewId: string): Promise<Answer> {
  const r = await call('PUT', `/api/reviews/${reviewId}/approve`, dana, {});
  return { kind: 'approve', marker: reviewId, reviewId, ...r };
}

/** Submits until one succeeds (outside any fault), for the pending reviews each round approves. */
async function pendingReview(marker: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const a = await submit(marker);
    if (a.status === 201) return a.reviewId!;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`could not create a review:\n${tail()}`);
}

beforeAll(async () => {
  state = await createStateDatabase();
  target = await createTargetDatabase();
  mysqlTarget = await createMysqlTarget();
  databaseName = new URL(state.url).pathname.slice(1);
  checker = new pg.Client({ connectionString: state.url, application_name: CHECKER });
  await checker.connect();
  await startChild();
  const make = async (email: string, groups: string[]) => {
    const r = await call('POST', '/api/users', ADMIN_KEY, { email, groups });
    if (r.status !== 201) throw new Error(`createUser: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.apiKey as string;
  };
  alice = await make('alice@example.com', ['developers']);
  dana = await make('dana@example.com', ['dba-team']);
  const connections = [
    { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' },
    // Reads run at once on pooled connections; with reviewMode none, every command runs at once on its own connection.
    { name: 'pg-reads', url: target.url, reviewers: ['dba-team'], reviewMode: 'writes' },
    { name: 'pg-direct', url: target.url, reviewers: ['dba-team'], reviewMode: 'none' },
    { name: 'my-reads', url: mysqlTarget.url, reviewers: ['dba-team'], reviewMode: 'writes' },
    { name: 'my-direct', url: mysqlTarget.url, reviewers: ['dba-team'], reviewMode: 'none' },
  ];
  for (const body of connections) {
    const c = await call('POST', '/api/connections', ADMIN_KEY, body);
    if (c.status !== 201) throw new Error(`connection: ${c.status} ${JSON.stringify(c.body)}`);
  }
}, 60_000);

afterAll(async () => {
  if (child && exited === null) {
    child.kill('SIGKILL');
    await once(child, 'exit').catch(() => {});
  }
  await checker?.end().catch(() => {});
  await state?.drop();
  await target?.drop();
  await mysqlTarget?.drop();
  await deleteQueues(prefix);
});

describe('the state database drops connections during a burst of submits and approvals', () => {
  const answers: Answer[] = [];
  const figures = { terminateRounds: 0, sessionsKilled: 0, recoveryMs: [] as number[] };

  it('the gateway process survives every round and serves again by itself', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const pending = await Promise.all(Array.from({ length: SUBMITS_PER_ROUND }, (_, i) => pendingReview(`pending-${round}-${i}`)));
      // Spread over the burst, so some requests meet a fault at each step (connect, query, commit,
      // read-back) and some meet none.
      const later = <T>(fn: () => Promise<T>) => new Promise((resolve) => setTimeout(resolve, Math.random() * BURST_MS)).then(fn);
      const burst = Promise.all([
        ...Array.from({ length: SUBMITS_PER_ROUND }, (_, i) => later(() => submit(`burst-${round}-${i}-${uniqueName('m')}`))),
        ...pending.map((id) => later(() => approve(id))),
      ]);
      const [got, killed] = await Promise.all([burst, terminateUntil(burst, KILL_EVERY_MS)]);
      answers.push(...got);
      figures.terminateRounds += killed.rounds;
      figures.sessionsKilled += killed.killed;
      // Served again: an authenticated read (it reads the state database) answers 200.
      const from = Date.now();
      let me = await call('GET', '/api/me', alice);
      while (me.status !== 200 && exited === null && Date.now() - from < 10_000) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        me = await call('GET', '/api/me', alice);
      }
      figures.recoveryMs.push(Date.now() - from);
      expect(exited, `the gateway died in round ${round + 1}:\n${tail()}`).toBeNull();
      expect(me.status).toBe(200);
    }
    console.log(`state-db-drop: ${ROUNDS} rounds, ${figures.terminateRounds} terminate rounds, ${figures.sessionsKilled} sessions killed, ` +
      `answers ${JSON.stringify(countBy(answers))}, serving again after ${JSON.stringify(figures.recoveryMs)} ms`);
    // The faults did reach requests in flight (otherwise this test proves nothing).
    expect(figures.sessionsKilled).toBeGreaterThan(ROUNDS * 5);
  }, 120_000);

  it('answers no 500 and no reset: each request succeeded or got a retryable 503', () => {
    expect(answers.length).toBe(ROUNDS * SUBMITS_PER_ROUND * 2);
    const wrong = answers.filter((a) => !(a.status === 503 && Number(a.retryAfter) > 0) && !(a.kind === 'submit' ? a.status === 201 : a.status === 200));
    expect(wrong.map((a) => ({ kind: a.kind, status: a.status, body: a.body }))).toEqual([]);
  });

  it('a success answer matches the database, and a 503 changed nothing', async () => {
    const reviews = (await checker.query(`SELECT r.id, r.reason, r.status, g.status AS group_status FROM "Review" r JOIN "ReviewGroup" g ON g."reviewId" = r.id`)).rows as {
      id: string;
      reason: string;
      status: string;
      group_status: string;
    }[];
    const byReason = new Map(reviews.map((r) => [r.reason, r]));
    const byId = new Map(reviews.map((r) => [r.id, r]));
    const mismatches: unknown[] = [];
    for (const a of answers) {
      if (a.kind === 'submit') {
        const row = byReason.get(a.marker);
        if (a.status === 201 && (!row || row.id !== a.reviewId)) mismatches.push({ ...a, row, why: 'answered created, but no such review' });
        if (a.status !== 201 && row) mismatches.push({ ...a, row, why: 'answered an error, but the review exists' });
      } else {
        const row = byId.get(a.reviewId!);
        const decided = row?.group_status === 'APPROVED';
        if (a.status === 200 && !decided) mismatches.push({ ...a, row, why: 'answered approved, but the group is not' });
        if (a.status !== 200 && decided) mismatches.push({ ...a, row, why: 'answered an error, but the approval was recorded' });
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('takes and approves a request normally afterwards', async () => {
    const a = await submit('after-the-fault');
    expect(a.status).toBe(201);
    const b = await approve(a.reviewId!);
    expect(b.status).toBe(200);
    expect(['APPROVED', 'RUNNING', 'EXECUTED']).toContain(b.body.status);
  });
});

describe('the targets drop connections during a burst of commands that run at once', () => {
  /** Ends every session of both targets but the killer's own, until `stop` resolves. */
  async function killTargetsUntil(stop: Promise<unknown>): Promise<number> {
    let done = false;
    void stop.finally(() => {
      done = true;
    });
    const mysql = await import('mysql2/promise');
    const pgKiller = new pg.Client({ connectionString: target.url.replace(/\/[^/]*$/, '/postgres') });
    await pgKiller.connect();
    const myKiller = await mysql.createConnection({ uri: MYSQL_URL });
    const pgName = new URL(target.url).pathname.slice(1);
    const myName = new URL(mysqlTarget.url).pathname.slice(1);
    let killed = 0;
    try {
      while (!done) {
        killed += (await pgKiller.query(`SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [pgName])).rows[0].n;
        const [rows] = (await myKiller.query('SELECT id FROM information_schema.PROCESSLIST WHERE db = ? AND id <> CONNECTION_ID()', [myName])) as unknown as [{ id: number }[]];
        for (const { id } of rows) {
          await myKiller.query(`KILL ${Number(id)}`).then(() => killed++, () => {});
        }
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    } finally {
      await pgKiller.end();
      await myKiller.end();
    }
    return killed;
  }

  it('the gateway survives, answers each command 201 (run, failed as the target said, or a read held for review) or 503, never hangs, and runs commands afterwards', async () => {
    const names = ['pg-reads', 'pg-direct', 'my-reads', 'my-direct'];
    const statuses: Record<string, number> = {};
    let killed = 0;
    for (let round = 0; round < 3; round++) {
      const later = <T>(fn: () => Promise<T>) => new Promise((resolve) => setTimeout(resolve, Math.random() * 400)).then(fn);
      const burst = Promise.all(
        names.flatMap((name) =>
          Array.from({ length: 6 }, (_, i) =>
            later(async () => {
              const started = Date.now();
              const r = await call('POST', `/api/connections/${name}/exec`, alice, { input: i % 2 ? 'SELECT * FROM users' : 'SELECT count(*) FROM users', reason: `targets-${round}` });
              if (process.env.PGDROP_LOG) appendFileSync(process.env.PGDROP_LOG, `ANSWER ${name} ${r.status} ${r.body?.status} ${Date.now() - started}ms ${JSON.stringify(r.body).slice(0, 300)}\n`);
              return r;
            }),
          ),
        ),
      );
      const [got, n] = await Promise.all([burst, killTargetsUntil(burst)]);
      killed += n;
      expect(exited, `the gateway died in round ${round + 1} of the target faults:\n${tail()}`).toBeNull();
      for (const [i, r] of got.entries()) {
        const key = `${names[Math.floor(i / 6)]} ${r.status}${r.status === 201 ? ` ${r.body.status}` : ''}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
    }
    console.log(`state-db-drop, targets: ${killed} target sessions killed, answers ${JSON.stringify(statuses)}`);
    expect(killed).toBeGreaterThan(3);
    // Run, or failed as the target said; a read the target's catalog could not vet is held for review.
    const allowed = (k: string) => /^\S+ (?:201 (?:EXECUTED|FAILED)|503)$/.test(k) || /^\S+-reads 201 PENDING$/.test(k);
    expect(Object.keys(statuses).filter((k) => !allowed(k))).toEqual([]);
    // Afterwards: the sessions the last strike ended have closed; nothing is restarted.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const name of names) {
      const r = await call('POST', `/api/connections/${name}/exec`, alice, { input: 'SELECT count(*) FROM users', reason: 'after the target faults' });
      expect([r.status, r.body.status], name).toEqual([201, 'EXECUTED']);
    }
  }, 60_000);
});

function countBy(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of answers) counts[`${a.kind} ${a.status}`] = (counts[`${a.kind} ${a.status}`] ?? 0) + 1;
  return counts;
}
