// The audit hash chain's writer: links committed events into one chain (chainSeq 1, 2, ...; each
// event's prevHash is the hash of the one before; hash = sha256 of its canonical form, see
// src/core/audit-canonical.ts). Writers never wait for it: they insert as before, and the insert
// trigger stamps each row with its transaction id (txid). A chain run, holding a transaction-level
// advisory lock so runs in every replica take turns (no fork), takes the unchained events of
// transactions older than every transaction of this database still running (below that line
// they have committed or rolled back, so nothing new can appear there) in id order and links
// them. Every committed event is eventually below the line, so none is left out (no gap).
// Each event keeps the line it was chained under (chainHorizon); an unchained event of a
// transaction below the head's line was not there when its turn came, so it was inserted later by
// someone who bypassed the trigger: the chainer never links it and the verifier names it.
import type pg from 'pg';
import { CHAIN_FORMAT, eventHash, GENESIS_HASH } from '../core/audit-canonical.js';

/** Any fixed 64-bit key: runs in every process of every replica take turns on it. */
const CHAIN_LOCK = 0x686f6f70_61756474n; // "hoopaudt"
const PAGE = 5000;

// Every function and operator below is written with its schema, pg_catalog: someone who may
// create functions in the database (its owner) could otherwise shadow one with their own (a
// sha256 that hashes what the event said before it was changed) and make verify lie. Verify also
// runs with pg_catalog first on its search_path (audit-verify.ts).
const op = (o: string) => `OPERATOR(pg_catalog.${o})`;

/**
 * The content of an event as the chain hashes it: PostgreSQL's text of one jsonb object holding
 * every column but the chain's own (64-bit numbers as decimal strings, createdAt as milliseconds
 * since 1970 in UTC, which unlike a formatted date cannot lose its era). Alias `a` for
 * "AuditEvent". Changing it breaks every chain: never.
 */
export const EVENT_CONTENT = `pg_catalog.jsonb_build_object(
  'id', a."id"::text, 'txid', a."txid"::text, 'reviewId', a."reviewId"::text, 'actorId', a."actorId"::text,
  'actor', a."actor", 'action', a."action", 'source', a."source", 'detail', a."detail", 'ip', a."ip",
  'userAgent', a."userAgent", 'createdAtMs', (EXTRACT(EPOCH FROM a."createdAt") ${op('*')} 1000)::bigint)::text`;

/** The hash of the event `a` as it stands, computed by PostgreSQL (the same bytes as eventHash). */
export const SQL_EVENT_HASH = `pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(${[
  `'${CHAIN_FORMAT}'`,
  `a."chainSeq"::text`,
  `a."prevHash"`,
  `a."chainHorizon"::text`,
  EVENT_CONTENT,
].join(` ${op('||')} E'\n' ${op('||')} `)}, 'UTF8')), 'hex')`;

/** The columns of an event the chainer and the verifier read (64-bit numbers as text). */
export const EVENT_FIELDS = `a."id"::text AS "id", a."chainSeq"::text AS "chainSeq", a."prevHash", a."hash", a."txid"::text AS "txid",
  a."chainHorizon"::text AS "chainHorizon", ${EVENT_CONTENT} AS "content"`;

/** One event row as selected with EVENT_FIELDS. */
export interface EventRow {
  id: string;
  chainSeq: string | null;
  prevHash: string | null;
  hash: string | null;
  txid: string;
  chainHorizon: string | null;
  content: string;
}

export interface ChainHead {
  chainSeq: string;
  hash: string;
  chainHorizon: string;
  id: string;
}

/** The last chained event, or null when nothing is chained yet. */
export async function chainHead(q: pg.Pool | pg.PoolClient): Promise<ChainHead | null> {
  const r = await q.query<ChainHead>(
    // Ordered by the column, qualified: unqualified, ORDER BY would take the text alias.
    `SELECT a."chainSeq"::text AS "chainSeq", a."hash", a."chainHorizon"::text AS "chainHorizon", a."id"::text AS "id"
       FROM "AuditEvent" a WHERE a."chainSeq" IS NOT NULL ORDER BY a."chainSeq" DESC LIMIT 1`,
  );
  return r.rows[0] ?? null;
}

