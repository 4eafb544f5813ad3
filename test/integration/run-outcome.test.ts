// The outcome of an approved PostgreSQL command is what the target says, not a guess: a worker
// process killed with -9 (a real child process), a state-database write that drops its connection,
// a target connection that drops mid-run, a target that cannot be reached for a while.
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase, uniqueName } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let proxy: TcpProxy;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

beforeAll(async () => {
  target = await createTargetDatabase();
  await target.query('CREATE TABLE t (v int NOT NULL)');
  proxy = await startTcpProxy(Number(new URL(target.url).port || 5432));
  // No workers: approved reviews are run here by a child process (or directly), and swept by hand.
  t = await startTestGateway({ slack: false, workers: false });
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  const viaProxy = new URL(target.url);
  viaProxy.port = String(proxy.port);
  for (const [name, url] of [['prod-db', target.url], ['proxied-db', viaProxy.toString()]]) {
    const res = await t.api('POST', '/api/connections', { body: { name, url, reviewers: ['dba-team'], reviewMode: 'all' } });
    expect(res.status).toBe(201);
  }
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await proxy?.close().catch(() => {});
  await target?.drop();
});

/** An approved review of `input` on `connection`, not run yet (no worker takes its job). */
async function approved(input: string, connection = 'prod-db'): Promise<string> {
  const r = await t.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input } });
  expect(r.status).toBe(201);
  const a = await t.api('PUT', `/api/reviews/${r.body.id}/approve`, { key: dana.apiKey });
  expect(a.status).toBe(200);
  expect(a.body.status).toBe('APPROVED');
  return r.body.id;
}

/** A worker process running the review: the review service's executeReview, in a child we can kill -9. */
function runInChild(reviewId: string): { child: ChildProcess; exited: Promise<number | null>; stdout: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/execute-review-child.ts', reviewId], { env: { ...process.env, ...t.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => out };
}

async function kill9(run: ReturnType<typeof runInChild>): Promise<void> {
  run.child.kill('SIGKILL');
  await run.exited;
}

