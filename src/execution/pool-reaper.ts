// A target's pool lives while it is used: one unused for POOL_IDLE_CLOSE_MS is closed and forgotten,
// with what was cached of the target. So the pool of a connection whose URL changed (new
// credentials, another host) or that was deleted is closed on every replica, not kept for ever.
import type { TargetLimiter } from './target-limiter.js';

export const POOL_IDLE_CLOSE_MS = 60_000;

export interface ReapablePool {
  limiter: TargetLimiter;
  lastUsed: number;
}

/** Closes (with `end`) and removes every pool of `pooled` unused for `idleMs` with nothing running or waiting. */
export function reapIdlePools<P extends ReapablePool>(pooled: Map<string, P>, end: (p: P) => Promise<void>, idleMs = POOL_IDLE_CLOSE_MS, now = Date.now()): void {
  for (const [url, p] of pooled) {
    const { active, waiting } = p.limiter.load;
    if (now - p.lastUsed <= idleMs || active > 0 || waiting > 0) continue;
    pooled.delete(url);
    void end(p).catch(() => {});
  }
}
