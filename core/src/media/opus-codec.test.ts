import { afterEach, describe, expect, it } from 'vitest';
import {
  availableOpusBackends,
  type OpusBackendName,
  OpusDecoder,
  OpusEncoder,
  OpusError,
  opusBackendName,
} from './opus-codec.js';

function tone(freq: number, samples: number, rate = 48_000, offset = 0, amp = 8000): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++)
    out[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * (i + offset)) / rate));
  return out;
}

function rms(x: Int16Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / Math.max(1, x.length));
}

function correlation(a: Int16Array, b: Int16Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / Math.sqrt(aa * bb || 1);
}

const native = availableOpusBackends().includes('libopus');

// Both builds run the same tests: WebAssembly stays covered where the addon is the default.
// Without the addon (not built) its half is skipped; native/test fails the build for that.
describe.each<{ backend: OpusBackendName; skip: boolean }>([
  { backend: 'libopus', skip: !native },
  { backend: 'wasm', skip: false },
])('Opus codec ($backend)', ({ backend, skip }) => {
  it.skipIf(skip)('round-trips a tone: 20 ms frames come back 960 samples long with the energy kept', () => {
    const enc = new OpusEncoder({ backend });
    const dec = new OpusDecoder(48_000, 1, backend);
    expect([enc.backend, dec.backend]).toEqual([backend, backend]);
    const outs: Int16Array[] = [];
    for (let f = 0; f < 25; f++) {
      const pkt = enc.encode(tone(440, 960, 48_000, f * 960));
      expect(pkt.length).toBeGreaterThan(10);
      expect(pkt.length).toBeLessThan(400);
      const pcm = dec.decode(pkt);
      expect(pcm.length).toBe(960);
      outs.push(pcm);
    }
    // After the codec's start-up, the level matches the input's (8000/sqrt 2).
    expect(rms(outs[20] as Int16Array)).toBeGreaterThan(4000);
    expect(rms(outs[20] as Int16Array)).toBeLessThan(7000);
    expect(enc.lookahead).toBe(312); // 6.5 ms at 48 kHz (voip)
    enc.close();
    dec.close();
  });

  it.skipIf(skip)('conceals a lost frame and recovers one from in-band FEC of the next packet', () => {
    const enc = new OpusEncoder({ sampleRate: 48_000, inbandFec: true, packetLossPercent: 20, backend });
    const dec = new OpusDecoder(48_000, 1, backend);
    const pkts = Array.from({ length: 30 }, (_, f) => enc.encode(tone(300, 960, 48_000, f * 960)));
    for (let f = 0; f < 20; f++) dec.decode(pkts[f] as Buffer);
    const fec = dec.decodeFec(pkts[21] as Buffer, 960);
    expect(fec.length).toBe(960);
    expect(rms(fec)).toBeGreaterThan(1000);
    expect(dec.decode(pkts[21] as Buffer).length).toBe(960);
    const plc = dec.conceal(960);
    expect(plc.length).toBe(960);
  });

  it.skipIf(skip)(
    'the *Into variants write into the caller buffer and agree with the allocating calls',
    () => {
      const enc = new OpusEncoder({ sampleRate: 16_000, backend });
      const twin = new OpusEncoder({ sampleRate: 16_000, backend });
      const a = new OpusDecoder(16_000, 1, backend);
      const b = new OpusDecoder(16_000, 1, backend);
      const packet = new Uint8Array(4000);
      const pcm = new Int16Array(1920);
      for (let f = 0; f < 10; f++) {
        const frame = tone(250, 320, 16_000, f * 320);
        const n = enc.encodeInto(frame, packet);
        const ref = twin.encode(frame);
        expect(Buffer.from(packet.subarray(0, n))).toEqual(ref);
        expect(a.decodeInto(ref, pcm)).toBe(320);
        expect(pcm.subarray(0, 320)).toEqual(b.decode(ref));
      }
      expect(a.concealInto(320, pcm)).toBe(320);
      expect(pcm.subarray(0, 320)).toEqual(b.conceal(320));
      // Too small an output buffer is refused, never overrun.
      expect(() => a.concealInto(320, new Int16Array(100))).toThrow(OpusError);
    },
  );

  it.skipIf(skip)('rejects a malformed packet with an OpusError, and the decoder keeps working', () => {
    const dec = new OpusDecoder(48_000, 1, backend);
    // TOC code 3 with a frame count of 0 is invalid (RFC 6716 section 3.2.5).
    expect(() => dec.decode(Buffer.from([0xfb, 0x00]))).toThrow(OpusError);
    try {
      dec.decode(Buffer.from([0xfb, 0x00]));
    } catch (err) {
      expect((err as OpusError).code).toBe(-4); // OPUS_INVALID_PACKET
      expect((err as OpusError).message).toMatch(/^opus_decode: corrupted stream/);
    }
    expect(() => dec.decode(Buffer.alloc(0))).toThrow(OpusError);
    const enc = new OpusEncoder({ backend });
    expect(dec.decode(enc.encode(tone(200, 960))).length).toBe(960);
    // A frame length libopus cannot encode (7 ms) is OPUS_BAD_ARG.
    expect(() => enc.encode(new Int16Array(336))).toThrow(expect.objectContaining({ code: -1 }));
  });

  it.skipIf(skip)('runs at 16 kHz and refuses rates Opus does not support', () => {
    const enc = new OpusEncoder({ sampleRate: 16_000, backend });
    const dec = new OpusDecoder(16_000, 1, backend);
    expect(dec.decode(enc.encode(tone(200, 320, 16_000))).length).toBe(320);
    expect(() => new OpusDecoder(44_100, 1, backend)).toThrow(RangeError);
    expect(() => new OpusEncoder({ sampleRate: 44_100, backend })).toThrow(RangeError);
    enc.close();
    expect(() => enc.encode(tone(200, 320, 16_000))).toThrow(OpusError);
    dec.close();
    expect(() => dec.conceal(320)).toThrow(OpusError);
  });
});

