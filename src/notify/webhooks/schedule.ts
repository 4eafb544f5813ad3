// When a failed delivery is tried again: about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after the
// attempts before it, each ±10 % so that endpoints failing together do not retry in lock-step.

/** Seconds after attempt n (1-based) failed until attempt n + 1; attempt 8 is the last. */
export const RETRY_DELAYS_SEC = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600] as const;

/** Attempts in all (the first and every retry). */
export const MAX_ATTEMPTS = RETRY_DELAYS_SEC.length + 1;

/** An endpoint whose deliveries have failed without a success for this long is disabled. */
export const DISABLE_AFTER_MS = 24 * 3600 * 1000;

/** The delay in ms before the attempt after failed attempt `attempt`, or null when it was the last. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number | null {
  const base = RETRY_DELAYS_SEC[attempt - 1];
  if (base === undefined) return null;
  return Math.round(base * 1000 * (0.9 + 0.2 * random()));
}
