// The outcome of an approved PostgreSQL run that lost its process or its connection, asked of the
// target instead of guessed. The run opens an explicit transaction and records its id
// (txid_current()) with the backend's pid and backend_start before the input is sent; afterwards
// the backend is stopped (so nothing commits after we answered) and txid_status tells whether the
// transaction committed. Statements that cannot run in a transaction block run outside one: then
// only the session is known, and the outcome is reported unknown.
import pg from 'pg';
import { withTimeout } from '../with-timeout.js';
import type { ClassifiedStatement } from '../sql/types.js';
import type { RunOutcome, TargetSession } from './types.js';

// Exact text: a JS Date would drop the microseconds that tell a session from a later one with the same pid.
const BACKEND_START = `to_char(backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const SAME_SESSION = `pid = $1::int AND ${BACKEND_START} = $2`;

// Statements that end, nest or outlive the gateway's transaction (psql -c runs them as they are),
// and procedures, which may COMMIT themselves (not allowed inside an explicit transaction block).
const OWN_TRANSACTION_CONTROL = new Set(['BEGIN', 'START', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE', 'ROLLBACK TO', 'PREPARE', 'COMMIT PREPARED', 'ROLLBACK PREPARED', 'CALL', 'UNKNOWN']);

/**
 * Whether an approved input can run in the gateway's own explicit transaction and keep psql -c's
 * meaning: not when it controls transactions itself, calls a procedure, runs a DO block that
 * commits, or did not parse. (VACUUM, CREATE INDEX CONCURRENTLY and the like are found when the
 * server refuses them with 25001, before they do anything.)
 */
export function runsInTransaction(statements: readonly ClassifiedStatement[]): boolean {
  return statements.every((s) => !OWN_TRANSACTION_CONTROL.has(s.command) && !(s.command === 'DO' && /\b(?:COMMIT|ROLLBACK)\b/i.test(s.statement)));
}

/** Opens the run's transaction (in `transaction` mode) and says which session and transaction will run the input. */
export async function openTracked(client: pg.ClientBase, mode: TargetSession['mode']): Promise<TargetSession> {
  if (mode === 'transaction') await client.query('BEGIN');
  const xid = mode === 'transaction' ? ', txid_current()::text AS xid' : '';
  const { rows } = await client.query<{ pid: string; start: string; xid?: string }>(`SELECT pid::text AS pid, ${BACKEND_START} AS start${xid} FROM pg_stat_activity WHERE pid = pg_backend_pid()`);
  const row = rows[0];
  if (!row) throw new Error('the target does not show its own session in pg_stat_activity');
  return { mode, pid: row.pid, start: row.start, ...(row.xid ? { xid: row.xid } : {}) };
}

/** A lost connection (no SQLSTATE, connection exception 08xxx, or the server shutting the session 57P0x): the fate of what was sent is unknown to this side. */
export function isConnectionLoss(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  const sqlstate = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  return !sqlstate || sqlstate.startsWith('08') || sqlstate.startsWith('57P');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface OutcomeAskOptions {
  connectTimeoutMs?: number;
  /** How long to wait for a stopped backend to be gone. */
  goneWithinMs?: number;
  /** Each query's bound on this side (a host that vanishes mid-check never answers; statement_timeout is the server's). */
  queryTimeoutMs?: number;
  /** The whole check's bound: past it the answer is "could not be asked yet" (final false). */
  withinMs?: number;
}

/** The default bound of one outcome check: connecting, stopping the session, waiting for it to end, asking. */
export const OUTCOME_CHECK_MS = 30_000;

/** An answer that says "ask again later", for a check that could not finish. */
export function notAskedYet(reason: string, stopped = false): RunOutcome {
  return { kind: 'unknown', final: false, stopped, reason };
}

/** Ends a client without waiting on a connection that no longer answers. */
async function drop(client: pg.Client): Promise<void> {
  await withTimeout(client.end(), 1_000, 'closing the check connection').catch(() => {
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  });
}

/**
 * Stops the recorded backend if it still runs (only when pid AND backend_start match: pids are
 * reused), waits until it is gone, then asks txid_status. One attempt, bounded by `withinMs` (every
 * query by `queryTimeoutMs`); `unknown` with final false means "ask again later".
 */
export async function postgresOutcome(url: string, session: TargetSession, opts: OutcomeAskOptions = {}): Promise<RunOutcome> {
  const queryTimeoutMs = opts.queryTimeoutMs ?? 10_000;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000, application_name: 'hoop-approvals-recovery', statement_timeout: queryTimeoutMs, query_timeout: queryTimeoutMs });
  client.on('error', () => {});
  const withinMs = opts.withinMs ?? OUTCOME_CHECK_MS;
  let stopped = false;
  try {
    return await withTimeout(ask(), withinMs, 'the target');
  } catch (error) {
    return notAskedYet(`the target did not answer the check within ${withinMs / 1000} s (${(error as Error).message})`, stopped);
  } finally {
    await drop(client);
  }

  async function ask(): Promise<RunOutcome> {
    try {
      await client.connect();
    } catch (error) {
      return notAskedYet(`the target could not be reached (${(error as Error).message})`);
    }
    try {
      const found = await client.query(`SELECT 1 FROM pg_stat_activity WHERE ${SAME_SESSION}`, [session.pid, session.start]);
      let refusedStop = false;
      if (found.rows.length > 0) {
        try {
          const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE ${SAME_SESSION}`, [session.pid, session.start]);
          // No row: it ended between the look and the stop. false: the signal could not be sent.
          stopped = rows.length > 0 && rows[0]!.ok;
          refusedStop = rows.length > 0 && !rows[0]!.ok;
        } catch (error) {
          // 42501: not allowed to signal another role's (or a superuser's) session. The transaction's
          // fate is still told by txid_status when it already ended; one in progress is asked again later.
          if ((error as { code?: string }).code !== '42501') throw error;
          refusedStop = true;
        }
      }
      const deadline = Date.now() + (opts.goneWithinMs ?? 5_000);
      while (stopped && (await client.query(`SELECT 1 FROM pg_stat_activity WHERE ${SAME_SESSION}`, [session.pid, session.start])).rows.length > 0) {
        if (Date.now() > deadline) return notAskedYet(`session ${session.pid} was told to stop but has not ended yet`, stopped);
        await sleep(50);
      }
      const refusal = `the target refused to stop its session ${session.pid} (the gateway's role needs pg_signal_backend or to be the session's role)`;
      if (session.mode !== 'transaction' || !session.xid) {
        if (refusedStop) return notAskedYet(refusal, stopped);
        const reason = stopped
          ? `it ran outside a transaction (as statements like VACUUM or CREATE INDEX CONCURRENTLY must), so the target cannot say what it finished; its session ${session.pid} was still running and was stopped`
          : `it ran outside a transaction (as statements like VACUUM or CREATE INDEX CONCURRENTLY must), so the target cannot say whether it finished; its session ${session.pid} had already ended`;
        return { kind: 'unknown', final: true, stopped, reason };
      }
      const { rows } = await client.query<{ status: string | null }>('SELECT txid_status($1::bigint) AS status', [session.xid]);
      const status = rows[0]?.status ?? null;
      if (status === 'committed') return { kind: 'committed', stopped };
      if (status === 'aborted') return { kind: 'aborted', stopped };
      if (status === 'in progress') {
        const why = refusedStop ? `, and ${refusal}` : '';
        return notAskedYet(`transaction ${session.xid} is still in progress on the target${why}`, stopped);
      }
      return { kind: 'unknown', final: true, stopped, reason: `the target no longer knows transaction ${session.xid} (txid_status is null: too old, or from before a restore)` };
    } catch (error) {
      return notAskedYet(`the target answered with an error (${(error as Error).message})`, stopped);
    }
  }
}

/** Asks again (backing off) until the target can tell or `waitMs` has passed; the last answer. */
export async function askUntilKnown(ask: () => Promise<RunOutcome>, waitMs: number): Promise<RunOutcome> {
  const deadline = Date.now() + waitMs;
  let pause = 250;
  for (;;) {
    const outcome = await ask();
    if (outcome.kind !== 'unknown' || outcome.final || Date.now() + pause > deadline) return outcome;
    await sleep(pause);
    pause = Math.min(pause * 2, 5_000);
  }
}
