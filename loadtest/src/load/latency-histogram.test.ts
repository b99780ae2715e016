import { describe, expect, it } from 'vitest';
import { percentile } from '../call/stats.js';
import { LatencyHistogram } from './latency-histogram.js';

describe('LatencyHistogram', () => {
  it('is empty until it sees a sample', () => {
    const h = new LatencyHistogram();
    expect(h.count).toBe(0);
    expect(h.percentile(50)).toBeNaN();
    expect(h.mean).toBeNaN();
  });

  it('matches exact nearest-rank percentiles within half a bucket (0.5 %)', () => {
    // A skewed sample like RTTs: mostly ~2 ms, a tail to 80 ms; deterministic LCG so a failure reproduces.
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const values = Array.from({ length: 20_000 }, () => 1 + rand() * 2 + (rand() < 0.02 ? rand() * 80 : 0));
    const h = new LatencyHistogram();
    for (const v of values) h.record(v);
    for (const p of [1, 50, 90, 95, 99, 99.9]) {
      const exact = percentile(values, p);
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThan(0.005);
    }
    expect(h.percentile(0)).toBe(Math.min(...values));
    expect(h.percentile(100)).toBe(Math.max(...values));
    expect(h.count).toBe(values.length);
    expect(h.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
  });

  it('clamps values outside its bounds into the end buckets and ignores non-finite ones', () => {
    const h = new LatencyHistogram(0.01, 100);
    h.record(-5);
    h.record(0);
    h.record(1e9);
    h.record(Number.NaN);
    h.record(Number.POSITIVE_INFINITY);
    expect(h.count).toBe(3);
    expect(h.percentile(50)).toBe(0.01);
    expect(h.percentile(99)).toBe(100);
    expect(h.max).toBe(1e9);
  });

  it('merges another histogram as if it had seen the samples itself', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const all = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) {
      (i % 3 === 0 ? a : b).record(i / 10);
      all.record(i / 10);
    }
    a.merge(b);
    expect(a.count).toBe(1000);
    for (const p of [10, 50, 99]) expect(a.percentile(p)).toBe(all.percentile(p));
    expect(() => a.merge(new LatencyHistogram(1, 10))).toThrow(/different bounds/);
  });

  it('forgets everything on reset', () => {
    const h = new LatencyHistogram();
    h.record(3);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.percentile(50)).toBeNaN();
    h.record(7);
    expect(h.percentile(50)).toBeCloseTo(7, 1);
  });
});
