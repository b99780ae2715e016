import { describe, expect, it } from 'vitest';
import { FLOOR_DB, levelOf, smoothLevel } from './level-meter.js';

const sine = (amplitude: number, n = 1024) =>
  Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * 440 * i) / 48_000));

describe('levelOf', () => {
  it('maps RMS dBFS from the floor to full scale onto 0..1', () => {
    expect(levelOf(new Float32Array(512))).toBe(0);
    expect(levelOf([])).toBe(0);
    // A full-scale square wave is 0 dBFS.
    expect(levelOf(Float32Array.from({ length: 512 }, (_, i) => (i % 2 ? 1 : -1)))).toBe(1);
    // A sine at amplitude 0.1 has RMS 0.0707: -23 dBFS, (60 - 23) / 60 of the way up.
    expect(levelOf(sine(0.1))).toBeCloseTo((-FLOOR_DB + 20 * Math.log10(0.1 / Math.SQRT2)) / -FLOOR_DB, 2);
    expect(levelOf(sine(0.0001))).toBe(0);
  });
});

describe('smoothLevel', () => {
  it('rises at once and falls gradually', () => {
    expect(smoothLevel(0.2, 0.9)).toBe(0.9);
    const fell = smoothLevel(0.9, 0);
    expect(fell).toBeLessThan(0.9);
    expect(fell).toBeGreaterThan(0.5);
  });
});
