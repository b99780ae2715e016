import { describe, expect, it } from 'vitest';
import { pitchOf, semitones, slope } from './pitch.js';

const RATE = 16_000;

/** A glide from f0a to f0b Hz over `ms`, with two harmonics (a voice-like periodic signal). */
function glide(f0a: number, f0b: number, ms: number, amp = 8_000): Int16Array {
  const n = Math.round((ms * RATE) / 1000);
  const out = new Int16Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const f = f0a + ((f0b - f0a) * i) / n;
    phase += (2 * Math.PI * f) / RATE;
    out[i] = Math.round(amp * (Math.sin(phase) + 0.5 * Math.sin(2 * phase) + 0.3 * Math.sin(3 * phase)));
  }
  return out;
}

/** Pitch per 20 ms hop over 40 ms windows, as the end-of-turn cue reads it. */
function track(x: Int16Array): number[] {
  const hop = RATE / 50;
  const out: number[] = [];
  for (let at = 0; at + 2 * hop <= x.length; at += hop) out.push(pitchOf(x.subarray(at, at + 2 * hop)).f0);
  return out;
}

describe('pitch tracker (synthetic tones)', () => {
  it.each([80, 120, 200, 310])('finds a steady %i Hz within 2 %, voiced', (hz) => {
    const p = pitchOf(glide(hz, hz, 40));
    expect(Math.abs(p.f0 - hz) / hz).toBeLessThan(0.02);
    expect(p.voicing).toBeGreaterThan(0.9);
  });

  it('does not halve the pitch (octave-down error) on a tone with a strong second harmonic', () => {
    const n = 640;
    const x = new Int16Array(n);
    for (let i = 0; i < n; i++)
      x[i] = Math.round(
        3_000 * Math.sin((2 * Math.PI * 150 * i) / RATE) + 6_000 * Math.sin((2 * Math.PI * 300 * i) / RATE),
      );
    expect(pitchOf(x).f0).toBeCloseTo(150, -1);
  });

  it('calls white noise and silence unvoiced', () => {
    let s = 1;
    const noise = new Int16Array(640).map(() => {
      s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
      return (s / 2 ** 31 - 0.5) * 16_000;
    });
    expect(pitchOf(noise).f0).toBe(0);
    expect(pitchOf(new Int16Array(640)).f0).toBe(0);
    expect(pitchOf(new Int16Array(640)).db).toBe(-120);
  });

  it('recovers the slope of a falling and a rising glide in semitones per second', () => {
    // 200 -> 150 Hz over 500 ms: -4.98 semitones in 0.5 s = -9.96 st/s; the rise is its mirror.
    for (const [a, b] of [
      [200, 150],
      [150, 200],
    ] as const) {
      const f0 = track(glide(a, b, 500));
      const t = f0.map((_, i) => (i * 20 + 20) / 1000);
      const expected = (semitones(b) - semitones(a)) / 0.5;
      expect(slope(t, f0.map(semitones))).toBeCloseTo(expected, 0);
    }
  });

  it('slope is least squares and 0 for fewer than two points', () => {
    expect(slope([0, 1, 2], [1, 3, 5])).toBe(2);
    expect(slope([1], [4])).toBe(0);
  });

  it('works at 48 kHz (decimated to 8 kHz)', () => {
    const n = 1920;
    const x = new Int16Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.round(8_000 * Math.sin((2 * Math.PI * 180 * i) / 48_000));
    expect(pitchOf(x, { rate: 48_000 }).f0).toBeCloseTo(180, -1);
  });
});
