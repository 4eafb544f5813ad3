// The outbox table: jobs a transition must cause, stored in the transition's own transaction so a
// committed decision never loses its effects, whatever Redis is doing at that moment.
import { Prisma } from './generated/client.ts';
import type { Db, Tx } from './client.js';

/** One job to hand to the queue. */
export interface OutboxEntry {
  name: string;
  payload: Record<string, unknown>;
  jobId: string;
  /** When a delayed job is due; absent runs it at once. */
  dueAt?: Date;
  /** The review it concerns, when entries of several reviews are written at once. */
  reviewId?: string;
}

/** A stored entry, taken by a relay. */
export interface OutboxRow extends OutboxEntry {
  id: bigint;
}

/** Writes `entries` in transaction `tx` (the one that writes the transition). */
export async function writeOutbox(tx: Tx | Db, queuePrefix: string, reviewId: string | null, entries: readonly OutboxEntry[]): Promise<void> {
  if (entries.length === 0) return;
  if (entries.length > 20) return writeOutboxArrays(tx, queuePrefix, reviewId, entries);
  await tx.outboxJob.createMany({
    data: entries.map((e) => ({ queuePrefix, reviewId: e.reviewId ?? reviewId, name: e.name, payload: e.payload as object, jobId: e.jobId, dueAt: e.dueAt ?? null })),
  });
}

/** The same insert as one statement over arrays: a burst of expiries writes thousands of rows, which createMany took seconds for. */
async function writeOutboxArrays(tx: Tx | Db, queuePrefix: string, reviewId: string | null, entries: readonly OutboxEntry[]): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO "OutboxJob" ("queuePrefix", "reviewId", "name", "payload", "jobId", "dueAt", "createdAt")
    SELECT ${queuePrefix}, e."reviewId", e."name", e."payload"::jsonb, e."jobId", e."dueAt" AT TIME ZONE 'UTC', timezone('UTC', now())
    FROM unnest(
      ${entries.map((e) => e.reviewId ?? reviewId)}::uuid[], ${entries.map((e) => e.name)}::text[], ${entries.map((e) => JSON.stringify(e.payload))}::text[],
      ${entries.map((e) => e.jobId)}::text[], ${entries.map((e) => e.dueAt?.toISOString() ?? null)}::timestamptz[]
    ) AS e("reviewId", "name", "payload", "jobId", "dueAt")`;
}

/**
 * "leaseUntil" is a timestamp without time zone holding UTC (as Prisma writes every DateTime, and as
 * slack-slots.ts does): a session's own time zone must not move a lease by hours.
 */
const NOW_UTC = Prisma.sql`timezone('UTC', now())`;

/**
 * Takes up to `limit` entries of `queuePrefix` (of one review, when given) for `leaseMs`: rows
 * another relay holds are skipped, not waited for, and a lease that lapsed (its relay died) is
 * taken again. One short statement: no transaction stays open while Redis is asked.
 */
export async function leaseOutbox(db: Db, queuePrefix: string, options: { reviewId?: string; limit: number; leaseMs: number }): Promise<OutboxRow[]> {
  const rows = await db.$queryRaw<{ id: bigint; name: string; payload: Record<string, unknown>; jobId: string; dueAt: Date | null }[]>`
    UPDATE "OutboxJob" SET "leaseUntil" = ${NOW_UTC} + make_interval(secs => ${options.leaseMs / 1000}::float8)
    WHERE "id" IN (
      SELECT "id" FROM "OutboxJob"
      WHERE "queuePrefix" = ${queuePrefix}
        AND (${options.reviewId ?? null}::uuid IS NULL OR "reviewId" = ${options.reviewId ?? null}::uuid)
        AND ("leaseUntil" IS NULL OR "leaseUntil" < ${NOW_UTC})
      ORDER BY "id" LIMIT ${options.limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING "id", "name", "payload", "jobId", "dueAt"`;
  return rows.map((r) => ({ id: r.id, name: r.name, payload: r.payload, jobId: r.jobId, ...(r.dueAt ? { dueAt: r.dueAt } : {}) }));
}

/** Deletes relayed entries. */
export async function deleteOutbox(db: Db, ids: readonly bigint[]): Promise<void> {
  if (ids.length) await db.outboxJob.deleteMany({ where: { id: { in: [...ids] } } });
}

/** Gives entries back at once (their relay could not reach the queue), so the next relay need not wait for the lease. */
export async function releaseOutbox(db: Db, ids: readonly bigint[]): Promise<void> {
  if (ids.length) await db.outboxJob.updateMany({ where: { id: { in: [...ids] } }, data: { leaseUntil: null } });
}
