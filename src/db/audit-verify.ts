// Verifies the audit hash chain: links what is committed first, then has PostgreSQL recompute
// every event's hash and check every link (one pass over each part of the chain, the parts side by
// side, nothing shipped to Node but three numbers a part), and names the first event that was
// changed, removed or inserted: that one and the event before it are read and judged here. It
// reads the rows themselves, so it notices tampering done with the append-only trigger disabled.
// What it cannot notice alone (a rewrite of the whole chain, a cut tail) needs a head kept outside
// the database: `expectHead`.
import type pg from 'pg';
import type { AuditProblem, AuditProblemKind, AuditVerifyReport } from '../contracts/audit.js';
import { eventHash, GENESIS_HASH } from '../core/audit-canonical.js';
import { chainAuditEvents, chainHead, EVENT_FIELDS, SQL_EVENT_HASH, type EventRow } from './audit-chain.js';

export type { AuditProblem, AuditProblemKind, AuditVerifyReport };

/** How many parts of the chain are checked at once (each on its own connection). */
const PARTS = 4;
/** Below this many events the chain is checked in one part. */
const PART_MIN = 50_000;

// One part: the events lo..hi judged, each against the event before it (for lo, the last event
// below lo, read by the window too). The same rules as checkEvent below, in SQL: a row is fine
// only when every comparison is true (a NULL anywhere is not). Functions and operators are
// pg_catalog's, by name (see audit-chain.ts).
const eq = 'OPERATOR(pg_catalog.=)';
const lt = 'OPERATOR(pg_catalog.<)';
const ge = 'OPERATOR(pg_catalog.>=)';
const le = 'OPERATOR(pg_catalog.<=)';
const lag = (col: string) => `pg_catalog.lag(a."${col}") OVER w`;
const PART = `
SELECT pg_catalog.count(*) FILTER (WHERE x.judged)::text AS n,
       pg_catalog.min(x.seq) FILTER (WHERE x.judged AND NOT x.ok)::text AS "firstBad",
       pg_catalog.max(x.seq) FILTER (WHERE x.judged AND x.hash ${eq} $3::text)::text AS "expectedAt"
FROM (
  SELECT a."chainSeq" AS seq, a."hash", a."chainSeq" ${ge} $1::bigint AS judged,
    -- OPERATOR(...) binds all alike, left to right: each comparison's sides are in parentheses.
    (a."chainSeq" ${eq} (coalesce(${lag('chainSeq')}, 0::bigint) OPERATOR(pg_catalog.+) 1::bigint)
      AND a."prevHash" ${eq} coalesce(${lag('hash')}, '${GENESIS_HASH}'::text)
      AND a."hash" ${eq} ${SQL_EVENT_HASH}
      AND a."txid" ${lt} a."chainHorizon"
      AND a."chainHorizon" ${ge} coalesce(${lag('chainHorizon')}, '0'::xid8)
      AND (a."chainHorizon" ${eq} coalesce(${lag('chainHorizon')}, '0'::xid8) OR a."txid" ${ge} coalesce(${lag('chainHorizon')}, '0'::xid8))
    ) IS TRUE AS ok
  FROM "AuditEvent" a
  WHERE a."chainSeq" ${ge} coalesce((SELECT pg_catalog.max(b."chainSeq") FROM "AuditEvent" b WHERE b."chainSeq" ${lt} $1::bigint), $1::bigint)
    AND a."chainSeq" ${le} $2::bigint
  WINDOW w AS (ORDER BY a."chainSeq")
) x`;

/**
 * Runs `fn` in a read-only transaction whose search_path puts pg_catalog first and then only
 * public, the gateway's schema: a function or table someone placed in another schema of the path
 * takes no part in the verdict.
 */
async function catalogFirst<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN READ ONLY');
    await c.query('SET LOCAL search_path TO pg_catalog, public');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

type PartResult = { n: string; firstBad: string | null; expectedAt: string | null };

