import { describe, expect, it } from 'vitest';
import { niceCeiling, plotRtt, RttHistory } from './rtt-history.js';

describe('RttHistory', () => {
  it('keeps only the last minute, and drops unusable readings', () => {
    const h = new RttHistory(60_000);
    h.add(0, 5);
    h.add(30_000, Number.NaN);
    h.add(30_000, -1);
    h.add(30_000, 7);
    h.add(61_000, 9);
    expect(h.window(61_000)).toEqual([
      { at: 30_000, rttMs: 7 },
      { at: 61_000, rttMs: 9 },
    ]);
    expect(h.window(100_000)).toEqual([{ at: 61_000, rttMs: 9 }]);
    h.clear();
    expect(h.window(100_000)).toEqual([]);
  });
});

describe('plotRtt', () => {
  it('puts now at the right edge, a minute ago at the left, 0 ms at the bottom', () => {
    const plot = plotRtt(
      [
        { at: 40_000, rttMs: 0 },
        { at: 70_000, rttMs: 10 },
        { at: 100_000, rttMs: 5 },
      ],
      100_000,
      { width: 300, height: 90 },
    );
    expect(plot).toEqual({ path: 'M0 90 L150 0 L300 45', maxMs: 10 });
  });

  it('no readings: an empty path and the smallest scale', () => {
    expect(plotRtt([], 0, { width: 300, height: 90 })).toEqual({ path: '', maxMs: 5 });
  });
});

describe('niceCeiling', () => {
  it.each([
    [0, 5],
    [3, 5],
    [5, 5],
    [5.1, 10],
    [11, 20],
    [21, 50],
    [120, 200],
    [Number.POSITIVE_INFINITY, 5],
  ])('%d ms → %d', (ms, nice) => {
    expect(niceCeiling(ms)).toBe(nice);
  });
});
