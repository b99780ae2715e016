import { describe, expect, it } from 'vitest';
import { encodeFrame, Rfc4571Deframer } from './rfc4571-framing.js';

/** Deterministic PRNG (mulberry32): the fuzz below is seeded and reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function collect(d: Rfc4571Deframer, chunks: Buffer[]): { frames: Buffer[]; error?: string } {
  const frames: Buffer[] = [];
  for (const c of chunks) {
    const err = d.push(c, (f) => frames.push(Buffer.from(f)));
    if (err) return { frames, error: err };
  }
  return { frames };
}

describe('RFC 4571 framing', () => {
  it('round-trips frames however the stream is cut', () => {
    const packets = [Buffer.from([1]), Buffer.alloc(1200, 7), Buffer.from('stun'), Buffer.alloc(4096, 9)];
    const stream = Buffer.concat(packets.map(encodeFrame));
    for (const cut of [1, 2, 3, 7, 100, 1201, stream.length]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < stream.length; i += cut) chunks.push(stream.subarray(i, i + cut));
      const { frames, error } = collect(new Rfc4571Deframer(4096), chunks);
      expect(error).toBeUndefined();
      expect(frames.map((f) => f.toString('hex'))).toEqual(packets.map((p) => p.toString('hex')));
    }
  });

  it('refuses a length prefix above the bound before buffering anything', () => {
    const d = new Rfc4571Deframer(2048);
    const prefix = Buffer.from([0xff, 0xff]);
    expect(d.push(prefix, () => undefined)).toBe('frame_too_large');
    expect(d.buffered).toBe(0);
  });

  it('accepts a 64 KiB frame when configured to, in any chunking', () => {
    const big = Buffer.alloc(0xffff, 3);
    const stream = encodeFrame(big);
    const d = new Rfc4571Deframer(0xffff);
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 1000) chunks.push(stream.subarray(i, i + 1000));
    const { frames } = collect(d, chunks);
    expect(frames).toHaveLength(1);
    expect(frames[0]?.equals(big)).toBe(true);
    expect(() => encodeFrame(Buffer.alloc(0x10000))).toThrow(RangeError);
  });

  it('holds at most one partial frame: a truncated prefix or a trickle costs a bounded buffer', () => {
    const d = new Rfc4571Deframer(1500);
    d.push(Buffer.from([0x05]), () => undefined);
    expect(d.buffered).toBe(1);
    expect(d.midFrame).toBe(true);
    d.push(Buffer.from([0xdc]), () => undefined); // length 1500
    for (let i = 0; i < 1499; i++) d.push(Buffer.from([i & 255]), () => undefined);
    expect(d.buffered).toBe(1499);
    let got = 0;
    d.push(Buffer.from([0]), () => got++);
    expect(got).toBe(1);
    expect(d.buffered).toBe(0);
    expect(d.midFrame).toBe(false);
  });

  it('counts zero-length frames and skips them', () => {
    const d = new Rfc4571Deframer();
    const { frames } = collect(d, [
      Buffer.concat([Buffer.from([0, 0]), encodeFrame(Buffer.from('x')), Buffer.from([0, 0])]),
    ]);
    expect(frames.map(String)).toEqual(['x']);
    expect(d.emptyFrames).toBe(2);
  });

  it('fuzz (seeded, 2,000 streams): never throws, never buffers more than the bound, frames match what was framed', () => {
    const next = rng(0x4571);
    for (let round = 0; round < 2_000; round++) {
      const max = 1 + Math.floor(next() * 4096);
      const d = new Rfc4571Deframer(max);
      const mode = round % 3;
      // 0: valid frames; 1: valid frames with random garbage spliced in; 2: random bytes.
      const packets: Buffer[] = [];
      let stream: Buffer;
      if (mode === 2) {
        stream = Buffer.from(
          Array.from({ length: Math.floor(next() * 5000) }, () => Math.floor(next() * 256)),
        );
      } else {
        for (let i = Math.floor(next() * 20); i > 0; i--)
          packets.push(Buffer.alloc(1 + Math.floor(next() * Math.min(max, 3000)), Math.floor(next() * 256)));
        stream = Buffer.concat(packets.map(encodeFrame));
        if (mode === 1 && stream.length > 0) {
          const at = Math.floor(next() * stream.length);
          stream = Buffer.concat([
            stream.subarray(0, at),
            Buffer.from([Math.floor(next() * 256), 0xff]),
            stream.subarray(at),
          ]);
        }
      }
      const frames: Buffer[] = [];
      let error: string | undefined;
      for (let off = 0; off < stream.length && !error; ) {
        const n = 1 + Math.floor(next() * 700);
        error = d.push(stream.subarray(off, off + n), (f) => {
          expect(f.length).toBeLessThanOrEqual(max);
          frames.push(Buffer.from(f));
        });
        expect(d.buffered).toBeLessThanOrEqual(max + 1);
        off += n;
      }
      if (mode === 0) {
        expect(error).toBeUndefined();
        expect(frames.length).toBe(packets.length);
      }
    }
  });
});