/** Walks the chain; see the file header. `expectHead`: a head hash kept outside the database; `parts`: how many parts are checked at once (tests). */
export async function verifyAuditChain(pool: pg.Pool, opts: { expectHead?: string; parts?: number } = {}): Promise<AuditVerifyReport> {
  await chainAuditEvents(pool);
  const problems: AuditProblem[] = [];
  // Every statement of the verdict runs with pg_catalog first (catalogFirst).
  const q = <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => catalogFirst(pool, (c) => c.query<T>(sql, params));
  const span = (await q<{ lo: string | null; hi: string | null }>(`SELECT min("chainSeq")::text AS lo, max("chainSeq")::text AS hi FROM "AuditEvent"`)).rows[0]!;
  let events = 0;
  let expectedAt: string | null = null;
  if (span.lo !== null && span.hi !== null) {
    const lo = BigInt(span.lo);
    const hi = BigInt(span.hi);
    const parts = opts.parts ? BigInt(opts.parts) : hi - lo + 1n < BigInt(PART_MIN) ? 1n : BigInt(PARTS);
    const size = (hi - lo + parts) / parts;
    const ranges: Array<[bigint, bigint]> = [];
    for (let from = lo; from <= hi; from += size) ranges.push([from, from + size - 1n > hi ? hi : from + size - 1n]);
    const results = await Promise.all(ranges.map(([from, to]) => catalogFirst(pool, (c) => c.query<PartResult>(PART, [from.toString(), to.toString(), opts.expectHead ?? null])).then((r) => r.rows[0]!)));
    const bad = results.map((r) => r.firstBad).filter((b): b is string => b !== null).map(BigInt);
    expectedAt = results.find((r) => r.expectedAt !== null)?.expectedAt ?? null;
    if (bad.length) {
      const first = bad.reduce((a, b) => (b < a ? b : a));
      problems.push(await judge(pool, first));
      events = Number((await q<{ n: string }>(`SELECT count(*)::text AS n FROM "AuditEvent" WHERE "chainSeq" < $1::bigint`, [first.toString()])).rows[0]!.n);
      if (expectedAt !== null && BigInt(expectedAt) >= first) expectedAt = null;
    } else {
      events = results.reduce((n, r) => n + Number(r.n), 0);
    }
  }
  const head = await catalogFirst(pool, (c) => chainHead(c));
  // The chainer never links an unchained event below the head's line (it was not there when the
  // line was drawn): someone inserted it past the trigger.
  const outside = await q<{ id: string; n: string }>(
    `SELECT min(a."id")::text AS id, count(*)::text AS n FROM "AuditEvent" a WHERE a."chainSeq" IS NULL AND a."txid" < $1::xid8`,
    [head?.chainHorizon ?? '0'],
  );
  if (Number(outside.rows[0]!.n) > 0) {
    const o = outside.rows[0]!;
    problems.push({ kind: 'inserted', id: o.id, chainSeq: null, message: `Event id ${o.id} (and ${Number(o.n) - 1} more) is outside the chain although its transaction ended before events already chained: it was inserted afterwards with the append-only trigger bypassed.` });
  }
  if (opts.expectHead && problems.every((p) => p.kind !== 'changed' && p.kind !== 'removed' && p.kind !== 'inserted') && expectedAt === null) {
    problems.push({ kind: 'truncated', id: null, chainSeq: null, message: `The head you kept (${opts.expectHead}) is not in the chain: events at the end were removed (or the chain was rewritten). The chain now ends at chainSeq ${head?.chainSeq ?? 0}.` });
  }
  const pending = await q<{ n: string }>(`SELECT count(*)::text AS n FROM "AuditEvent" WHERE "chainSeq" IS NULL AND "txid" >= $1::xid8`, [head?.chainHorizon ?? '0']);
  return { ok: problems.length === 0, events, head: head ? { chainSeq: head.chainSeq, id: head.id, hash: head.hash } : null, pending: Number(pending.rows[0]!.n), problems };
}

