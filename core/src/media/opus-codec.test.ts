import { describe, expect, it } from 'vitest';
import { OpusDecoder, OpusEncoder, OpusError } from './opus-codec.js';

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

describe('Opus codec (libopus WebAssembly)', () => {
  it('round-trips a tone: 20 ms frames come back 960 samples long with the energy kept', () => {
    const enc = new OpusEncoder();
    const dec = new OpusDecoder();
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
    enc.close();
    dec.close();
  });

  it('conceals a lost frame and recovers one from in-band FEC of the next packet', () => {
    const enc = new OpusEncoder({ sampleRate: 48_000, inbandFec: true, packetLossPercent: 20 });
    const dec = new OpusDecoder();
    const pkts = Array.from({ length: 30 }, (_, f) => enc.encode(tone(300, 960, 48_000, f * 960)));
    for (let f = 0; f < 20; f++) dec.decode(pkts[f] as Buffer);
    const fec = dec.decodeFec(pkts[21] as Buffer, 960);
    expect(fec.length).toBe(960);
    expect(rms(fec)).toBeGreaterThan(1000);
    expect(dec.decode(pkts[21] as Buffer).length).toBe(960);
    const plc = dec.conceal(960);
    expect(plc.length).toBe(960);
  });

  it('rejects a malformed packet with an OpusError, and the decoder keeps working', () => {
    const dec = new OpusDecoder();
    // TOC code 3 with a frame count of 0 is invalid (RFC 6716 section 3.2.5).
    expect(() => dec.decode(Buffer.from([0xfb, 0x00]))).toThrow(OpusError);
    expect(() => dec.decode(Buffer.alloc(0))).toThrow(OpusError);
    const enc = new OpusEncoder();
    expect(dec.decode(enc.encode(tone(200, 960))).length).toBe(960);
  });

  it('runs at 16 kHz and refuses rates Opus does not support', () => {
    const enc = new OpusEncoder({ sampleRate: 16_000 });
    const dec = new OpusDecoder(16_000);
    expect(dec.decode(enc.encode(tone(200, 320, 16_000))).length).toBe(320);
    expect(() => new OpusDecoder(44_100)).toThrow(RangeError);
    enc.close();
    expect(() => enc.encode(tone(200, 320, 16_000))).toThrow(OpusError);
  });
});