/** The target backend running `like` (its pid), once it runs. */
async function activeOnTarget(like: string): Promise<number> {
  return eventually(async () => {
    const rows = await target.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE '${like}' AND pid <> pg_backend_pid()`);
    return rows[0]?.pid as number | undefined;
  }, 20_000, `a target backend running ${like}`);
}

const review = (id: string) => t.gateway.db.review.findUniqueOrThrow({ where: { id } });
const rowsOf = async (v: number) => Number((await target.query(`SELECT count(*)::int AS n FROM t WHERE v = ${v}`))[0].n);
/** The sweep of a process that starts later: every heartbeat looks stale. */
const sweepLater = (ms = 120_000) => t.gateway.reviews.sweep({ now: new Date(Date.now() + ms) });

/** Runs SQL on the state database (to lock a row, or plant a trigger that makes a write fail). */
async function onState<T = any>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: t.databaseUrl });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
}

describe('an approved command whose worker process is killed (kill -9 of a child process)', () => {
  it('while pg_sleep runs: the sweep stops its backend, the INSERT never commits, and the review says FAILED, nothing committed', async () => {
    const id = await approved('SELECT pg_sleep(4); INSERT INTO t VALUES (1)');
    const started = Date.now();
    const run = runInChild(id);
    const pid = await activeOnTarget('SELECT pg_sleep(4)%');
    await kill9(run);
    expect((await review(id)).status).toBe('RUNNING');
    expect((await sweepLater()).failed).toBe(1);
    const r = await review(id);
    expect(r.status).toBe('FAILED');
    expect(r.error).toMatch(/transaction \d+ was rolled back; the gateway stopped its session so it could not commit later: nothing was committed/);
    expect(await target.query(`SELECT 1 FROM pg_stat_activity WHERE pid = ${pid}`)).toEqual([]);
    // Past the moment the INSERT would have committed had the backend run on.
    await sleep(Math.max(0, started + 5_000 - Date.now()));
    expect(await rowsOf(1)).toBe(0);
  }, 30_000);

  it('after its commit, before the result was written: the sweep finds it committed and says EXECUTED', async () => {
    const id = await approved('SELECT pg_sleep(1); INSERT INTO t VALUES (2)');
    const run = runInChild(id);
    await activeOnTarget('SELECT pg_sleep(1)%');
    // The result write waits for this lock; the child is killed while it waits.
    const lock = new pg.Client({ connectionString: t.databaseUrl });
    await lock.connect();
    try {
      await lock.query('BEGIN');
      await lock.query('SELECT id FROM "Review" WHERE id = $1 FOR UPDATE', [id]);
      await eventually(async () => (await rowsOf(2)) === 1, 10_000, 'the INSERT to commit');
      await sleep(200);
      await kill9(run);
    } finally {
      await lock.query('ROLLBACK').catch(() => {});
      await lock.end();
    }
    expect((await review(id)).status).toBe('RUNNING');
    expect((await sweepLater()).failed).toBe(1);
    const r = await review(id);
    expect(r.status).toBe('EXECUTED');
    expect(r.error).toBeNull();
    expect(r.output).toMatch(/transaction \d+ committed, so it ran in full\. Its output and row counts were lost/);
    expect(await rowsOf(2)).toBe(1);
  }, 30_000);

  it('before it sent anything (it waits to record its session): FAILED, nothing ran, and it never runs later', async () => {
    const id = await approved('INSERT INTO t VALUES (3)');
    // Recording the session (runTracking leaves "claimed") hangs: the child is killed while it waits.
    const name = uniqueName('slow_record');
    await onState(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.id = '${id}' AND OLD."runTracking" = 'claimed' AND NEW."runTracking" IS DISTINCT FROM 'claimed' THEN PERFORM pg_sleep(30); END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER ${name} BEFORE UPDATE ON "Review" FOR EACH ROW EXECUTE FUNCTION ${name}();`);
    try {
      const run = runInChild(id);
      const asleep = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep' AND query LIKE 'UPDATE%Review%'`;
      await eventually(async () => (await onState(asleep)).length > 0, 20_000, 'the run to wait while recording its session');
      // Its target transaction is open (BEGIN, txid_current()); the input is not sent.
      expect(await target.query(`SELECT state FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'hoop-approvals'`)).toEqual([{ state: 'idle in transaction' }]);
      await kill9(run);
      await onState(`SELECT pg_terminate_backend(pid) FROM (${asleep}) s`);
    } finally {
      await onState(`DROP TRIGGER ${name} ON "Review"; DROP FUNCTION ${name}();`);
    }
    expect((await sweepLater()).failed).toBe(1);
    const r = await review(id);
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('the gateway stopped before the command was sent to the target: nothing ran. You may submit it again.');
    expect(await rowsOf(3)).toBe(0);
  }, 30_000);
});

describe('a run whose result cannot be written at first', () => {
  /** Makes the first write of the review's result (RUNNING → EXECUTED/FAILED) fail as `how` says. */
  async function failFirstFinish(id: string, how: 'drop the connection' | 'raise an error'): Promise<string> {
    const name = uniqueName('fail_finish');
    const act = how === 'drop the connection' ? 'PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5);' : "RAISE EXCEPTION 'the state database refused this write (test)';";
    // nextval is not rolled back with the failed write: only the first attempt fails.
    await onState(`CREATE SEQUENCE ${name};
      CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.id = '${id}' AND OLD.status = 'RUNNING' AND NEW.status <> 'RUNNING' AND nextval('${name}') = 1 THEN ${act} END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER ${name} BEFORE UPDATE ON "Review" FOR EACH ROW EXECUTE FUNCTION ${name}();`);
    return name;
  }

  for (const how of ['drop the connection', 'raise an error'] as const) {
    it(`retries the write when the state database ${how === 'drop the connection' ? 'drops its connection' : 'raises an error'}: EXECUTED, not FAILED`, async () => {
      const id = await approved('SELECT pg_sleep(0.2); INSERT INTO t VALUES (4)');
      const trigger = await failFirstFinish(id, how);
      try {
        const run = runInChild(id);
        await run.exited;
        // The write failed once (the sequence moved past 1) ...
        expect(Number((await onState(`SELECT last_value FROM ${trigger}`))[0].last_value)).toBeGreaterThanOrEqual(2);
        // ... and what a later process's sweep finds is the truth, not "outcome unknown".
        await sweepLater();
        const r = await review(id);
        expect(r.status).toBe('EXECUTED');
        expect(r.commandTags).toEqual(['SELECT 1', 'INSERT 0 1']);
        expect(r.rowsAffected).toBe(1);
        expect(await rowsOf(4)).toBe(1);
      } finally {
        await onState(`DROP TRIGGER ${trigger} ON "Review"; DROP FUNCTION ${trigger}(); DROP SEQUENCE ${trigger};`);
        await target.query('DELETE FROM t WHERE v = 4');
      }
    }, 30_000);
  }
});

