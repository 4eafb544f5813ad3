import type { Clock } from './core/ports.js';

/** The system clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock that stands still until moved: tests of expiry move it instead of sleeping. */
export interface ManualClock extends Clock {
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void;
  set(at: Date): void;
}

/** A clock at `start` (default: now) that moves only when told. */
export function createManualClock(start = new Date()): ManualClock {
  let at = start.getTime();
  return {
    now: () => new Date(at),
    advance: (ms) => void (at += ms),
    set: (d) => void (at = d.getTime()),
  };
}
