// How the Analytics page writes a time to decision.
import { describe, expect, it } from 'vitest';
import { duration } from '../../web/src/duration.ts';

describe('duration', () => {
  it('keeps a tenth under ten seconds, so a quick decision is not "0s"', () => {
    expect(duration(0.04)).toBe('0s');
    expect(duration(0.36)).toBe('0.4s');
    expect(duration(9.94)).toBe('9.9s');
    expect(duration(9.96)).toBe('10s');
  });
  it('writes minutes, hours and days in two units', () => {
    expect(duration(135)).toBe('2m 15s');
    expect(duration(3 * 3600 + 20 * 60)).toBe('3h 20m');
    expect(duration(2 * 86_400 + 4 * 3600)).toBe('2d 4h');
    expect(duration(null)).toBe('–');
  });
});
