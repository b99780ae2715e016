import { describe, expect, it } from 'vitest';
import { Resampler } from './resampler.js';

function tone(freq: number, rate: number, samples: number, amp = 10_000): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

/** Amplitude of `freq` in x (single-bin DFT), skipping `skip` samples of start-up. */
function level(x: Int16Array, freq: number, rate: number, skip = 200): number {
  let re = 0;
  let im = 0;
  const n = x.length - skip;
  for (let i = skip; i < x.length; i++) {
    re += (x[i] as number) * Math.cos((2 * Math.PI * freq * i) / rate);
    im += (x[i] as number) * Math.sin((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / n;
}

function feed(r: Resampler, x: Int16Array, chunk: number): Int16Array {
  const parts: Int16Array[] = [];
  for (let i = 0; i < x.length; i += chunk) parts.push(r.process(x.subarray(i, i + chunk)));
  const out = new Int16Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('Resampler', () => {
  it('48 -> 16 kHz keeps a 1 kHz tone at its level and yields 320 samples per 20 ms frame in steady state', () => {
    const r = new Resampler(48_000, 16_000);
    const x = tone(1000, 48_000, 48_000);
    const lens: number[] = [];
    const parts: Int16Array[] = [];
    for (let i = 0; i < x.length; i += 960) {
      const p = r.process(x.subarray(i, i + 960));
      lens.push(p.length);
      parts.push(p);
    }
    expect(lens.slice(2)).toEqual(lens.slice(2).map(() => 320));
    const y = Int16Array.from(parts.flatMap((p) => [...p]));
    expect(level(y, 1000, 16_000)).toBeGreaterThan(9_700);
    expect(level(y, 1000, 16_000)).toBeLessThan(10_300);
  });

  it('48 -> 16 kHz removes a 12 kHz tone that would alias to 4 kHz', () => {
    const y = feed(new Resampler(48_000, 16_000), tone(12_000, 48_000, 48_000), 960);
    // Without the anti-alias filter this would be a 4 kHz tone at full level.
    expect(level(y, 4000, 16_000)).toBeLessThan(100);
  });

  it('16 -> 48 kHz interpolates a tone with no images, and gives three times the samples', () => {
    const x = tone(700, 16_000, 16_000);
    const y = feed(new Resampler(16_000, 48_000), x, 320);
    expect(Math.abs(y.length - 48_000)).toBeLessThanOrEqual(3 * 16 + 3);
    expect(level(y, 700, 48_000)).toBeGreaterThan(9_700);
    // The first image of 700 Hz at 16 kHz sits at 15.3 kHz.
    expect(level(y, 15_300, 48_000)).toBeLessThan(100);
  });

  it('chunking does not change the output (state carries across calls)', () => {
    const x = tone(440, 48_000, 9_600);
    const whole = feed(new Resampler(48_000, 24_000), x, x.length);
    const pieces = feed(new Resampler(48_000, 24_000), x, 137);
    expect(Array.from(pieces.subarray(0, whole.length))).toEqual(Array.from(whole));
  });

  it('does not shift the content in time: a click stays at its instant', () => {
    const x = new Int16Array(4_800);
    x[2_400] = 30_000;
    const y = feed(new Resampler(48_000, 16_000), x, 960);
    let peak = 0;
    for (let i = 1; i < y.length; i++) if (Math.abs(y[i] as number) > Math.abs(y[peak] as number)) peak = i;
    expect(peak).toBe(800);
  });

  it('primed: every 20 ms chunk yields exactly its share, the content delayed by `latency` samples', () => {
    const down = new Resampler(48_000, 16_000, { prime: true });
    const up = new Resampler(16_000, 48_000, { prime: true });
    expect(down.latency).toBe(16);
    expect(up.latency).toBe(48);
    const x = new Int16Array(4_800);
    x[2_400] = 30_000;
    const lens: number[] = [];
    const parts: Int16Array[] = [];
    for (let i = 0; i < x.length; i += 960) {
      const y = up.process(down.process(x.subarray(i, i + 960)));
      lens.push(y.length);
      parts.push(y);
    }
    expect(lens).toEqual([960, 960, 960, 960, 960]);
    const y = Int16Array.from(parts.flatMap((p) => [...p]));
    let peak = 0;
    for (let i = 1; i < y.length; i++) if (Math.abs(y[i] as number) > Math.abs(y[peak] as number)) peak = i;
    // 16 samples at 16 kHz + 48 at 48 kHz = 96 samples = 2 ms.
    expect(peak).toBe(2_400 + 96);
  });

  it('handles 44.1 <-> 48 kHz and passes equal rates through', () => {
    const y = feed(new Resampler(44_100, 48_000), tone(1000, 44_100, 44_100), 441);
    expect(level(y, 1000, 48_000)).toBeGreaterThan(9_500);
    const same = new Resampler(16_000, 16_000);
    expect(same.passthrough).toBe(true);
    expect(Array.from(same.process(Int16Array.of(1, 2, 3)))).toEqual([1, 2, 3]);
    expect(() => new Resampler(0, 16_000)).toThrow(RangeError);
  });
});
