import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SileroClassifier } from './silero-classifier.js';
import { SILERO_WINDOW, SileroModel, SileroUnavailable, sharedSilero } from './silero-onnx.js';

/** A committed second of espeak-ng speech ("hello there, I would like...") at 16 kHz. */
function speech(): Int16Array {
  const b = readFileSync(new URL('./fixtures/speech-16k.raw', import.meta.url));
  return new Int16Array(b.buffer, b.byteOffset, b.byteLength >> 1);
}

describe('Silero VAD through onnxruntime-node (the real model, synchronous binding)', () => {
  const model = sharedSilero();

  it('loads from the installed package and runs synchronously', () => {
    expect(model).toBeInstanceOf(SileroModel);
    const s = (model as SileroModel).stream();
    expect(s.prob(new Float32Array(SILERO_WINDOW))).toBeLessThan(0.1);
    expect(() => s.prob(new Float32Array(100))).toThrow(RangeError);
  });

  it('hears real speech and not silence, white noise or a steady tone; the energy gate skips the silence', () => {
    const m = model as SileroModel;
    const run = (pcm: Int16Array) => {
      const c = new SileroClassifier(m.stream());
      let speechFrames = 0;
      for (let i = 0; i + 320 <= pcm.length; i += 320)
        if (c.classify(pcm.subarray(i, i + 320))) speechFrames++;
      return { share: speechFrames / Math.floor(pcm.length / 320), windows: c.windows };
    };
    const voice = speech();
    const quiet = new Int16Array(16_000);
    const white = Int16Array.from(
      { length: 16_000 },
      (_, i) => Math.round(3_000 * Math.sin(i * 12.9898) * 43758.5453) % 3_000,
    );
    const tone = Int16Array.from({ length: 16_000 }, (_, i) =>
      Math.round(8_000 * Math.sin((2 * Math.PI * 440 * i) / 16_000)),
    );
    expect(run(voice).share).toBeGreaterThan(0.6);
    const q = run(quiet);
    expect(q.share).toBe(0);
    expect(q.windows.run).toBe(0); // silence never reaches the model
    expect(run(white).share).toBeLessThan(0.1);
    expect(run(tone).share).toBeLessThan(0.1);
  });

  it('calls most of real speech confident, a speech frame it doubts not, and a threshold above 1 nothing', () => {
    const m = model as SileroModel;
    const voice = speech();
    const count = (c: SileroClassifier) => {
      let speechFrames = 0;
      let confident = 0;
      for (let i = 0; i + 320 <= voice.length; i += 320) {
        const s = c.classify(voice.subarray(i, i + 320));
        if (s) speechFrames++;
        if (c.confident) {
          confident++;
          // Confident implies speech, and the probability behind it clears the bar.
          expect(s).toBe(true);
          expect(c.probability).toBeGreaterThanOrEqual(0.99);
        }
      }
      return { speechFrames, confident };
    };
    const d = count(new SileroClassifier(m.stream()));
    expect(d.confident).toBeGreaterThan(d.speechFrames / 2);
    expect(d.confident).toBeLessThanOrEqual(d.speechFrames);
    expect(count(new SileroClassifier(m.stream(), { confidentProbability: 1.1 })).confident).toBe(0);
  });

  it('noise whose level wanders stops reaching the model once heard, and speech over it still does', () => {
    const m = model as SileroModel;
    // Two seconds of hiss swelling 7 times a second (a fan's flutter), then the speech fixture over it.
    let seed = 7;
    const hiss = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 30 - 1;
    };
    const voice = speech();
    const noiseN = 32_000;
    const pcm = new Int16Array(noiseN + voice.length);
    for (let i = 0; i < pcm.length; i++) {
      const swell = 1 + 0.5 * Math.sin((2 * Math.PI * 7 * i) / 16_000);
      const v = 300 * swell * hiss() + (i >= noiseN ? (voice[i - noiseN] as number) : 0);
      pcm[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
    }
    const run = (c: SileroClassifier) => {
      let noiseRuns = 0;
      let speechFrames = 0;
      for (let i = 0; i + 320 <= pcm.length; i += 320) {
        const s = c.classify(pcm.subarray(i, i + 320));
        if (i + 320 === noiseN) noiseRuns = c.windows.run;
        if (i >= noiseN && s) speechFrames++;
      }
      return { noiseRuns, speechShare: speechFrames / Math.floor(voice.length / 320) };
    };
    const floorOnly = run(new SileroClassifier(m.stream(), { quietMarginDb: false }));
    const withQuiet = run(new SileroClassifier(m.stream()));
    expect(floorOnly.noiseRuns).toBeGreaterThan(20);
    expect(withQuiet.noiseRuns).toBeLessThan(floorOnly.noiseRuns / 2);
    expect(withQuiet.speechShare).toBeGreaterThan(0.6);
    expect(withQuiet.speechShare).toBeGreaterThanOrEqual(floorOnly.speechShare - 0.05);
  });

  it('a missing runtime is a SileroUnavailable, not a crash (the energy detector takes over)', () => {
    const e = new SileroUnavailable('x', new Error('cause'));
    expect(e.name).toBe('SileroUnavailable');
    expect((e.cause as Error).message).toBe('cause');
  });
});
