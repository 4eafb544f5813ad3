// Readiness: whether this process can do its work now, dependency by dependency. Liveness
// (/healthz) is separate: a gateway whose Redis is away is alive and must not be restarted for it.
import type { Logger } from '../logger.js';
import { TimeoutError, withTimeout } from '../with-timeout.js';

/** One dependency: resolves when it answers, rejects (with a reason) when it does not. */
export interface DependencyCheck {
  name: string;
  check(): Promise<unknown>;
}

export interface ReadinessReport {
  ready: boolean;
  dependencies: Record<string, { ok: true } | { ok: false; error: string }>;
}

export type Readiness = () => Promise<ReadinessReport>;

/**
 * Runs every check at once, each bounded by `timeoutMs`. The answer says which dependency failed
 * and whether it timed out or refused; the error itself (hosts, database names) is only logged,
 * since anyone may ask /readyz.
 */
export function createReadiness(checks: readonly DependencyCheck[], log: Logger, timeoutMs = 2000): Readiness {
  return async () => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          await withTimeout(c.check(), timeoutMs, c.name);
          return [c.name, { ok: true as const }] as const;
        } catch (err) {
          log.warn({ err, dependency: c.name }, 'readiness check failed');
          // A client's own command timeout (ioredis: "Command timed out") is no answer too.
          const timedOut = err instanceof TimeoutError || /timed out/i.test((err as Error).message ?? '');
          const error = timedOut ? 'no answer in time' : 'connection failed or refused';
          return [c.name, { ok: false as const, error }] as const;
        }
      }),
    );
    return { ready: results.every(([, r]) => r.ok), dependencies: Object.fromEntries(results) };
  };
}
