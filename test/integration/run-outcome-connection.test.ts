// The outcome of an approved PostgreSQL command whose own connection to the target drops, or whose
// target cannot be reached after its process stopped, is what the target says, not a guess; and
// statements that cannot run in a transaction block still run as psql -c runs them.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/gateway.js';
import { sleep, useOutcomeFixture, type OutcomeFixture } from '../helpers/run-outcome-fixture.js';

let f: OutcomeFixture;
useOutcomeFixture((started) => (f = started));

describe("a run whose own connection to the target drops", () => {
  it('before its COMMIT: the target says rolled back, the review says FAILED with nothing committed, and nothing is', async () => {
    const id = await f.approved('INSERT INTO t VALUES (5)', 'proxied-db');
    f.proxy.cutAt('INSERT 0 1');
    await f.t.gateway.reviews.executeReview(id);
    expect(f.proxy.cut).toBe(true);
    const r = await f.review(id);
    expect(await f.rowsOf(5)).toBe(0);
    expect(r.status).toBe('FAILED');
    expect(r.error).toMatch(/the connection to proxied-db was lost while the command ran .*; the target reports that transaction \d+ was rolled back: nothing was committed/);
    // Its audit event says what the review says: no rows, the error, and the sha256 of the output as stored.
    const events = await f.t.gateway.db.auditEvent.findMany({ where: { reviewId: id, action: 'review.failed' } });
    expect(events).toHaveLength(1);
    const failed = events[0]!;
    expect(failed).toMatchObject({ actor: 'system', source: 'system' });
    expect(failed.detail).toEqual({
      commandTags: [],
      rowsAffected: null,
      error: r.error,
      outputBytes: Buffer.byteLength(r.output!),
      outputTruncated: false,
      outputSha256: createHash('sha256').update(r.output!, 'utf8').digest('hex'),
    });
  }, 30_000);

  it('while it commits: the target says committed, and the review says EXECUTED with its output', async () => {
    const id = await f.approved('SELECT 41 + 1 AS answer; INSERT INTO t VALUES (6)', 'proxied-db');
    f.proxy.cutAt('COMMIT');
    await f.t.gateway.reviews.executeReview(id);
    expect(f.proxy.cut).toBe(true);
    const r = await f.review(id);
    expect(await f.rowsOf(6)).toBe(1);
    expect(r.status).toBe('EXECUTED');
    expect(r.commandTags).toEqual(['SELECT 1', 'INSERT 0 1']);
    expect(r.output).toContain('42');
    expect(r.output).toMatch(/the target reports that transaction \d+ committed\)$/);
  }, 30_000);

  it('when an administrator terminates its backend mid-run: FAILED, and it says nothing was committed', async () => {
    const id = await f.approved('SELECT pg_sleep(2); INSERT INTO t VALUES (7)');
    const running = f.t.gateway.reviews.executeReview(id);
    const pid = await f.activeOnTarget('SELECT pg_sleep(2)%');
    const started = Date.now();
    await f.target.query(`SELECT pg_terminate_backend(${pid})`);
    await running;
    const r = await f.review(id);
    expect(r.status).toBe('FAILED');
    expect(r.error).toMatch(/terminating connection due to administrator command.*transaction \d+ was rolled back: nothing was committed/);
    // Past the moment the INSERT would have committed had the backend run on.
    await sleep(Math.max(0, started + 2_500 - Date.now()));
    expect(await f.rowsOf(7)).toBe(0);
  }, 30_000);
});

