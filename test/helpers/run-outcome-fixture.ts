// What the tests of run outcomes share: an in-process gateway without workers (approved reviews
// are run by a child process, or directly, and swept by hand), a target reached directly and
// through a TCP proxy, and helpers to run, kill and inspect.
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import { createMysqlTarget, createTargetDatabase } from './databases.js';
import { eventually, startTestGateway, type TestGateway } from './gateway.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ChildRun {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

export interface OutcomeFixture {
  t: TestGateway;
  target: { url: string; query: (sql: string) => Promise<any[]> };
  proxy: TcpProxy;
  /** An approved review of `input` on `connection`, not run yet (no worker takes its job). */
  approved(input: string, connection?: string): Promise<string>;
  /** A worker process running the review (the review service's executeReview), one we can kill -9. */
  runInChild(reviewId: string): ChildRun;
  kill9(run: ChildRun): Promise<void>;
  /** The pid of the target backend whose query is LIKE `like`, once it runs. */
  activeOnTarget(like: string): Promise<number>;
  review(id: string): ReturnType<TestGateway['gateway']['db']['review']['findUniqueOrThrow']>;
  /** Rows of the target's table t with value v. */
  rowsOf(v: number): Promise<number>;
  /** The sweep of a process that starts `ms` later: every heartbeat looks stale. */
  sweepLater(ms?: number): Promise<{ failed: number }>;
  /** Runs SQL on the state database (to lock a row, or plant a trigger that makes a write fail). */
  onState<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

/** Starts the fixture on a PostgreSQL target (connections prod-db and proxied-db) or a MySQL one (connection mysql-db). */
/**
 * Starts the fixture before the file's tests and stops it after them; `use` receives it once started.
 */
export function useOutcomeFixture(use: (f: OutcomeFixture) => void, dialect: 'postgres' | 'mysql' = 'postgres'): void {
  let f: OutcomeFixture | undefined;
  beforeAll(async () => {
    f = await startOutcomeFixture(dialect);
    use(f);
  }, 60_000);
  afterAll(async () => {
    await f?.stop();
  });
}

/**
 * Starts `n` fixtures at once before the file's tests and stops them after: a test that sweeps every
 * stale run of its gateway, or checks every session of its target, can run beside another only on
 * a fixture of its own.
 */
export function useOutcomeFixtures(n: number, use: (f: OutcomeFixture[]) => void, dialect: 'postgres' | 'mysql' = 'postgres'): void {
  let fs: OutcomeFixture[] = [];
  beforeAll(async () => {
    const started = await Promise.allSettled(Array.from({ length: n }, () => startOutcomeFixture(dialect)));
    fs = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    use(fs);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(fs.map((f) => f.stop()));
  });
}

export async function startOutcomeFixture(dialect: 'postgres' | 'mysql' = 'postgres'): Promise<OutcomeFixture> {
  const db = dialect === 'postgres' ? await createTargetDatabase() : await createMysqlTarget();
  await db.query('CREATE TABLE t (v int NOT NULL)');
  const proxy = await startTcpProxy(Number(new URL(db.url).port || 5432));
  const t = await startTestGateway({ slack: false, workers: false });
  const alice = await t.createUser('alice@example.com', ['developers']);
  const dana = await t.createUser('dana@example.com', ['dba-team']);
  const viaProxy = new URL(db.url);
  viaProxy.port = String(proxy.port);
  const connections = dialect === 'postgres' ? [['prod-db', db.url], ['proxied-db', viaProxy.toString()]] : [['mysql-db', db.url]];
  for (const [name, url] of connections) {
    const res = await t.api('POST', '/api/connections', { body: { name, url, reviewers: ['dba-team'], reviewMode: 'all' } });
    expect(res.status).toBe(201);
  }
  const activity = dialect === 'postgres'
    ? (like: string) => `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE '${like}' AND pid <> pg_backend_pid()`
    : (like: string) => `SELECT ID AS pid FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND INFO LIKE '${like}' AND ID <> CONNECTION_ID()`;

  const f: OutcomeFixture = {
    t,
    target: db,
    proxy,
    async approved(input, connection = dialect === 'postgres' ? 'prod-db' : 'mysql-db') {
      const r = await t.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input } });
      expect(r.status).toBe(201);
      const a = await t.api('PUT', `/api/reviews/${r.body.id}/approve`, { key: dana.apiKey });
      expect(a.status).toBe(200);
      expect(a.body.status).toBe('APPROVED');
      return r.body.id;
    },
    runInChild(reviewId) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/execute-review-child.ts', reviewId], { env: { ...process.env, ...t.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { child, exited, output: () => out };
    },
    async kill9(run) {
      run.child.kill('SIGKILL');
      await run.exited;
    },
    activeOnTarget(like) {
      return eventually(async () => (await db.query(activity(like)))[0]?.pid as number | undefined, 20_000, `a target session running ${like}`);
    },
    review: (id) => t.gateway.db.review.findUniqueOrThrow({ where: { id } }),
    rowsOf: async (v) => Number((await db.query(`SELECT count(*) AS n FROM t WHERE v = ${v}`))[0].n),
    sweepLater: (ms = 120_000) => t.gateway.reviews.sweep({ now: new Date(Date.now() + ms) }),
    async onState(sql, params = []) {
      // Tests running at once put triggers on "Review" and drop them while their runs write to it:
      // that DDL can deadlock (40P01, seen once in CI). The statement rolled back whole; make it again.
      for (let attempt = 1; ; attempt++) {
        const c = new pg.Client({ connectionString: t.databaseUrl });
        await c.connect();
        try {
          return (await c.query(sql, params)).rows;
        } catch (error) {
          if ((error as { code?: string }).code !== '40P01' || attempt >= 5) throw error;
        } finally {
          await c.end();
        }
      }
    },
    async stop() {
      await t.stop();
      await proxy.close().catch(() => {});
      await db.drop();
    },
  };
  return f;
}
