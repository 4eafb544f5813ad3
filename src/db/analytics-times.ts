// Times to decision (mean, median, p90), overall, per connection and per reviewer group.
//
// percentile_cont needs its input sorted, and an ordered-set aggregate cannot be grouped by hashing:
// grouped by connection or group the usual way, PostgreSQL sorted every row by the group first and
// then each group's times again. Here the times are gathered into one array per group by hashing
// (array_agg), and each array is sorted on its own: one sort of plain numbers per figure. unnest
// stands in a select list, where it streams; in FROM it first copied every value into a tuplestore.
// Seconds come from date_part, a float8: EXTRACT answers numeric since PostgreSQL 14, and making a
// million numerics took a third of the statement.
import { Prisma } from './generated/client.ts';
import type { Db } from './client.js';
import type { DecisionTimes } from '../contracts/analytics-view.js';
import { at, inRange, isScoped, REVIEWED, roomy, scope, type AnalyticsQuery } from './analytics-sql.js';

/** Both percentiles from one sort of the times in `secs`; the mean from the same pass. */
const STATS = Prisma.sql`count(*)::int AS decided, avg(secs)::float8 AS "meanSec", percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY secs) AS pct`;

type StatsRow = { decided: number; meanSec: number | null; pct: number[] | null; name: string | null };

function times(row: StatsRow | undefined): DecisionTimes {
  return { decided: row?.decided ?? 0, meanSec: row?.meanSec ?? null, medianSec: row?.pct?.[0] ?? null, p90Sec: row?.pct?.[1] ?? null };
}

/** approved / (approved + rejected), or null when reviewers decided nothing. */
export function approvalRate(approved: number, rejected: number): number | null {
  return approved + rejected === 0 ? null : approved / (approved + rejected);
}

/** Decided by reviewers: expiry is no decision, and an automatic approval took no time. */
export async function decisionTimes(db: Db, q: AnalyticsQuery) {
  // The overall row comes from the same arrays; over no rows it still comes (decided 0).
  const rows = await roomy<(StatsRow & { overall: boolean })[]>(db, db.$queryRaw`
    WITH per AS MATERIALIZED (
      SELECT r."connectionId", array_agg(date_part('epoch', r."decidedAt" - r."createdAt")) AS times
      FROM "Review" r
      WHERE ${inRange(q)} AND r."decidedAt" IS NOT NULL AND r.status <> 'EXPIRED' AND ${REVIEWED}
      GROUP BY r."connectionId")
    SELECT c.name, false AS overall, s.* FROM per JOIN "Connection" c ON c.id = per."connectionId"
      CROSS JOIN LATERAL (SELECT ${STATS} FROM (SELECT unnest(per.times) AS secs) u) s
    UNION ALL
    SELECT NULL, true, ${STATS} FROM (SELECT unnest(per.times) AS secs FROM per) u`);
  const byConnection = rows.filter((r) => !r.overall).map((r) => ({ connection: r.name!, ...times(r) }));
  byConnection.sort((a, b) => (b.medianSec ?? 0) - (a.medianSec ?? 0) || a.connection.localeCompare(b.connection));
  return { overall: times(rows.find((r) => r.overall)), byConnection };
}

/**
 * A group's wait: from the request to that group's decision (a group another group's rejection
 * left undecided has none). A decision made at the very instant of the request was made with it (an
 * admin's own request, approved for every group), not by a reviewer. The group rows carry their
 * request's time (requestedAt), so an admin's figures over every connection read them alone, from
 * their index; a narrower view joins the requests for its conditions. The slowest first, by median.
 */
export async function groupTimes(db: Db, q: AnalyticsQuery) {
  const requests = isScoped(q) ? Prisma.sql`JOIN "Review" r ON r.id = g."reviewId" ${scope(q)}` : Prisma.empty;
  const rows = await roomy<StatsRow[]>(db, db.$queryRaw`
    SELECT per.name, s.* FROM (
      SELECT g."group" AS name, array_agg(date_part('epoch', g."decidedAt" - g."requestedAt")) AS times
      FROM "ReviewGroup" g ${requests}
      WHERE g."requestedAt" >= ${at(q.from)} AND g."requestedAt" < ${at(q.to)} AND g."decidedAt" <> g."requestedAt" -- decided, not with the request
      GROUP BY g."group") per
    CROSS JOIN LATERAL (SELECT ${STATS} FROM (SELECT unnest(per.times) AS secs) u) s
    ORDER BY s.pct[1] DESC NULLS LAST, per.name
    LIMIT 100`);
  return rows.map((r) => ({ group: r.name!, ...times(r) }));
}
