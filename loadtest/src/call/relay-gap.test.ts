import { describe, expect, it } from 'vitest';
import { type GapCallResult, measureGap } from './relay-gap.js';

/** Probes every 20 ms from t=0, echoed 1 ms later, except those in `lost`. */
function call(total: number, lost: Set<number>, resumedAt: number): GapCallResult {
  const sentAt = Array.from({ length: total }, (_, i) => i * 20);
  const arrivals = new Map<number, number>();
  for (const [i, t] of sentAt.entries()) if (!lost.has(i)) arrivals.set(i, t + 1);
  return { resumedAt, arrivals, sentAt, total };
}

describe('measureGap', () => {
  it('reads the longest silence, the first echo after the disruption and the probes lost after it', () => {
    // Probes 50-59 lost (a 200 ms outage), the relay ready again at 1,190 ms; probe 70 lost later.
    const r = call(100, new Set([...Array.from({ length: 10 }, (_, k) => 50 + k), 70]), 1_190);
    const m = measureGap(r, r.resumedAt);
    expect(m.gap).toBe(220); // echo 49 at 981 ms, echo 60 at 1,201 ms
    expect(m.recovery).toBe(11);
    expect(m.lostAfter).toBe(1);
    expect(m.lost).toBe(11);
  });

  it('a call with nothing lost has a gap of one packet interval', () => {
    const m = measureGap(call(50, new Set(), 500), 500);
    expect(m).toEqual({ gap: 20, recovery: 1, lostAfter: 0, lost: 0 });
  });

  it('no echo after the disruption: recovery is infinite, so a bench can count it as a failure', () => {
    const r = call(50, new Set(Array.from({ length: 25 }, (_, k) => 25 + k)), 600);
    expect(measureGap(r, r.resumedAt).recovery).toBe(Number.POSITIVE_INFINITY);
  });
});
