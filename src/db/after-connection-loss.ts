// After our database dropped a connection: what a use case that wrote does before it answers, so
// no client is told "failed" for something that was done, or "done" for something that was not.
import { AppError, ErrorCode } from '../errors.js';
import { isConnectionLost, isDatabaseBusy } from './database-busy.js';

/** Seconds a client is told to wait before retrying while our database is busy or reconnecting. */
export const DATABASE_RETRY_SEC = 2;
// About 1.5 s in all: the pool opens a new connection in milliseconds once the server is back; a
// longer outage is answered rather than held (a Slack form must be answered within 3 s).
const DELAYS_MS = [0, 50, 100, 200, 400, 800];
/** For the reads every request starts with: one pooled connection the server dropped costs one retry, an outage 0.2 s. */
export const QUICK_RETRY_MS = [0, 25, 150] as const;

/**
 * Runs a read, again after a short pause while it fails because our database is busy or the
 * connection was lost (safe: it changes nothing). Rethrows the last failure, or any other at once.
 */
export async function retryRead<T>(read: () => Promise<T>, delaysMs: readonly number[] = DELAYS_MS): Promise<T> {
  let last: unknown;
  for (const delay of delaysMs) {
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      return await read();
    } catch (error) {
      if (!isDatabaseBusy(error)) throw error;
      last = error;
    }
  }
  throw last;
}

/**
 * The answer to a change that is committed: a fresh read of it, or, when our database cannot be
 * read just now, `known` (the state the change committed). Never an error: the change happened.
 */
export async function readBackOr<T>(read: () => Promise<T>, known: T, onFallback?: (error: unknown) => void): Promise<T> {
  try {
    return await retryRead(read);
  } catch (error) {
    if (!isDatabaseBusy(error)) throw error;
    onFallback?.(error);
    return known;
  }
}

/**
 * Pauses between looks for a commit that is not visible yet. A COMMIT the server received before
 * the connection dropped may still be under way (a slow WAL flush, deferred triggers) when the
 * first look runs on a new connection; it is visible once that backend finishes. About 1.75 s in
 * all: a commit slower than that is answered "not done" (see the README, Operations).
 */
export const COMMIT_SETTLE_MS = [250, 500, 1000] as const;

/**
 * What a transaction that failed with `error` committed all the same. A lost connection during
 * COMMIT leaves that unknown to the client: `lookup` reads what only that transaction writes (a row
 * under an id chosen before it began), looking again over about 1.75 s (COMMIT_SETTLE_MS) before
 * it concludes that nothing was committed. Resolves null when it did not commit (any error but a
 * lost connection ends the transaction uncommitted), what `lookup` found when it did; throws an
 * Unavailable AppError saying the outcome is unknown when our database cannot be asked.
 */
export async function committedDespite<T>(error: unknown, lookup: () => Promise<T | null>, what: { id: string; check: string }, settleMs: readonly number[] = COMMIT_SETTLE_MS): Promise<T | null> {
  if (!isConnectionLost(error)) return null;
  try {
    for (const pause of [0, ...settleMs]) {
      if (pause) await new Promise((resolve) => setTimeout(resolve, pause));
      const found = await retryRead(lookup);
      if (found !== null && found !== undefined) return found;
    }
    return null;
  } catch (failure) {
    if (!isDatabaseBusy(failure)) throw failure;
    throw new AppError(
      ErrorCode.Unavailable,
      `The gateway lost its connection to its database while saving this, and cannot tell yet whether it was saved (${what.id}). ${what.check} before trying again.`,
      { retryAfterSec: DATABASE_RETRY_SEC, details: { id: what.id, outcome: 'unknown' }, cause: error },
    );
  }
}

/** The retryable refusal of a change that did not happen because our database is busy or was lost. */
export function notDoneError(error: unknown, what: string): AppError {
  const why = isConnectionLost(error) ? 'lost its connection to its database' : 'found its database busy';
  return new AppError(ErrorCode.Unavailable, `The gateway ${why}; nothing was changed (${what}). Try again in ${DATABASE_RETRY_SEC} s.`, { retryAfterSec: DATABASE_RETRY_SEC, cause: error });
}
