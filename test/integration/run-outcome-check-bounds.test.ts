// The outcome check of a stopped run is bounded on this side: a target host that vanishes in the
// middle of it (packets black-holed after the connection is made, as a crashed host or a partition
// does) gives "not asked yet" within the bound instead of holding the sweep for TCP's ~15 minutes.
// And a target that refuses to stop another role's session still tells how its transaction ended.
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlExecutor } from '../../src/execution/index.js';
import { mysqlOutcome } from '../../src/execution/outcome-mysql.js';
import { postgresOutcome } from '../../src/execution/outcome-postgres.js';
import type { RunOutcome, TargetSession } from '../../src/execution/types.js';
import { createTargetDatabase, MYSQL_URL, uniqueName } from '../helpers/databases.js';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A proxy to 127.0.0.1:`port` whose connections go silent (nothing forwarded, nothing closed) once the client sends `marker`. */
async function freezingProxy(port: number, marker: string): Promise<{ url: (url: string) => string; frozen: () => boolean }> {
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const up = net.connect(port, '127.0.0.1');
    sockets.add(client).add(up);
    client.on('data', (d) => {
      if (d.includes(Buffer.from(marker))) frozen = true;
      if (!frozen) up.write(d);
    });
    up.on('data', (d) => {
      if (!frozen) client.write(d);
    });
    client.on('error', () => {});
    up.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const own = (server.address() as net.AddressInfo).port;
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return {
    url(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(own);
      return u.toString();
    },
    frozen: () => frozen,
  };
}

/** The outcome, or 'still waiting' past `ms`. */
async function within(ms: number, check: Promise<RunOutcome>): Promise<{ outcome: RunOutcome | 'still waiting'; ms: number }> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([check, new Promise<'still waiting'>((r) => (timer = setTimeout(() => r('still waiting'), ms)))]);
  clearTimeout(timer);
  return { outcome, ms: Date.now() - t0 };
}

let target: Awaited<ReturnType<typeof createTargetDatabase>>;
beforeAll(async () => {
  target = await createTargetDatabase();
  cleanups.push(() => target.drop());
});

const SESSION: TargetSession = { mode: 'transaction', pid: '999999', start: '2000-01-01T00:00:00.000000Z', xid: '1' };

// The describes run at once too: each test has a proxy, a session and a check of its own (the
// PostgreSQL ones mostly wait out their bounds).
describe.concurrent('a PostgreSQL target that goes silent during the check', () => {
  for (const marker of ['pg_stat_activity', 'pg_terminate_backend', 'txid_status']) {
    it.concurrent(`answers "not asked yet" within its bound when the query with ${marker} is never answered`, async () => {
      const proxy = await freezingProxy(Number(new URL(target.url).port || 5432), marker);
      // A session that is there and stopped, so the check gets as far as each query.
      const victim = new pg.Client({ connectionString: target.url });
      victim.on('error', () => {});
      await victim.connect();
      const { rows } = await victim.query(`BEGIN; SELECT pg_backend_pid()::text AS pid, to_char(backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS start, txid_current()::text AS xid FROM pg_stat_activity WHERE pid = pg_backend_pid()`).then((r) => (Array.isArray(r) ? r[1] : r));
      const session: TargetSession = marker === 'pg_stat_activity' ? SESSION : { mode: 'transaction', ...rows[0] };
      const { outcome, ms } = await within(8_000, postgresOutcome(proxy.url(target.url), session, { queryTimeoutMs: 1_000, withinMs: 3_000 }));
      await victim.end().catch(() => {});
      expect(proxy.frozen()).toBe(true);
      expect(outcome).toMatchObject({ kind: 'unknown', final: false });
      expect(ms).toBeLessThan(4_500);
    }, 20_000);
  }

  it.concurrent('is bounded by the whole check too, whatever each query may take', async () => {
    const proxy = await freezingProxy(Number(new URL(target.url).port || 5432), 'pg_stat_activity');
    const { outcome, ms } = await within(8_000, postgresOutcome(proxy.url(target.url), SESSION, { queryTimeoutMs: 60_000, withinMs: 2_000 }));
    expect(outcome).toMatchObject({ kind: 'unknown', final: false });
    expect(outcome !== 'still waiting' && outcome.kind === 'unknown' && outcome.reason).toMatch(/did not answer the check within 2 s/);
    expect(ms).toBeLessThan(3_500);
  }, 20_000);

  it.concurrent("through the gateway's executor (what the sweep and a run's own check use), with its default bounds", async () => {
    const proxy = await freezingProxy(Number(new URL(target.url).port || 5432), 'pg_stat_activity');
    const executor = createSqlExecutor({ limits: { max: 2, maxWaiting: 2, waitMs: 1000 } });
    cleanups.push(() => executor.close());
    const { outcome, ms } = await within(16_000, executor.outcome({ name: 'vanished', url: proxy.url(target.url) }, SESSION));
    expect(outcome).toMatchObject({ kind: 'unknown', final: false });
    // Each query's bound is 10 s.
    expect(ms).toBeLessThan(12_000);
  }, 30_000);
});

