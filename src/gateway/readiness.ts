// Readiness: whether this process can do its work now, dependency by dependency. Liveness
// (/healthz) is separate: a gateway whose Redis is away is alive and must not be restarted for it.
import { withTimeout } from '../with-timeout.js';

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

/** Runs every check at once, each bounded by `timeoutMs`. */
export function createReadiness(checks: readonly DependencyCheck[], timeoutMs = 2000): Readiness {
  return async () => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          await withTimeout(c.check(), timeoutMs, c.name);
          return [c.name, { ok: true as const }] as const;
        } catch (err) {
          return [c.name, { ok: false as const, error: (err as Error).message || String(err) }] as const;
        }
      }),
    );
    return { ready: results.every(([, r]) => r.ok), dependencies: Object.fromEntries(results) };
  };
}
