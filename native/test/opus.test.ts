import { describe, expect, it } from 'vitest';
import { OpusDecoder, OpusEncoder } from '../../core/src/media/opus-codec.js';
import { loadNativeOpus, nativeOpusLoadError } from '../opus/index.cjs';

const native = loadNativeOpus();

// The addon is part of the build (`npm run build` compiles it when the Debian -dev package is
// installed, as .ci/run makes sure): a missing one is a failure, not a skip.
it('the libopus addon is built and loads', () => {
  expect(nativeOpusLoadError()?.message).toBeUndefined();
  expect(native?.version).toMatch(/^libopus /);
});

interface Enc {
  encode(pcm: Int16Array): Uint8Array;
}
interface Dec {
  decode(packet: Uint8Array): Int16Array;
}

function sine(rate: number, seconds: number, hz = 440, amplitude = 12_000): Int16Array {
  return Int16Array.from({ length: rate * seconds }, (_, i) =>
    Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate)),
  );
}

/** Best normalised cross-correlation of `out` against `input` over codec delays 0..maxLag samples. */
function correlation(input: Int16Array, out: Int16Array, skip: number, maxLag: number): number {
  let best = -1;
  for (let lag = 0; lag <= maxLag; lag++) {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = skip; i + lag < out.length && i < input.length; i++) {
      const x = input[i] as number;
      const y = out[i + lag] as number;
      xy += x * y;
      xx += x * x;
      yy += y * y;
    }
    if (xx > 0 && yy > 0) best = Math.max(best, xy / Math.sqrt(xx * yy));
  }
  return best;
}

function roundTrip(enc: Enc, dec: Dec, rate: number) {
  const spf = rate / 50;
  const input = sine(rate, 1);
  const out = new Int16Array(input.length);
  const sizes: number[] = [];
  for (let f = 0; f < input.length / spf; f++) {
    const packet = enc.encode(input.subarray(f * spf, (f + 1) * spf));
    const pcm = dec.decode(packet);
    sizes.push(pcm.length);
    out.set(pcm, f * spf);
  }
  // Skip the first 100 ms (encoder start-up); search delays up to 10 ms (lookahead is 6.5 ms).
  return { sizes, corr: correlation(input, out, rate / 10, rate / 100) };
}

const opts = (rate: number) => ({ sampleRate: rate, complexity: 5, inbandFec: true, packetLossPercent: 10 });

describe('libopus addon', () => {
  // (the body is still collected when skipped, so no destructuring of undefined)
  const { NativeOpusEncoder, NativeOpusDecoder, NativeOpusError } = (native ?? {}) as NonNullable<
    typeof native
  >;

  for (const rate of [16_000, 48_000]) {
    describe(`${rate / 1000} kHz mono, 20 ms`, () => {
      it('decodes what the WebAssembly encoder produced', () => {
        const { sizes, corr } = roundTrip(
          new OpusEncoder({ ...opts(rate), backend: 'wasm' }),
          new NativeOpusDecoder(rate, 1),
          rate,
        );
        expect(new Set(sizes)).toEqual(new Set([rate / 50]));
        expect(corr).toBeGreaterThan(0.9);
      });

      it('encodes what the WebAssembly decoder can decode', () => {
        const { sizes, corr } = roundTrip(
          new NativeOpusEncoder(opts(rate)),
          new OpusDecoder(rate, 1, 'wasm'),
          rate,
        );
        expect(new Set(sizes)).toEqual(new Set([rate / 50]));
        expect(corr).toBeGreaterThan(0.9);
      });

      it('native to native, through the *Into calls', () => {
        const enc = new NativeOpusEncoder(opts(rate));
        const dec = new NativeOpusDecoder(rate, 1);
        const spf = rate / 50;
        const input = sine(rate, 1, 300);
        const out = new Int16Array(input.length);
        const packet = new Uint8Array(1500);
        const pcm = new Int16Array((rate / 1000) * 120);
        for (let f = 0; f < 50; f++) {
          const n = enc.encodeInto(input.subarray(f * spf, (f + 1) * spf), packet);
          expect(n).toBeGreaterThan(0);
          expect(dec.decodeInto(packet.subarray(0, n), pcm)).toBe(spf);
          out.set(pcm.subarray(0, spf), f * spf);
        }
        expect(correlation(input, out, rate / 10, rate / 100)).toBeGreaterThan(0.9);
        expect(enc.lookahead).toBeGreaterThan(0);
      });

      it('recovers a lost frame from in-band FEC and conceals without data', () => {
        const enc = new NativeOpusEncoder(opts(rate));
        const dec = new NativeOpusDecoder(rate, 1);
        const spf = rate / 50;
        const input = sine(rate, 1, 300);
        const packets = Array.from({ length: 50 }, (_, f) =>
          enc.encode(input.subarray(f * spf, (f + 1) * spf)),
        );
        for (let f = 0; f < 20; f++) dec.decode(packets[f] as Buffer);
        // packet 20 lost: rebuild it from packet 21's FEC, then decode 21 normally
        const fec = dec.decodeFec(packets[21] as Buffer, spf);
        expect(fec.length).toBe(spf);
        expect(fec.some((s) => s !== 0)).toBe(true);
        expect(dec.decode(packets[21] as Buffer).length).toBe(spf);
        expect(dec.conceal(spf).length).toBe(spf);
        // and the WebAssembly decoder gets the same counts from the addon's packets
        const wasm = new OpusDecoder(rate, 1, 'wasm');
        for (let f = 0; f < 20; f++) wasm.decode(packets[f] as Buffer);
        expect(wasm.decodeFec(packets[21] as Buffer, spf).length).toBe(spf);
      });
    });
  }

  it('reports errors as NativeOpusError with the libopus code', () => {
    const enc = new NativeOpusEncoder({ sampleRate: 16_000 });
    expect(() => enc.encode(new Int16Array(123))).toThrow(NativeOpusError);
    const dec = new NativeOpusDecoder(16_000, 1);
    expect(() => dec.decode(new Uint8Array(0))).toThrow(NativeOpusError);
    expect(() => new NativeOpusEncoder({ sampleRate: 44_100 })).toThrow(RangeError);
    enc.close();
    expect(() => enc.encode(new Int16Array(320))).toThrow(/invalid state/);
  });
});
