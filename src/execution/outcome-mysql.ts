// The closest MySQL/MariaDB equivalent of the PostgreSQL outcome check. An approved input runs as
// one multi-statement text in autocommit mode (each statement commits on its own, DDL always
// does), and MySQL keeps no record of a transaction's fate that can be asked afterwards (no
// txid_status). So the run records its CONNECTION_ID() and the server's start before the input is
// sent; afterwards that connection is killed if it still runs (so nothing more runs after the
// gateway reported), and the outcome is reported unknown: the target cannot tell which statements
// committed.
import mysql from 'mysql2/promise';
import { withTimeout } from '../with-timeout.js';
import type { RunOutcome, TargetSession } from './types.js';

type Conn = mysql.Connection | mysql.PoolConnection;

// Uptime has a resolution of one second, read in a second query: two readings of one server start may differ by that.
const START_TOLERANCE_SEC = 2;

async function serverStart(conn: Conn): Promise<{ now: number; start: number }> {
  const [[row]] = (await conn.query({ sql: 'SELECT UNIX_TIMESTAMP()', rowsAsArray: true })) as unknown as [[[string | number]]];
  const [[status]] = (await conn.query({ sql: "SHOW GLOBAL STATUS LIKE 'Uptime'", rowsAsArray: true })) as unknown as [[[string, string]]];
  const now = Math.floor(Number(row[0]));
  return { now, start: now - Number(status[1]) };
}

/** The connection that will run the input, recorded before it is sent: its id and the server's start. */
export async function openMysqlTracked(conn: Conn): Promise<TargetSession> {
  const [[row]] = (await conn.query({ sql: 'SELECT CONNECTION_ID()', rowsAsArray: true })) as unknown as [[[string | number]]];
  const { start } = await serverStart(conn);
  return { mode: 'session', pid: String(row[0]), start: String(start) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The default bound of one outcome check (connecting, looking, killing, waiting for the end). */
export const MYSQL_OUTCOME_CHECK_MS = 30_000;

/**
 * Kills the recorded connection if it still runs — only when the server is the one it ran on (same
 * start) and the connection belongs to our user — waits until it is gone, and reports the outcome
 * unknown (final) with what was found; `final: false` when the target could not be asked (within
 * `withinMs`, each query within `queryTimeoutMs`: a host that vanishes mid-check never answers).
 */
export async function mysqlOutcome(url: string, session: TargetSession, opts: { connectTimeoutMs?: number; goneWithinMs?: number; queryTimeoutMs?: number; withinMs?: number } = {}): Promise<RunOutcome> {
  const withinMs = opts.withinMs ?? MYSQL_OUTCOME_CHECK_MS;
  const timeout = opts.queryTimeoutMs ?? 10_000;
  let conn: mysql.Connection | undefined;
  let stopped = false;
  let over = false;
  const ask = async (): Promise<RunOutcome> => {
    try {
      conn = await mysql.createConnection({ uri: url, connectTimeout: opts.connectTimeoutMs ?? 5_000 });
    } catch (error) {
      return { kind: 'unknown', final: false, stopped: false, reason: `the target could not be reached (${(error as Error).message})` };
    }
    const c = conn;
    c.on('error', () => {});
    // The check was given up while it connected: nothing closes this connection but us.
    if (over) {
      c.destroy();
      return { kind: 'unknown', final: false, stopped: false, reason: 'the check was given up' };
    }
    const why = 'MySQL cannot say afterwards which statements of a session committed (each statement commits on its own)';
    try {
      const [[row]] = (await c.query({ sql: 'SELECT UNIX_TIMESTAMP()', rowsAsArray: true, timeout })) as unknown as [[[string | number]]];
      const [[status]] = (await c.query({ sql: "SHOW GLOBAL STATUS LIKE 'Uptime'", rowsAsArray: true, timeout })) as unknown as [[[string, string]]];
      const start = Math.floor(Number(row[0])) - Number(status[1]);
      if (Math.abs(start - Number(session.start)) > START_TOLERANCE_SEC) {
        return { kind: 'unknown', final: true, stopped: false, reason: `${why}; the server restarted since it ran, which ended its connection ${session.pid}` };
      }
      const find = "SELECT COMMAND, TIME FROM information_schema.PROCESSLIST WHERE ID = ? AND USER = SUBSTRING_INDEX(USER(), '@', 1)";
      const [rows] = (await c.query({ sql: find, values: [session.pid], rowsAsArray: true, timeout })) as unknown as [[string, number][]];
      const found = rows[0];
      if (!found) return { kind: 'unknown', final: true, stopped: false, reason: `${why}; its connection ${session.pid} had already ended` };
      await c.query({ sql: `KILL ${Number(session.pid)}`, timeout }).catch((error: { errno?: number }) => {
        // 1094: unknown thread — it ended between the look and the kill.
        if (error.errno !== 1094) throw error;
      });
      stopped = true;
      const deadline = Date.now() + (opts.goneWithinMs ?? 5_000);
      while (((await c.query({ sql: find, values: [session.pid], rowsAsArray: true, timeout })) as unknown as [unknown[]])[0].length > 0) {
        if (Date.now() > deadline) return { kind: 'unknown', final: false, stopped: true, reason: `connection ${session.pid} was killed but has not ended yet` };
        await sleep(50);
      }
      const state = found[0] === 'Sleep' ? `idle for ${found[1]} s (the input had finished)` : `busy (${found[0]} for ${found[1]} s)`;
      return { kind: 'unknown', final: true, stopped: true, reason: `${why}; its connection ${session.pid} was still open, ${state}, and was killed, so nothing more of it runs` };
    } catch (error) {
      return { kind: 'unknown', final: false, stopped, reason: `the target answered with an error (${(error as Error).message})` };
    }
  };
  try {
    return await withTimeout(ask(), withinMs, 'the target');
  } catch (error) {
    return { kind: 'unknown', final: false, stopped, reason: `the target did not answer the check within ${withinMs / 1000} s (${(error as Error).message})` };
  } finally {
    over = true;
    const c = conn as mysql.Connection | undefined;
    if (c) await withTimeout(c.end(), 1_000, 'closing the check connection').catch(() => c.destroy());
  }
}