/** What is wrong with the event at chainSeq `seq`, which the SQL pass found wrong: read with the one before it and named. */
async function judge(pool: pg.Pool, seq: bigint): Promise<AuditProblem> {
  const rows = (await catalogFirst(pool, (c) => c.query<EventRow>(`SELECT ${EVENT_FIELDS} FROM "AuditEvent" a WHERE a."chainSeq" <= $1::bigint ORDER BY a."chainSeq" DESC LIMIT 2`, [seq.toString()]))).rows;
  const row = rows[0]!;
  const before = rows[1];
  const prev = before ? { seq: BigInt(before.chainSeq!), id: before.id, hash: before.hash ?? '', prevHash: before.prevHash, horizon: before.chainHorizon ?? '0' } : { seq: 0n, id: null, hash: GENESIS_HASH, prevHash: null, horizon: '0' };
  return checkEvent(row, seq, prev) ?? { kind: 'changed', id: row.id, chainSeq: row.chainSeq, message: `Event id ${row.id} (chainSeq ${row.chainSeq}) does not match its hash or its place in the chain.` };
}

/** The hash `row` should have, or null when its chain columns cannot be hashed (cleared or garbled). */
function recomputedHash(row: EventRow): string | null {
  try {
    return eventHash({ chainSeq: row.chainSeq!, prevHash: row.prevHash!, chainHorizon: row.chainHorizon!, content: row.content });
  } catch {
    return null;
  }
}

/** The first thing wrong with `row` at chainSeq `seq` after `prev`, or null. */
function checkEvent(row: EventRow, seq: bigint, prev: { seq: bigint; id: string | null; hash: string; prevHash: string | null; horizon: string }): AuditProblem | null {
  const at = `event id ${row.id} (chainSeq ${row.chainSeq})`;
  if (seq !== prev.seq + 1n) {
    const missing = seq - prev.seq - 1n === 1n ? `chainSeq ${prev.seq + 1n} is` : `chainSeq ${prev.seq + 1n} to ${seq - 1n} are`;
    return { kind: 'removed', id: null, chainSeq: (prev.seq + 1n).toString(), message: `${missing} missing: removed between ${prev.id ? `event id ${prev.id} (chainSeq ${prev.seq})` : 'the start of the chain'} and ${at}.` };
  }
  if (!row.prevHash || !row.hash || !row.chainHorizon) return { kind: 'changed', id: row.id, chainSeq: row.chainSeq, message: `The chain columns of ${at} were cleared.` };
  const recomputed = recomputedHash(row);
  if (row.prevHash !== prev.hash) {
    // Two events naming the same predecessor: the earlier one was slipped in between.
    if (prev.id && row.prevHash === prev.prevHash) {
      return { kind: 'inserted', id: prev.id, chainSeq: prev.seq.toString(), message: `Event id ${prev.id} (chainSeq ${prev.seq}) was inserted: the event after it, ${at}, links to the event before it.` };
    }
    if (recomputed === row.hash && prev.id) {
      return { kind: 'changed', id: prev.id, chainSeq: prev.seq.toString(), message: `Event id ${prev.id} (chainSeq ${prev.seq}) was changed and its hash recomputed: ${at} links to a different hash.` };
    }
    return { kind: 'changed', id: row.id, chainSeq: row.chainSeq, message: `The chain breaks at ${at}: it does not link to the event before it (changed, or events before it removed and the rest renumbered).` };
  }
  if (recomputed !== row.hash) return { kind: 'changed', id: row.id, chainSeq: row.chainSeq, message: `${cap(at)} was changed: its content no longer matches its hash.` };
  // The line it was chained under: its own transaction had ended, lines only move forward, and a
  // transaction that ended before the previous line was drawn was chained under that line.
  const txid = BigInt(row.txid);
  const horizon = BigInt(row.chainHorizon);
  const prevHorizon = BigInt(prev.horizon);
  if (txid >= horizon || horizon < prevHorizon || (horizon !== prevHorizon && txid < prevHorizon)) {
    return { kind: 'inserted', id: row.id, chainSeq: row.chainSeq, message: `${cap(at)} was inserted: its transaction (${row.txid}) does not fit where it sits in the chain.` };
  }
  return null;
}

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);
