import { describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { TargetLimiter } from '../../src/execution/target-limiter.js';

describe('TargetLimiter', () => {
  it('grants at most `max` slots, queues the next ones in order, and hands a released slot to the first waiter', async () => {
    const limiter = new TargetLimiter('prod-db', { max: 2, maxWaiting: 5, waitMs: 5000 });
    const a = await limiter.acquire();
    const b = await limiter.acquire();
    const order: string[] = [];
    const c = limiter.acquire().then((r) => (order.push('c'), r));
    const d = limiter.acquire().then((r) => (order.push('d'), r));
    expect(limiter.load).toEqual({ active: 2, waiting: 2 });
    a();
    a(); // releasing twice frees one slot only
    const releaseC = await c;
    expect(order).toEqual(['c']);
    expect(limiter.load).toEqual({ active: 2, waiting: 1 });
    b();
    (await d)();
    releaseC();
    expect(limiter.load).toEqual({ active: 0, waiting: 0 });
  });

  it('refuses at once, retryably and saying nothing ran, when the queue is full', async () => {
    const limiter = new TargetLimiter('prod-db', { max: 1, maxWaiting: 1, waitMs: 5000 });
    await limiter.acquire();
    const waiting = limiter.acquire();
    const error = await limiter.acquire().catch((e) => e);
    expect(isAppError(error)).toBe(true);
    expect(error.httpStatus).toBe(503);
    expect(error.retryAfterSec).toBe(5);
    expect(error.message).toBe('All 1 connections of the gateway to "prod-db" are in use and 1 more are waiting; nothing was run. Try again in a few seconds.');
    void waiting.catch(() => {});
  });

  it('refuses a waiter whose wait ran out, and takes it off the queue', async () => {
    const limiter = new TargetLimiter('prod-db', { max: 1, maxWaiting: 3, waitMs: 20 });
    const release = await limiter.acquire();
    const error = await limiter.acquire().catch((e) => e);
    expect(error.message).toContain('none was free within 0 s');
    expect(limiter.load).toEqual({ active: 1, waiting: 0 });
    release();
    expect(limiter.load.active).toBe(0);
  });
});
