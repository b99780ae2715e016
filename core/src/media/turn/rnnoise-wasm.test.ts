import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RnnoiseModule } from './rnnoise-wasm.js';

const rms = (x: Int16Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / Math.max(1, x.length));

describe('RNNoise (WebAssembly) noise suppression', () => {
  it('keeps 20 ms in, 20 ms out at 16 kHz; takes most of steady white noise away and keeps speech', async () => {
    const m = await RnnoiseModule.load();
    expect(RnnoiseModule.ready).toBe(m);
    let seed = 3;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed / 0x7fffffff - 0.5;
    };
    const noise = Int16Array.from({ length: 32_000 }, () => Math.round(rand() * 2_000));
    const ns = m.suppressor(16_000);
    const out: Int16Array[] = [];
    for (let i = 0; i < noise.length; i += 320) {
      const y = ns.process(noise.subarray(i, i + 320));
      expect(y.length).toBe(320);
      out.push(y);
    }
    // After it has learnt the noise (the second second), at least 10 dB less of it.
    const late = Int16Array.from(out.slice(50).flatMap((f) => Array.from(f)));
    expect(20 * Math.log10(rms(noise.subarray(16_000)) / rms(late))).toBeGreaterThan(10);

    const b = readFileSync(new URL('./fixtures/speech-16k.raw', import.meta.url));
    const speech = new Int16Array(b.buffer, b.byteOffset, b.byteLength >> 1);
    const ns2 = m.suppressor(16_000);
    const kept: number[] = [];
    for (let i = 0; i + 320 <= speech.length; i += 320)
      kept.push(...ns2.process(speech.subarray(i, i + 320)));
    expect(rms(Int16Array.from(kept)) / rms(speech)).toBeGreaterThan(0.5);
    ns.close();
    ns2.close();
    expect(ns.process(noise.subarray(0, 320))).toEqual(noise.subarray(0, 320)); // closed: passes through
  });
});
