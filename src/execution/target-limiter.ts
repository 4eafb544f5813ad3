// At most `max` connections to one target database at a time from this process, a bounded queue
// of requests waiting for one, and a clear refusal when both are full: one busy database (or one
// client sending 25 slow reads) cannot exhaust the target's max_connections nor pile up without end.
import { AppError, ErrorCode } from '../errors.js';
import { refused, type ExecutionResult, type LimiterOptions } from './types.js';

export type { LimiterOptions };


/** How long an approved command waits for a connection before it fails. */
const PATIENT_WAIT_MS = 10 * 60_000;

type Waiter = { grant: () => void; timer: NodeJS.Timeout };

/** A counting semaphore with a bounded, timed queue. */
export class TargetLimiter {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly name: string,
    private readonly opts: LimiterOptions,
  ) {}

  /** Resolves with a release function once a slot is free; throws a retryable AppError when busy. */
  /**
   * `patient`: an approved command waits its turn however long the queue (up to PATIENT_WAIT_MS)
   * rather than being refused: it was reviewed, and refusing it would throw the approval away.
   */
  async acquire(options: { patient?: boolean } = {}): Promise<() => void> {
    const release = this.releaser();
    if (this.active < this.opts.max) {
      this.active++;
      return release;
    }
    const waitMs = options.patient ? PATIENT_WAIT_MS : this.opts.waitMs;
    if (!options.patient && this.waiting.length >= this.opts.maxWaiting) throw this.busy(`${this.waiting.length} more are waiting`);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          this.active++;
          resolve(release);
        },
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(this.busy(`none was free within ${Math.round(waitMs / 100) / 10} s`));
        }, waitMs),
      };
      this.waiting.push(waiter);
    });
  }

  /** A release function, or — when busy — the result of a command that did not run, saying why. */
  async acquireOrRefuse(options: { patient?: boolean } = {}): Promise<(() => void) | ExecutionResult> {
    try {
      return await this.acquire(options);
    } catch (error) {
      const e = error as AppError;
      return refused(e.message, { retryAfterSec: e.retryAfterSec ?? 1 });
    }
  }

  /** Slots in use and requests waiting, for tests and metrics. */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiting.shift()?.grant();
    };
  }

  private busy(why: string): AppError {
    return new AppError(
      ErrorCode.Unavailable,
      `All ${this.opts.max} connections of the gateway to "${this.name}" are in use and ${why}; nothing was run. Try again in a few seconds.`,
      { retryAfterSec: Math.max(1, Math.ceil(this.opts.waitMs / 1000)) },
    );
  }
}
