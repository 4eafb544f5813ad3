import { describe, expect, it } from 'vitest';
import { reapIdlePools } from '../../src/execution/pool-reaper.js';
import { TargetLimiter } from '../../src/execution/target-limiter.js';

const limits = { max: 2, maxWaiting: 2, waitMs: 1000 };

describe('reapIdlePools', () => {
  it('closes and forgets the pools unused for the idle time with nothing running, keeps the others', async () => {
    const now = 1_000_000;
    const busy = new TargetLimiter('busy', limits);
    const release = await busy.acquire();
    const pooled = new Map([
      ['old', { limiter: new TargetLimiter('old', limits), lastUsed: now - 61_000 }],
      ['recent', { limiter: new TargetLimiter('recent', limits), lastUsed: now - 1_000 }],
      ['busy', { limiter: busy, lastUsed: now - 120_000 }],
    ]);
    const ended: number[] = [];
    reapIdlePools(pooled, async (p) => void ended.push(p.lastUsed), 60_000, now);
    expect([...pooled.keys()].sort()).toEqual(['busy', 'recent']);
    expect(ended).toEqual([now - 61_000]);
    release();
    reapIdlePools(pooled, async () => {}, 60_000, now);
    expect([...pooled.keys()]).toEqual(['recent']);
  });

  it('does not let a pool that fails to close stop the others from closing', async () => {
    const pooled = new Map([
      ['a', { limiter: new TargetLimiter('a', limits), lastUsed: 0 }],
      ['b', { limiter: new TargetLimiter('b', limits), lastUsed: 0 }],
    ]);
    reapIdlePools(pooled, async () => {
      throw new Error('already closed');
    }, 10, 1000);
    expect(pooled.size).toBe(0);
  });
});