// The line: the oldest transaction of this database still running, or the first not yet started.
// Not the snapshot's xmin, which counts every database on the server (one long transaction
// elsewhere would hold the chain back). The snapshot is taken first and the running backends read
// after it, so a transaction below the line had ended when they were read and its rows are
// visible to the statements that follow. Backends' xids are 32-bit: they are matched against the
// snapshot's 64-bit in-progress list. A prepared (two-phase) transaction of this database is not a
// backend: with one, the snapshot's xmin is the line (the application prepares none).
// pg_stat_activity shows every backend's xid to every role (audit-chain.test.ts: replicas
// connecting as different roles), so a writer of another role holds the line back like any other.
const LINE = `
SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_prepared_xacts WHERE database = current_database())
  THEN pg_snapshot_xmin(s)
  ELSE coalesce(
    (SELECT min(x) FROM pg_snapshot_xip(s) AS x
      WHERE (x::text::numeric % 4294967296)::text IN (
        SELECT backend_xid::text FROM pg_stat_activity
         WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid())),
    pg_snapshot_xmax(s))
  END::text AS line
FROM pg_current_snapshot() AS s`;

/** Where the chainer draws the line now (see LINE). */
async function chainLine(client: pg.PoolClient): Promise<string> {
  // pg_stat_activity is read once per transaction and cached: read it afresh.
  await client.query('SELECT pg_stat_clear_snapshot()');
  return (await client.query<{ line: string }>(LINE)).rows[0]!.line;
}

/**
 * Links every event whose transaction has ended into the chain; returns how many it linked. One
 * transaction: all or nothing. `wait: false` (the background runs): when another run holds the
 * lock, links nothing rather than hold a pooled connection while waiting (that run, or the next
 * timer, links these events).
 */
export async function chainAuditEvents(pool: pg.Pool, opts: { wait?: boolean } = {}): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (opts.wait === false) {
      const got = await client.query<{ got: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS got', [CHAIN_LOCK.toString()]);
      if (!got.rows[0]!.got) {
        await client.query('ROLLBACK');
        return 0;
      }
    } else {
      await client.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK.toString()]);
    }
    const head = await chainHead(client);
    const horizon = await chainLine(client);
    // Below the head's line everything was linked when the head was: what is unchained there was
    // inserted afterwards, with a forged txid (see the header). The verifier reports it.
    const floor = head?.chainHorizon ?? '0';
    let seq = BigInt(head?.chainSeq ?? '0');
    let prev = head?.hash ?? GENESIS_HASH;
    let linked = 0;
    // One cursor over the whole run (one plan, read once), fetched in pages: a query per page
    // re-scanned the unchained rows each time. The two lines are decimal xids read from the server.
    if (!/^\d+$/.test(horizon) || !/^\d+$/.test(floor)) throw new Error(`unexpected chain line ${horizon} / ${floor}`);
    await client.query(
      `DECLARE audit_unchained NO SCROLL CURSOR FOR SELECT a."id"::text AS "id", ${EVENT_CONTENT} AS "content" FROM "AuditEvent" a
        WHERE a."chainSeq" IS NULL AND a."txid" < '${horizon}'::xid8 AND a."txid" >= '${floor}'::xid8 ORDER BY a."id"`,
    );
    for (;;) {
      const page = await client.query<{ id: string; content: string }>(`FETCH ${PAGE} FROM audit_unchained`);
      if (page.rows.length === 0) break;
      const ids: string[] = [];
      const seqs: string[] = [];
      const prevs: string[] = [];
      const hashes: string[] = [];
      for (const row of page.rows) {
        seq += 1n;
        const hash = eventHash({ chainSeq: seq.toString(), prevHash: prev, chainHorizon: horizon, content: row.content });
        ids.push(row.id);
        seqs.push(seq.toString());
        prevs.push(prev);
        hashes.push(hash);
        prev = hash;
      }
      await client.query(
        `UPDATE "AuditEvent" a SET "chainSeq" = u.seq, "prevHash" = u.prev, "hash" = u.hash, "chainHorizon" = $5::xid8
           FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS u(id, seq, prev, hash) WHERE a."id" = u.id`,
        [ids, seqs, prevs, hashes, horizon],
      );
      linked += page.rows.length;
      if (page.rows.length < PAGE) break;
    }
    await client.query('COMMIT');
    return linked;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
