// MySQL/MariaDB keeps no record of a transaction's fate (no txid_status): a stopped run's connection
// is killed if it still runs, so nothing more of it runs after the gateway reported, and the outcome
// is reported unknown, saying what was found. The worker is a real child process killed with -9.
import { describe, expect, it } from 'vitest';
import { sleep, useOutcomeFixture, type OutcomeFixture } from '../helpers/run-outcome-fixture.js';

let f: OutcomeFixture;
useOutcomeFixture((started) => (f = started), 'mysql');

describe('an approved MySQL command whose worker process is killed', () => {
  it('while SLEEP runs: the sweep KILLs its connection, the INSERT never runs, and the review says outcome unknown, killed', async () => {
    const id = await f.approved('SELECT SLEEP(2); INSERT INTO t VALUES (1)');
    const run = f.runInChild(id);
    const pid = await f.activeOnTarget('%SLEEP(2)%');
    const started = Date.now();
    await f.kill9(run);
    expect((await f.sweepLater()).failed).toBe(1);
    // Past the moment the INSERT would have run had the connection lived on (it does, without the KILL).
    await sleep(Math.max(0, started + 3_000 - Date.now()));
    expect(await f.rowsOf(1)).toBe(0);
    const r = await f.review(id);
    expect(r.status).toBe('FAILED');
    expect(r.runBackendPid).toBe(String(pid));
    expect(r.error).toMatch(new RegExp(`^outcome unknown: the gateway stopped while this command ran on mysql-db, and MySQL cannot say afterwards which statements of a session committed \\(each statement commits on its own\\); its connection ${pid} was still open, busy \\(Query for \\d+ s\\), and was killed, so nothing more of it runs\\. Before submitting it again, check on mysql-db whether its changes are there \\(it ran in session ${pid}\\)\\.$`));
    expect(await f.target.query(`SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ${pid}`)).toEqual([]);
  }, 30_000);

  it('leaves alone a connection with the recorded id on another server start (ids restart with the server)', async () => {
    const id = await f.approved('SELECT SLEEP(1.5); INSERT INTO t VALUES (2)');
    const running = f.t.gateway.reviews.executeReview(id);
    const pid = await f.activeOnTarget('%SLEEP(1.5)%');
    const r = await f.review(id);
    const outcome = await f.t.gateway.executor.outcome({ name: 'mysql-db', url: f.target.url }, { mode: 'session', pid: String(pid), start: String(Number(r.runBackendStart) - 3600) });
    expect(outcome).toMatchObject({ kind: 'unknown', final: true, stopped: false });
    expect(outcome.kind === 'unknown' && outcome.reason).toMatch(/the server restarted since it ran/);
    expect((await running)?.ok).toBe(true);
    expect((await f.review(id)).status).toBe('EXECUTED');
    expect(await f.rowsOf(2)).toBe(1);
  }, 30_000);

  it('after its connection ended: outcome unknown, and it says the connection had already ended', async () => {
    const id = await f.approved('INSERT INTO t VALUES (3)');
    await f.t.gateway.reviews.executeReview(id);
    const r = await f.review(id);
    expect(r.status).toBe('EXECUTED');
    const outcome = await f.t.gateway.executor.outcome({ name: 'mysql-db', url: f.target.url }, { mode: 'session', pid: r.runBackendPid!, start: r.runBackendStart! });
    expect(outcome).toMatchObject({ kind: 'unknown', final: true, stopped: false });
    expect(outcome.kind === 'unknown' && outcome.reason).toMatch(new RegExp(`its connection ${r.runBackendPid} had already ended$`));
  }, 30_000);
});