describe("a run whose own connection to the target drops", () => {
  it('before its COMMIT: the target says rolled back, the review says FAILED with nothing committed, and nothing is', async () => {
    const id = await approved('INSERT INTO t VALUES (5)', 'proxied-db');
    proxy.cutAt('INSERT 0 1');
    await t.gateway.reviews.executeReview(id);
    expect(proxy.cut).toBe(true);
    const r = await review(id);
    expect(await rowsOf(5)).toBe(0);
    expect(r.status).toBe('FAILED');
    expect(r.error).toMatch(/the connection to proxied-db was lost while the command ran .*; the target reports that transaction \d+ was rolled back: nothing was committed/);
  }, 30_000);

  it('while it commits: the target says committed, and the review says EXECUTED with its output', async () => {
    const id = await approved('SELECT 41 + 1 AS answer; INSERT INTO t VALUES (6)', 'proxied-db');
    proxy.cutAt('COMMIT');
    await t.gateway.reviews.executeReview(id);
    expect(proxy.cut).toBe(true);
    const r = await review(id);
    expect(await rowsOf(6)).toBe(1);
    expect(r.status).toBe('EXECUTED');
    expect(r.commandTags).toEqual(['SELECT 1', 'INSERT 0 1']);
    expect(r.output).toContain('42');
    expect(r.output).toMatch(/the target reports that transaction \d+ committed\)$/);
  }, 30_000);

  it('when an administrator terminates its backend mid-run: FAILED, and it says nothing was committed', async () => {
    const id = await approved('SELECT pg_sleep(3); INSERT INTO t VALUES (7)');
    const running = t.gateway.reviews.executeReview(id);
    const pid = await activeOnTarget('SELECT pg_sleep(3)%');
    await target.query(`SELECT pg_terminate_backend(${pid})`);
    await running;
    const r = await review(id);
    expect(r.status).toBe('FAILED');
    expect(r.error).toMatch(/terminating connection due to administrator command.*transaction \d+ was rolled back: nothing was committed/);
    await sleep(3_000);
    expect(await rowsOf(7)).toBe(0);
  }, 30_000);
});

