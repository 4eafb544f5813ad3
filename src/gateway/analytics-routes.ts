// `GET /api/analytics?from&to&connection`: time to decision, outcomes over time, top requesters,
// common commands and what is pending now (src/db/analytics.ts computes them in SQL). Everyone may
// ask; each person's figures cover only the requests they may see (their own and their groups'
// reviews, on connections they may use), so an admin's cover all of them.
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../core/ports.js';
import { canUseConnection } from '../core/access.js';
import type { Db } from '../db/client.js';
import { readAnalytics } from '../db/analytics.js';
import { AppError, ErrorCode } from '../errors.js';
import { CONNECTION_NAME } from '../service/admin-service.js';
import type { AnalyticsView } from '../contracts/analytics-view.js';

export interface AnalyticsRoutesOptions {
  db: Db;
  clock: Clock;
}

const DAY_MS = 86_400_000;
/** The range when none is given: the last 30 days. */
export const DEFAULT_RANGE_DAYS = 30;
/** The longest range answered (its buckets are weeks beyond 400 days). */
export const MAX_RANGE_DAYS = 3660;
const DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;
const DATE_HINT = 'a date or time in ISO 8601, e.g. 2026-11-01 or 2026-11-01T09:00:00Z (UTC unless a zone is given)';

const query = {
  from: { type: 'string', maxLength: 40, pattern: DATE, hint: `${DATE_HINT}; default: ${DEFAULT_RANGE_DAYS} days before "to"` },
  to: { type: 'string', maxLength: 40, pattern: DATE, hint: `${DATE_HINT}; default: now` },
  connection: { type: 'string', maxLength: 63, pattern: CONNECTION_NAME, hint: "a connection's name, e.g. prod-db" },
} as const;

function parseDate(name: string, text: string): Date {
  // A time without a zone is UTC, whatever the server's zone; a bare date is its midnight UTC.
  const zoned = text.length > 10 && !/(?:Z|[+-]\d{2}:\d{2})$/.test(text) ? `${text}Z` : text;
  const d = new Date(zoned);
  // "2026-02-30" matches the pattern but is no date: Date rolls it over, so compare the day back.
  if (Number.isNaN(d.getTime()) || (text.length === 10 && d.toISOString().slice(0, 10) !== text)) {
    throw new AppError(ErrorCode.BadInput, `"${text}" is not a date the query parameter "${name}" accepts; give ${DATE_HINT}.`);
  }
  return d;
}

/** The range asked for, checked: from before to, at most MAX_RANGE_DAYS long; and its bucket size. */
export function analyticsRange(q: { from?: string; to?: string }, now: Date): { from: Date; to: Date; bucket: AnalyticsView['bucket'] } {
  const to = q.to ? parseDate('to', q.to) : now;
  const from = q.from ? parseDate('from', q.from) : new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
  if (from.getTime() >= to.getTime()) {
    throw new AppError(ErrorCode.BadInput, `"from" (${from.toISOString()}) must be before "to" (${to.toISOString()}). Swap them, or leave one out.`);
  }
  const days = (to.getTime() - from.getTime()) / DAY_MS;
  if (days > MAX_RANGE_DAYS) {
    throw new AppError(ErrorCode.BadInput, `The range from ${from.toISOString()} to ${to.toISOString()} is ${Math.round(days)} days long; at most ${MAX_RANGE_DAYS} days are answered. Narrow it.`);
  }
  return { from, to, bucket: days <= 3 ? 'hour' : days <= 400 ? 'day' : 'week' };
}

/** Registers `GET /analytics` inside the authenticated /api scope. */
export function registerAnalyticsRoute(api: FastifyInstance, { db, clock }: AnalyticsRoutesOptions): void {
  api.get('/analytics', { config: { query } }, async (req) => {
    const q = req.query as { from?: string; to?: string; connection?: string };
    const user = req.user!;
    const now = clock.now();
    const range = analyticsRange(q, now);
    if (q.connection) {
      const connection = await db.connection.findUnique({ where: { name: q.connection }, select: { allowedGroups: true, reviewers: true } });
      // A connection the user may not use is as invisible as one that does not exist.
      if (!connection || !canUseConnection(user, connection)) {
        throw new AppError(ErrorCode.NotFound, `There is no connection named "${q.connection}". List the connections with GET /api/connections (hoop admin get connections).`);
      }
    }
    return readAnalytics(db, { ...range, connection: q.connection, now, viewer: { id: user.id, isAdmin: user.isAdmin, groups: user.groups } });
  });
}
