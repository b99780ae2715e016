import { describe, expect, it } from 'vitest';
import { NewFlowLimiter } from './new-flow-limiter.js';

describe('NewFlowLimiter', () => {
  it('admits perSecond attempts per IP per one-second window', () => {
    let now = 10_000;
    const lim = new NewFlowLimiter({ perSecond: 3, clock: () => now });
    expect([1, 2, 3, 4, 5].map(() => lim.admit('192.0.2.1'))).toEqual([true, true, true, false, false]);
    expect(lim.admit('192.0.2.2')).toBe(true);
    now += 999;
    expect(lim.admit('192.0.2.1')).toBe(false);
    now += 1;
    expect([1, 2, 3, 4].map(() => lim.admit('192.0.2.1'))).toEqual([true, true, true, false]);
  });

  it('is off at 0', () => {
    const lim = new NewFlowLimiter({ perSecond: 0, clock: () => 0 });
    for (let i = 0; i < 1_000; i++) expect(lim.admit('192.0.2.1')).toBe(true);
  });

  it('fails open for sources beyond maxTrackedSources instead of growing', () => {
    const lim = new NewFlowLimiter({ perSecond: 1, clock: () => 0, maxTrackedSources: 2 });
    expect(lim.admit('a')).toBe(true);
    expect(lim.admit('b')).toBe(true);
    expect(lim.admit('a')).toBe(false);
    // 'c' is not tracked in this window, so it is never limited in it.
    expect([1, 2, 3].map(() => lim.admit('c'))).toEqual([true, true, true]);
  });
});
