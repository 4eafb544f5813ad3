// The runs of approved commands in this process, each with its heartbeat. A stopping process that
// cannot wait for a run any longer hands it over: the heartbeat stops and the review stays
// RUNNING, so the sweep of another replica (or of the next start) finds it and settles it.

/** Thrown instead of claiming a run once this process has handed its runs over. */
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

/** Tracks this process's runs; see handOver(). */
export function createRunningExecutions(heartbeatMs: number) {
  const beats = new Map<string, NodeJS.Timeout>();
  let handedOver = false;
  return {
    /** True once this process handed its runs over: it must claim no new ones. */
    get handedOver() {
      return handedOver;
    },
    /** Beats every heartbeatMs until stop() or handOver(). */
    track(reviewId: string, beat: () => Promise<void>): RunningExecution {
      const timer = setInterval(() => void beat().catch(() => {}), heartbeatMs);
      beats.set(reviewId, timer);
      return {
        stop() {
          clearInterval(timer);
          if (beats.get(reviewId) === timer) beats.delete(reviewId);
        },
      };
    },
    /** Stops every heartbeat and refuses new claims; returns the reviews left RUNNING. */
    handOver(): string[] {
      handedOver = true;
      const ids = [...beats.keys()];
      for (const timer of beats.values()) clearInterval(timer);
      beats.clear();
      return ids;
    },
  };
}