describe('Opus backends together', () => {
  const saved = process.env.PARLEY_OPUS;
  afterEach(() => {
    if (saved === undefined) delete process.env.PARLEY_OPUS;
    else process.env.PARLEY_OPUS = saved;
  });

  it('libopus when the addon is loaded, WebAssembly with PARLEY_OPUS=wasm', () => {
    delete process.env.PARLEY_OPUS;
    expect(opusBackendName()).toBe(native ? 'libopus' : 'wasm');
    expect(new OpusDecoder().backend).toBe(opusBackendName());
    process.env.PARLEY_OPUS = 'wasm';
    expect(opusBackendName()).toBe('wasm');
    expect(new OpusEncoder().backend).toBe('wasm');
  });

  // The same library on both sides: each decodes the other's packets, FEC and all.
  it.skipIf(!native).each([
    ['libopus', 'wasm'],
    ['wasm', 'libopus'],
  ] as const)('encodes with %s, decodes with %s (16 and 48 kHz, FEC of a lost frame)', (from, to) => {
    for (const rate of [16_000, 48_000]) {
      const spf = rate / 50;
      const enc = new OpusEncoder({ sampleRate: rate, packetLossPercent: 20, backend: from });
      const dec = new OpusDecoder(rate, 1, to);
      const ref = new OpusDecoder(rate, 1, from);
      const pkts = Array.from({ length: 30 }, (_, f) => enc.encode(tone(440, spf, rate, f * spf)));
      for (let f = 0; f < 20; f++) {
        const pcm = dec.decode(pkts[f] as Buffer);
        expect(pcm.length).toBe(spf);
        // Both builds hear the same thing (here they are bit-identical; float decoders of other
        // libopus versions need not be, so the check is a near-perfect correlation)...
        if (f >= 5) expect(correlation(pcm, ref.decode(pkts[f] as Buffer))).toBeGreaterThan(0.999);
        else ref.decode(pkts[f] as Buffer);
      }
      expect(rms(dec.decode(pkts[19] as Buffer))).toBeGreaterThan(4000);
      // ...and frame 20 "lost": rebuilt from the FEC in packet 21.
      const fec = dec.decodeFec(pkts[21] as Buffer, spf);
      expect(fec.length).toBe(spf);
      expect(rms(fec)).toBeGreaterThan(1000);
      enc.close();
      dec.close();
      ref.close();
    }
  });
});
