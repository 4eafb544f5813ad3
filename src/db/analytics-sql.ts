// The pieces every analytics statement shares: the range, who may see which request, the meaning
// of "reviewed", and the memory a statement may use.
import { Prisma } from './generated/client.ts';
import type { Db } from './client.js';
import type { AnalyticsView } from '../contracts/analytics-view.js';

export interface AnalyticsQuery {
  from: Date;
  to: Date;
  connection?: string;
  bucket: AnalyticsView['bucket'];
  viewer: { id: string; isAdmin: boolean; groups: string[] };
  now: Date;
}

/** A timestamp parameter as the columns store it (timestamp(3) in UTC). */
export function at(d: Date): Prisma.Sql {
  return Prisma.sql`(${d.toISOString()}::timestamptz AT TIME ZONE 'UTC')`;
}

/** Whether the viewer sees less than every request: of one connection, or as someone not an admin. */
export function isScoped(q: AnalyticsQuery): boolean {
  return q.connection !== undefined || !q.viewer.isAdmin;
}

/**
 * The conditions on "Review" r that keep the requests the viewer may see, of one connection or all.
 * The connections are looked up once (an InitPlan) rather than joined: a join to "Connection" cost
 * as much as the scan itself on a million rows, and an admin's figures need no connection at all.
 */
export function scope(q: AnalyticsQuery): Prisma.Sql {
  const conditions: Prisma.Sql[] = [];
  if (q.connection) conditions.push(Prisma.sql`r."connectionId" = (SELECT c.id FROM "Connection" c WHERE c.name = ${q.connection})`);
  if (!q.viewer.isAdmin) {
    const groups = q.viewer.groups;
    conditions.push(Prisma.sql`(r."requesterId" = ${q.viewer.id}::uuid OR EXISTS (SELECT 1 FROM "ReviewGroup" vg WHERE vg."reviewId" = r.id AND vg."group" = ANY(${groups}::text[])))`);
    conditions.push(Prisma.sql`r."connectionId" = ANY (ARRAY(SELECT c.id FROM "Connection" c
      WHERE cardinality(c."allowedGroups") = 0 OR c."allowedGroups" && ${groups}::text[] OR c.reviewers && ${groups}::text[]))`);
  }
  return conditions.length === 0 ? Prisma.empty : Prisma.sql`AND ${Prisma.join(conditions, ' AND ')}`;
}

/** The requests of "Review" r created in [from, to) that the viewer may see. */
export function inRange(q: AnalyticsQuery): Prisma.Sql {
  return Prisma.sql`r."createdAt" >= ${at(q.from)} AND r."createdAt" < ${at(q.to)} ${scope(q)}`;
}

// Reviewed: decided by reviewer groups. A request approved as it was made (an admin's own, no
// reviewers, review mode none, a read held for review) is stored with decidedAt = createdAt (one
// clock reading, submit-command.ts) or autoApproved; a reviewer's vote comes later. Read from the row
// itself, so no query joins the (larger) group table for it.
export const REVIEWED = Prisma.sql`(NOT r."autoApproved" AND r."decidedAt" IS DISTINCT FROM r."createdAt")`;

/**
 * Memory for one statement's sorts and hash tables. With the default 4 MB, a year's percentiles
 * and hash joins spilled to disk (several times slower); 32 MB holds a million decision times. Set
 * for the statement's own transaction only, and bounded by the pool: at most one per connection.
 */
const WORK_MEM = '32MB';
/**
 * How long one statement may run: ten years of requests on a busy server, not a runaway. The
 * transaction's own limit is a little longer, so that PostgreSQL's cancel (answered 503 by
 * database-busy.ts) comes first; Prisma's default of 5 s cut a year short under load.
 */
const STATEMENT_TIMEOUT_MS = 120_000;

/** Runs one analytics statement in a transaction of its own, with WORK_MEM and STATEMENT_TIMEOUT_MS. */
export async function roomy<T>(db: Db, statement: Prisma.PrismaPromise<T>): Promise<T> {
  const [, rows] = await db.$transaction(
    [db.$executeRaw`SELECT set_config('work_mem', ${WORK_MEM}, true), set_config('statement_timeout', ${String(STATEMENT_TIMEOUT_MS)}, true)`, statement],
    { timeout: STATEMENT_TIMEOUT_MS + 5_000 },
  );
  return rows;
}
