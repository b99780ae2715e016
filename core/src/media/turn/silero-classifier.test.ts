import { describe, expect, it } from 'vitest';
import { SileroClassifier } from './silero-classifier.js';
import type { SileroStream } from './silero-onnx.js';

/** A stand-in for the model's stream: a fixed probability, counting runs and resets. */
function fakeStream(p: number) {
  const s = {
    runs: 0,
    resets: 0,
    prob: () => {
      s.runs++;
      return p;
    },
    reset: () => {
      s.resets++;
    },
  };
  return s;
}

const tone = (amp: number) =>
  Int16Array.from({ length: 320 }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * 200 * i) / 16_000)));

function feed(c: SileroClassifier, frames: Int16Array, n: number): void {
  for (let i = 0; i < n; i++) c.classify(frames);
}

describe('SileroClassifier window scheduling (model stubbed)', () => {
  it('keeps the model state across windows the gate skipped, unless asked to reset it', () => {
    for (const [resetAfterSkip, resets] of [
      [false, 0],
      // Both loud stretches come after skipped windows.
      [true, 2],
    ] as const) {
      const s = fakeStream(0.01);
      const c = new SileroClassifier(s as unknown as SileroStream, { resetAfterSkip, foreground: false });
      feed(c, new Int16Array(320), 100); // silence: the floor settles, the gate stays shut
      const before = s.runs;
      feed(c, tone(8_000), 10); // loud: the gate opens
      expect(s.runs).toBeGreaterThan(before);
      feed(c, new Int16Array(320), 20); // silence again: skipped windows
      const quiet = s.runs;
      feed(c, tone(8_000), 10);
      expect(s.runs).toBeGreaterThan(quiet);
      expect(s.resets).toBe(resets);
    }
  });

  it('in steady speech runs one window in steadySkip + 1', () => {
    const runs = (steadySkip: number) => {
      const s = fakeStream(0.99);
      const c = new SileroClassifier(s as unknown as SileroStream, { steadySkip, foreground: false });
      feed(c, tone(8_000), 160); // 3.2 s = 100 windows of steady speech
      return s.runs;
    };
    // Two windows to become steady, then one in two / one in three.
    expect(runs(1)).toBeGreaterThanOrEqual(50);
    expect(runs(1)).toBeLessThanOrEqual(52);
    expect(runs(2)).toBeGreaterThanOrEqual(34);
    expect(runs(2)).toBeLessThanOrEqual(36);
  });
});