describe('a stopped run on a target that cannot be reached', () => {
  it('stays RUNNING while the target cannot be asked, and is settled by what it says once it answers', async () => {
    const id = await approved('SELECT pg_sleep(1); INSERT INTO t VALUES (8)', 'proxied-db');
    const run = runInChild(id);
    await activeOnTarget('SELECT pg_sleep(1)%');
    await kill9(run);
    await proxy.close();
    try {
      expect((await sweepLater()).failed).toBe(0);
      expect((await review(id)).status).toBe('RUNNING');
      await sleep(1_500);
    } finally {
      await proxy.reopen();
    }
    expect((await sweepLater()).failed).toBe(1);
    const r = await review(id);
    expect(r.status).toBe('FAILED');
    expect(r.error).toMatch(/transaction \d+ was rolled back.*: nothing was committed/);
    expect(await rowsOf(8)).toBe(0);
  }, 30_000);

  it('after the give-up time: FAILED "outcome unknown", naming the target, the transaction and what to check', async () => {
    const id = await approved('SELECT pg_sleep(1); INSERT INTO t VALUES (9)', 'proxied-db');
    const run = runInChild(id);
    await activeOnTarget('SELECT pg_sleep(1)%');
    await kill9(run);
    await proxy.close();
    try {
      expect((await sweepLater(60_000)).failed).toBe(0);
      expect((await sweepLater(60 * 60_000)).failed).toBe(1);
    } finally {
      await proxy.reopen();
    }
    const r = await review(id);
    expect(r.status).toBe('FAILED');
    expect(r.runXid).toMatch(/^\d+$/);
    expect(r.error).toBe(
      `outcome unknown: the gateway stopped while this command ran on proxied-db, and the gateway gave up asking: the target could not be reached (connect ECONNREFUSED 127.0.0.1:${proxy.port}). ` +
        `Before submitting it again, ask proxied-db: SELECT txid_status(${r.runXid}) says 'committed' if it ran and 'aborted' if nothing was committed (it ran in session ${r.runBackendPid}, started ${r.runBackendStart}).`,
    );
  }, 30_000);
});

describe('statements that cannot run in a transaction block', () => {
  it('run as psql -c runs them (VACUUM, CREATE INDEX CONCURRENTLY, their own BEGIN/COMMIT), their session recorded', async () => {
    for (const [input, tags] of [
      ['VACUUM t', ['VACUUM']],
      ['CREATE INDEX CONCURRENTLY t_v ON t (v)', ['CREATE INDEX']],
      ['BEGIN; INSERT INTO t VALUES (10); COMMIT', ['BEGIN', 'INSERT 0 1', 'COMMIT']],
    ] as const) {
      const id = await approved(input);
      await t.gateway.reviews.executeReview(id);
      const r = await review(id);
      expect({ input, status: r.status, error: r.error, tags: r.commandTags }).toEqual({ input, status: 'EXECUTED', error: null, tags });
      expect(r.runTracking).toBe('session');
      expect(r.runXid).toBeNull();
    }
    // As with psql -c, a multi-statement input cannot hold VACUUM: refused, and the INSERT before it rolled back.
    const id = await approved('INSERT INTO t VALUES (11); VACUUM t');
    await t.gateway.reviews.executeReview(id);
    const r = await review(id);
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('VACUUM cannot run inside a transaction block');
    expect(await rowsOf(11)).toBe(0);
    expect(await rowsOf(10)).toBe(1);
  }, 30_000);

  it('a stopped session-only run is reported unknown, and its backend is stopped only when pid AND backend_start match', async () => {
    const victim = new pg.Client({ connectionString: target.url });
    await victim.connect();
    victim.on('error', () => {});
    const sleeping = victim.query('SELECT pg_sleep(10)').catch((e: Error) => e);
    const [me] = await eventually(async () => {
      const rows = await target.query(`SELECT pid::text AS pid, to_char(backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS start FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(10)' AND state = 'active'`);
      return rows.length ? rows : undefined;
    });
    const session = { mode: 'session' as const, pid: me.pid, start: me.start };
    // A later session that reuses the pid has another backend_start: left alone.
    const other = await t.gateway.executor.outcome({ name: 'prod-db', url: target.url }, { ...session, start: '2000-01-01T00:00:00.000000Z' });
    expect(other).toMatchObject({ kind: 'unknown', final: true, stopped: false });
    expect((await target.query(`SELECT 1 FROM pg_stat_activity WHERE pid = ${me.pid}`)).length).toBe(1);
    const outcome = await t.gateway.executor.outcome({ name: 'prod-db', url: target.url }, session);
    expect(outcome).toMatchObject({ kind: 'unknown', final: true, stopped: true });
    expect(outcome.kind === 'unknown' && outcome.reason).toMatch(/ran outside a transaction .* was still running and was stopped/);
    expect(await sleeping).toBeInstanceOf(Error);
    expect(await target.query(`SELECT 1 FROM pg_stat_activity WHERE pid = ${me.pid}`)).toEqual([]);
    await victim.end().catch(() => {});
  }, 30_000);
});

