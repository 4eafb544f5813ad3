// The analytics of requests, computed by PostgreSQL: every figure is an aggregate over the requests
// created in [from, to) that the viewer may see (the rule of access-filters.ts, written in SQL), so
// no request row is loaded into Node. Three statements run side by side, each reading the range
// once: the counts (outcomes, requesters, commands), the times to decision, the groups' times.
import { Prisma } from './generated/client.ts';
import type { Db } from './client.js';
import type { AnalyticsView, OutcomeCounts } from '../contracts/analytics-view.js';
import { at, inRange, REVIEWED, roomy, scope, type AnalyticsQuery } from './analytics-sql.js';
import { approvalRate, decisionTimes, groupTimes } from './analytics-times.js';

export { approvalRate } from './analytics-times.js';
export type { AnalyticsQuery } from './analytics-sql.js';

const TOP = 10;
/** Longest sample of a common command shown, in characters (its first line). */
export const SAMPLE_CHARS = 120;

// An access window granted (open or since ended) was approved like a command that ran.
const APPROVED = Prisma.sql`('APPROVED', 'RUNNING', 'EXECUTED', 'FAILED', 'GRANTED', 'ENDED')`;
/** date_trunc's unit, spelled by us (never by the caller) so that it can be written into the SQL. */
const UNIT = { hour: Prisma.raw(`'hour'`), day: Prisma.raw(`'day'`), week: Prisma.raw(`'week'`) } as const;

type CountRow = Omit<OutcomeCounts, 'approvalRate'> & { kind: 'bucket' | 'requester' | 'command'; at: Date | null; label: string | null; sample: string | null };

/**
 * Outcomes per bucket, the top requesters and the most common commands, from one read of the range:
 * the requests are counted three ways at once, each into a small hash table (GROUPING SETS), by
 * status and reviewed; those few rows are then summed into the figures. The OFFSET 0 keeps the rows
 * a subquery whose groups the planner does not overestimate: flattened, it guessed a group per
 * request for the bucket and sorted a million rows by it instead of hashing.
 */
async function counts(db: Db, q: AnalyticsQuery) {
  const unit = UNIT[q.bucket];
  const sum = (cond: Prisma.Sql) => Prisma.sql`coalesce(sum(x.n) FILTER (WHERE ${cond}), 0)::int`;
  const rows = await roomy<CountRow[]>(db, db.$queryRaw`
    WITH x AS MATERIALIZED (
      SELECT GROUPING(x.at, x."requesterId", x.fingerprint) AS set, x.at, x."requesterId", x.fingerprint, x.status::text AS status,
        x.reviewed, count(*) AS n, min(x."createdAt") AS first
      FROM (SELECT date_trunc(${unit}, r."createdAt") AS at, r."requesterId", r.fingerprint, r.status, r."createdAt", ${REVIEWED} AS reviewed
            FROM "Review" r WHERE ${inRange(q)} OFFSET 0) x
      GROUP BY GROUPING SETS ((x.at, x.status, x.reviewed), (x."requesterId", x.status, x.reviewed), (x.fingerprint))),
    -- GROUPING(...) is 3 for the buckets, 5 for the requesters, 6 for the patterns.
    g AS (
      SELECT x.set, x.at, x."requesterId", x.fingerprint, sum(x.n)::int AS requests,
        ${sum(Prisma.sql`x.status IN ${APPROVED} AND x.reviewed`)} AS approved,
        ${sum(Prisma.sql`x.status IN ${APPROVED} AND NOT x.reviewed`)} AS automatic,
        ${sum(Prisma.sql`x.status = 'REJECTED'`)} AS rejected,
        ${sum(Prisma.sql`x.status = 'EXPIRED'`)} AS expired,
        ${sum(Prisma.sql`x.status = 'PENDING'`)} AS pending,
        ${sum(Prisma.sql`x.status = 'EXECUTED'`)} AS executed,
        ${sum(Prisma.sql`x.status = 'FAILED'`)} AS failed,
        min(x.first) AS first
      FROM x GROUP BY x.set, x.at, x."requesterId", x.fingerprint),
    requesters AS (SELECT * FROM g WHERE g.set = 5 ORDER BY g.requests DESC, g."requesterId" LIMIT ${TOP}),
    commands AS (SELECT * FROM g WHERE g.set = 6 ORDER BY g.requests DESC, g.fingerprint NULLS LAST LIMIT ${TOP})
    SELECT 'bucket' AS kind, s.at, NULL AS label, coalesce(b.requests, 0) AS requests, coalesce(b.approved, 0) AS approved,
      coalesce(b.automatic, 0) AS automatic, coalesce(b.rejected, 0) AS rejected, coalesce(b.expired, 0) AS expired,
      coalesce(b.pending, 0) AS pending, coalesce(b.executed, 0) AS executed, coalesce(b.failed, 0) AS failed, NULL AS sample
    FROM generate_series(date_trunc(${unit}, ${at(q.from)}), ${at(q.to)} - interval '1 millisecond', ${`1 ${q.bucket}`}::interval) AS s(at)
    LEFT JOIN g b ON b.set = 3 AND b.at = s.at
    UNION ALL
    SELECT 'requester', NULL, u.email, t.requests, t.approved, 0, t.rejected, 0, 0, 0, 0, NULL
    FROM requesters t JOIN "User" u ON u.id = t."requesterId"
    UNION ALL
    -- A sample per pattern: the first request of it counted (so one the viewer may see), found by its
    -- time through the index; its first line.
    SELECT 'command', NULL, t.fingerprint, t.requests, 0, 0, 0, 0, 0, 0, 0,
      (SELECT left(split_part(btrim(left(r.input, 4096), E' \t\r\n'), E'\n', 1), ${SAMPLE_CHARS}) FROM "Review" r
       WHERE r."createdAt" = t.first AND r.fingerprint IS NOT DISTINCT FROM t.fingerprint ${scope(q)} ORDER BY r.id LIMIT 1)
    FROM commands t
    ORDER BY kind, at, requests DESC, label NULLS LAST`);
  const of = (kind: CountRow['kind']) => rows.filter((r) => r.kind === kind);
  return {
    buckets: of('bucket').map(({ kind: _k, label: _l, sample: _s, at: when, ...r }) => ({ at: when!.toISOString(), ...r, approvalRate: approvalRate(r.approved, r.rejected) })),
    requesters: of('requester').map((r) => ({ requester: r.label!, requests: r.requests, approved: r.approved, rejected: r.rejected, approvalRate: approvalRate(r.approved, r.rejected) })),
    commands: of('command').map((r) => ({ fingerprint: r.label, requests: r.requests, sample: r.sample! })),
  };
}