describe.concurrent('a MySQL target that goes silent during the check', () => {
  for (const marker of ['Uptime', 'PROCESSLIST', 'KILL']) {
    it.concurrent(`answers "not asked yet" within its bound when the query with ${marker} is never answered`, async () => {
      const proxy = await freezingProxy(Number(new URL(MYSQL_URL).port || 3306), marker);
      const mysql = (await import('mysql2/promise')).default;
      const victim = await mysql.createConnection({ uri: MYSQL_URL });
      victim.on('error', () => {});
      const [[id]] = (await victim.query({ sql: 'SELECT CONNECTION_ID()', rowsAsArray: true })) as unknown as [[[number]]];
      const [[row]] = (await victim.query({ sql: "SELECT UNIX_TIMESTAMP() - VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'", rowsAsArray: true })) as unknown as [[[number]]];
      const session: TargetSession = { mode: 'session', pid: String(id[0]), start: String(Math.floor(Number(row[0]))) };
      const { outcome, ms } = await within(8_000, mysqlOutcome(proxy.url(MYSQL_URL), session, { queryTimeoutMs: 1_000, withinMs: 3_000 }));
      victim.destroy();
      expect(proxy.frozen()).toBe(true);
      expect(outcome).toMatchObject({ kind: 'unknown', final: false });
      expect(ms).toBeLessThan(4_500);
    }, 20_000);
  }
});

describe.concurrent("a PostgreSQL target that refuses to stop the run's session (42501: another role's, a superuser's)", () => {
  let limitedUrl: string;
  beforeAll(async () => {
    // A monitoring role: it sees every session (pg_read_all_stats) but may not stop a superuser's.
    const role = uniqueName('monitor');
    await target.query(`CREATE ROLE ${role} LOGIN; GRANT pg_read_all_stats TO ${role}`);
    cleanups.push(() => target.query(`DROP ROLE IF EXISTS ${role}`));
    const u = new URL(target.url);
    u.username = role;
    limitedUrl = u.toString();
  });

  /** A superuser session whose transaction is left as `end` says, still connected. */
  async function sessionThat(end: 'COMMIT' | 'ROLLBACK' | null): Promise<{ session: TargetSession; close: () => Promise<void> }> {
    const c = new pg.Client({ connectionString: target.url });
    c.on('error', () => {});
    await c.connect();
    await c.query('BEGIN');
    const { rows } = await c.query(`SELECT pg_backend_pid()::text AS pid, to_char(backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS start, txid_current()::text AS xid FROM pg_stat_activity WHERE pid = pg_backend_pid()`);
    if (end) await c.query(end);
    return { session: { mode: 'transaction', ...rows[0] }, close: () => c.end().catch(() => {}) };
  }

  for (const [end, expected] of [
    ['COMMIT', { kind: 'committed', stopped: false }],
    ['ROLLBACK', { kind: 'aborted', stopped: false }],
  ] as const) {
    it(`still says ${expected.kind} when the transaction ${end === 'COMMIT' ? 'committed' : 'was rolled back'}`, async () => {
      const s = await sessionThat(end);
      try {
        expect(await postgresOutcome(limitedUrl, s.session)).toEqual(expected);
      } finally {
        await s.close();
      }
    });
  }

  it('asks again later (not final) while the transaction is in progress, saying the session could not be stopped', async () => {
    const s = await sessionThat(null);
    try {
      const outcome = await postgresOutcome(limitedUrl, s.session);
      expect(outcome).toMatchObject({ kind: 'unknown', final: false, stopped: false });
      expect(outcome.kind === 'unknown' && outcome.reason).toBe(`transaction ${s.session.xid} is still in progress on the target, and the target refused to stop its session ${s.session.pid} (the gateway's role needs pg_signal_backend or to be the session's role)`);
    } finally {
      await s.close();
    }
  });

  it('asks again later for a session-only run, saying the session could not be stopped', async () => {
    const s = await sessionThat('COMMIT');
    try {
      const outcome = await postgresOutcome(limitedUrl, { mode: 'session', pid: s.session.pid, start: s.session.start });
      expect(outcome).toMatchObject({ kind: 'unknown', final: false, stopped: false });
      expect(outcome.kind === 'unknown' && outcome.reason).toMatch(/refused to stop its session/);
    } finally {
      await s.close();
    }
  });
});
