import { describe, expect, it } from 'vitest';
import { LevelQuantile } from './level-quantile.js';

describe('LevelQuantile (running quantile of frame levels)', () => {
  it('is NaN before the first frame and starts at it', () => {
    const q = new LevelQuantile(0.9, 1);
    expect(q.level).toBeNaN();
    q.push(-40);
    expect(q.level).toBe(-40);
  });

  it('settles where the asked-for share of levels lie under it', () => {
    const q = new LevelQuantile(0.9, 0.5);
    // Levels -60..-40 dB in a fixed shuffle (no RNG): the 90th percentile is -42.
    const levels = Array.from({ length: 21 }, (_, i) => -60 + ((i * 8) % 21));
    for (let round = 0; round < 400; round++) for (const l of levels) q.push(l);
    expect(q.level).toBeGreaterThan(-43.5);
    expect(q.level).toBeLessThan(-40.5);
    const under = levels.filter((l) => l < q.level).length / levels.length;
    expect(under).toBeGreaterThan(0.8);
  });

  it('follows a noise that gets louder, and falls back slowly', () => {
    const q = new LevelQuantile(0.9, 1);
    for (let i = 0; i < 100; i++) q.push(-60);
    for (let i = 0; i < 50; i++) q.push(-30);
    expect(q.level).toBeCloseTo(-30, 0);
    // Ten quiet frames pull it down about 1.1 dB (a wandering level, not a pause, moves it).
    for (let i = 0; i < 10; i++) q.push(-60);
    expect(q.level).toBeGreaterThan(-32);
    expect(q.level).toBeLessThan(-30.5);
  });

  it('rejects a quantile outside (0, 1)', () => {
    expect(() => new LevelQuantile(1)).toThrow(RangeError);
    expect(() => new LevelQuantile(0)).toThrow(RangeError);
  });
});
