// The runs of approved commands in this process, each with its heartbeat. A stopping process that
// cannot wait for a run any longer hands it over: the heartbeat stops and the review stays
// RUNNING, so the sweep of another replica (or of the next start) finds it and settles it.

/** Thrown instead of claiming (or starting) a run once this process has handed its runs over. */
export class StoppingError extends Error {
  constructor(reviewId: string) {
    super(`this gateway is stopping; review ${reviewId} is left to another worker`);
    this.name = 'StoppingError';
  }
}

export interface RunningExecution {
  /** The run ended (or failed to start): stop its heartbeat. */
  stop(): void;
}

/** How soon a heartbeat that failed is tried again (the state database may be back). */
export const HEARTBEAT_RETRY_MS = 500;

/** Tracks this process's runs; see handOver(). */
export function createRunningExecutions(heartbeatMs: number, retryMs = Math.min(HEARTBEAT_RETRY_MS, heartbeatMs)) {
  const beats = new Map<string, { stop: () => void }>();
  let handedOver = false;
  return {
    /** True once this process handed its runs over: it must claim no new ones. */
    get handedOver() {
      return handedOver;
    },
    /** True while this process runs the review (and has not handed it over): no sweep may settle it. */
    has(reviewId: string): boolean {
      return beats.has(reviewId);
    },
    /**
     * Beats every heartbeatMs until stop() or handOver(); a beat that failed is tried again after
     * retryMs, so a run that outlived a state-database outage shows it is alive as soon as the
     * database answers. Throws StoppingError once the runs were handed over: the run must not start.
     */
    track(reviewId: string, beat: () => Promise<void>): RunningExecution {
      if (handedOver) throw new StoppingError(reviewId);
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      const next = (ms: number) => {
        if (!stopped) timer = setTimeout(tick, ms);
      };
      const tick = () => {
        void beat().then(
          () => next(heartbeatMs),
          () => next(retryMs),
        );
      };
      const entry = {
        stop() {
          stopped = true;
          clearTimeout(timer);
        },
      };
      next(heartbeatMs);
      beats.set(reviewId, entry);
      return {
        stop() {
          entry.stop();
          if (beats.get(reviewId) === entry) beats.delete(reviewId);
        },
      };
    },
    /** Stops every heartbeat and refuses new claims; returns the reviews left RUNNING. */
    handOver(): string[] {
      handedOver = true;
      const ids = [...beats.keys()];
      for (const entry of beats.values()) entry.stop();
      beats.clear();
      return ids;
    },
  };
}
