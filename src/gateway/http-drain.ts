// The HTTP side of a graceful stop. While draining, every new request is answered 503 with
// Retry-After (a load balancer or the CLI tries again, on another replica or after the restart),
// open long-polls are answered at once with the review as it stands, and the stop waits only for
// the requests admitted before it began.
import type { FastifyInstance } from 'fastify';
import { AppError, ErrorCode } from '../errors.js';

/** Seconds a client is told to wait while a gateway drains (a restart takes a few seconds). */
export const DRAINING_RETRY_SEC = 5;

export interface HttpDrain {
  /** Aborted when draining begins: long-polls listen to it. */
  readonly signal: AbortSignal;
  readonly draining: boolean;
  /** Refuse new requests from now on and answer open long-polls. */
  start(): void;
  /** Resolves once every request admitted before start() has been answered. */
  idle(): Promise<void>;
}

/** A drain for one HTTP server; register() adds its hooks. */
export function createHttpDrain() {
  const controller = new AbortController();
  let inFlight = 0;
  let waiters: Array<() => void> = [];
  const settle = () => {
    if (inFlight > 0) return;
    for (const w of waiters) w();
    waiters = [];
  };
  const drain: HttpDrain = {
    signal: controller.signal,
    get draining() {
      return controller.signal.aborted;
    },
    start() {
      controller.abort();
    },
    idle() {
      return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
    },
  };

  /** Root hooks: run before every route's own (authentication, limits). */
  function register(app: FastifyInstance): void {
    app.addHook('onRequest', async (req, reply) => {
      if (drain.draining) {
        // A fresh connection for the retry: behind a load balancer it reaches a replica that serves.
        reply.header('connection', 'close');
        throw new AppError(ErrorCode.Unavailable, `This gateway is stopping (a restart or a deploy); nothing was done. Try again in ${DRAINING_RETRY_SEC} s.`, { retryAfterSec: DRAINING_RETRY_SEC });
      }
      inFlight++;
      // 'close' fires once whether the answer was sent or the client hung up.
      reply.raw.once('close', () => {
        inFlight--;
        settle();
      });
    });
    app.addHook('onSend', async (_req, reply) => {
      // An answer cut short by the drain (a long-poll) closes its connection too.
      if (drain.draining) reply.header('connection', 'close');
    });
  }

  return { drain, register };
}

/** What createHttpDrain returns: the drain and the hooks that enforce it. */
export type HttpDrainHooks = ReturnType<typeof createHttpDrain>;
