// The open access windows (Just-in-Time access, issue 13): what a command's submit asks before it
// lets the command skip its review.
import type { Db, Tx } from './client.js';

/**
 * The open window of `userId` on `connectionId` at `now`, if any: GRANTED and not past its end.
 * With `lock` (in a transaction), the row is share-locked for the rest of the transaction, so a revocation (which locks
 * it for update) waits for the command that relies on it, or the command sees the revocation.
 */
export async function findOpenGrant(db: Db | Tx, userId: string, connectionId: string, now: Date, lock = false): Promise<{ id: string; accessEndsAt: Date } | null> {
  const rows = await db.$queryRawUnsafe<{ id: string; accessEndsAt: Date }[]>(
    `SELECT id, "accessEndsAt" FROM "Review"
      WHERE kind = 'access' AND "requesterId" = $1::uuid AND "connectionId" = $2::uuid
        AND status = 'GRANTED' AND "accessRevokedAt" IS NULL AND "accessEndsAt" > ($3::timestamptz AT TIME ZONE 'UTC')
      ORDER BY "accessEndsAt" DESC LIMIT 1${lock ? ' FOR SHARE' : ''}`,
    userId,
    connectionId,
    // As text with its zone: a Date parameter would be read in the session's time zone.
    now.toISOString(),
  );
  return rows[0] ?? null;
}