describe('a stopped run on a target that cannot be reached', () => {
  it('stays RUNNING while the target cannot be asked, and is settled by what it says once it answers', async () => {
    const id = await f.approved('SELECT pg_sleep(1); INSERT INTO t VALUES (8)', 'proxied-db');
    const run = f.runInChild(id);
    await f.activeOnTarget('SELECT pg_sleep(1)%');
    await f.kill9(run);
    await f.proxy.close();
    try {
      expect((await f.sweepLater()).failed).toBe(0);
      expect((await f.review(id)).status).toBe('RUNNING');
      await sleep(1_500);
    } finally {
      await f.proxy.reopen();
    }
    expect((await f.sweepLater()).failed).toBe(1);
    const r = await f.review(id);
    expect(r.status).toBe('FAILED');
    expect(r.error).toMatch(/transaction \d+ was rolled back.*: nothing was committed/);
    expect(await f.rowsOf(8)).toBe(0);
  }, 30_000);

  it('after the give-up time: FAILED "outcome unknown", naming the target, the transaction and what to check', async () => {
    const id = await f.approved('SELECT pg_sleep(1); INSERT INTO t VALUES (9)', 'proxied-db');
    const run = f.runInChild(id);
    await f.activeOnTarget('SELECT pg_sleep(1)%');
    await f.kill9(run);
    await f.proxy.close();
    try {
      expect((await f.sweepLater(60_000)).failed).toBe(0);
      expect((await f.sweepLater(60 * 60_000)).failed).toBe(1);
    } finally {
      await f.proxy.reopen();
    }
    const r = await f.review(id);
    expect(r.status).toBe('FAILED');
    expect(r.runXid).toMatch(/^\d+$/);
    expect(r.error).toBe(
      `outcome unknown: the gateway stopped while this command ran on proxied-db, and the gateway gave up asking: the target could not be reached (connect ECONNREFUSED 127.0.0.1:${f.proxy.port}). ` +
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
      const id = await f.approved(input);
      await f.t.gateway.reviews.executeReview(id);
      const r = await f.review(id);
      expect({ input, status: r.status, error: r.error, tags: r.commandTags }).toEqual({ input, status: 'EXECUTED', error: null, tags });
      expect(r.runTracking).toBe('session');
      expect(r.runXid).toBeNull();
    }
    // As with psql -c, a multi-statement input cannot hold VACUUM: refused, and the INSERT before it rolled back.
    const id = await f.approved('INSERT INTO t VALUES (11); VACUUM t');
    await f.t.gateway.reviews.executeReview(id);
    const r = await f.review(id);
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('VACUUM cannot run inside a transaction block');
    expect(await f.rowsOf(11)).toBe(0);
    expect(await f.rowsOf(10)).toBe(1);
  }, 30_000);

  it('a stopped session-only run is reported unknown, and its backend is stopped only when pid AND backend_start match', async () => {
    const victim = new pg.Client({ connectionString: f.target.url });
    await victim.connect();
    victim.on('error', () => {});
    const sleeping = victim.query('SELECT pg_sleep(10)').catch((e: Error) => e);
    const [me] = await eventually(async () => {
      const rows = await f.target.query(`SELECT pid::text AS pid, to_char(backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS start FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(10)' AND state = 'active'`);
      return rows.length ? rows : undefined;
    });
    const session = { mode: 'session' as const, pid: me.pid, start: me.start };
    // A later session that reuses the pid has another backend_start: left alone.
    const other = await f.t.gateway.executor.outcome({ name: 'prod-db', url: f.target.url }, { ...session, start: '2000-01-01T00:00:00.000000Z' });
    expect(other).toMatchObject({ kind: 'unknown', final: true, stopped: false });
    expect((await f.target.query(`SELECT 1 FROM pg_stat_activity WHERE pid = ${me.pid}`)).length).toBe(1);
    const outcome = await f.t.gateway.executor.outcome({ name: 'prod-db', url: f.target.url }, session);
    expect(outcome).toMatchObject({ kind: 'unknown', final: true, stopped: true });
    expect(outcome.kind === 'unknown' && outcome.reason).toMatch(/ran outside a transaction .* was still running and was stopped/);
    expect(await sleeping).toBeInstanceOf(Error);
    expect(await f.target.query(`SELECT 1 FROM pg_stat_activity WHERE pid = ${me.pid}`)).toEqual([]);
    await victim.end().catch(() => {});
  }, 30_000);
});