async function pendingNow(db: Db, q: AnalyticsQuery): Promise<AnalyticsView['pending']> {
  const [count, oldest] = await Promise.all([
    db.$queryRaw<{ count: number }[]>`
      SELECT count(*)::int AS count FROM "Review" r WHERE r.status = 'PENDING' ${scope(q)}`,
    db.$queryRaw<{ id: string; connection: string; createdAt: Date }[]>`
      SELECT r.id, c.name AS connection, r."createdAt" FROM "Review" r JOIN "Connection" c ON c.id = r."connectionId"
      WHERE r.status = 'PENDING' ${scope(q)} ORDER BY r."createdAt", r.id LIMIT 1`,
  ]);
  const o = oldest[0];
  return {
    count: count[0]?.count ?? 0,
    oldest: o ? { id: o.id, connection: o.connection, createdAt: o.createdAt.toISOString(), ageSec: Math.max(0, Math.round((q.now.getTime() - o.createdAt.getTime()) / 1000)) } : null,
  };
}

/** Sums the buckets: the range's outcome counts. */
function total(buckets: OutcomeCounts[]): OutcomeCounts {
  const keys = ['requests', 'approved', 'automatic', 'rejected', 'expired', 'pending', 'executed', 'failed'] as const;
  const sum = Object.fromEntries(keys.map((k) => [k, buckets.reduce((n, b) => n + b[k], 0)])) as Omit<OutcomeCounts, 'approvalRate'>;
  return { ...sum, approvalRate: approvalRate(sum.approved, sum.rejected) };
}

/** Every figure of the analytics for `q`. */
export async function readAnalytics(db: Db, q: AnalyticsQuery): Promise<AnalyticsView> {
  const [decisions, byGroup, c, pending] = await Promise.all([decisionTimes(db, q), groupTimes(db, q), counts(db, q), pendingNow(db, q)]);
  return {
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    connection: q.connection ?? null,
    bucket: q.bucket,
    timeToDecision: { ...decisions, byGroup },
    totals: total(c.buckets),
    outcomes: c.buckets,
    topRequesters: c.requesters,
    commonCommands: c.commands,
    pending,
  };
}
