import { describe, expect, it } from 'vitest';
import { arrivalUnits, isRtp, newRtpQuality, observeRtp, type RtpQuality, summarize } from './rtp-quality.js';

function rtp(seq: number, ts: number, ssrc = 0x11223344, pt = 111): Buffer {
  const b = Buffer.alloc(60);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

/** 20 ms Opus packets: 960 timestamp units apart at 48 kHz. */
function feed(
  q: RtpQuality,
  seqs: number[],
  opts: { startSeq?: number; arrive?: (i: number, seq: number) => number } = {},
) {
  const arrive = opts.arrive ?? ((_i: number, seq: number) => seq * 960 + 5_000);
  seqs.forEach((seq, i) => {
    observeRtp(q, rtp(seq, seq * 960), arrive(i, seq));
  });
}

describe('rtp quality (RFC 3550 A.1/A.3/A.8, integers)', () => {
  it('counts nothing for RTCP, DTLS, STUN or short packets', () => {
    const q = newRtpQuality();
    const rtcp = rtp(1, 1, 1, 200);
    for (const b of [rtcp, Buffer.from([22, 0xfe, 0xfd, 0]), Buffer.alloc(20), rtp(1, 1).subarray(0, 11)])
      observeRtp(q, b, 0);
    expect(q.received).toBe(0);
    expect(isRtp(rtp(1, 1, 1, 0x80 | 111))).toBe(true); // marker bit set on PT 111
    expect(isRtp(rtcp)).toBe(false);
  });

  it('a clean stream on a steady clock: no loss, no reordering, zero jitter', () => {
    const q = newRtpQuality();
    feed(
      q,
      Array.from({ length: 500 }, (_, i) => 1000 + i),
    );
    expect(summarize(q)).toMatchObject({ packets: 500, expected: 500, lost: 0, reordered: 0, jitterMs: 0 });
  });

  it('counts exactly the sequence numbers that never came, across a wrap', () => {
    const q = newRtpQuality();
    const seqs: number[] = [];
    for (let s = 65_000; s < 65_000 + 2_000; s++) if (s % 7 !== 0) seqs.push(s & 0xffff);
    feed(q, seqs);
    const dropped = 2_000 - seqs.length;
    // The last dropped multiple of 7 beyond the last packet is not "expected" yet.
    const lastSent = seqs.at(-1) as number;
    const expected = ((lastSent - 65_000 + 0x10000) % 0x10000) + 1;
    const s = summarize(q);
    expect(s.expected).toBe(expected);
    expect(s.lost).toBe(expected - seqs.length);
    expect(s.lost).toBeGreaterThanOrEqual(dropped - 1);
    expect(q.cycles).toBe(0x10000);
  });

  it('counts late packets as reordered, and they still fill their gap', () => {
    const q = newRtpQuality();
    feed(q, [1, 2, 4, 5, 3, 6, 8, 7, 9]);
    expect(summarize(q)).toMatchObject({ packets: 9, expected: 9, lost: 0, reordered: 2 });
  });

  it('matches the floating-point RFC 3550 A.8 estimator within rounding', () => {
    const q = newRtpQuality();
    let jf = 0;
    let prevTransit: number | undefined;
    // Deterministic pseudo-random arrival offsets of 0..9.99 ms.
    let x = 12345;
    const offsets = Array.from({ length: 1000 }, () => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return (x % 480) - 240; // ±5 ms in 48 kHz units
    });
    for (let i = 0; i < 1000; i++) {
      const arrival = 1_000_000 + i * 960 + (offsets[i] as number);
      observeRtp(q, rtp(i, i * 960), arrival);
      const transit = arrival - i * 960;
      if (prevTransit !== undefined) jf += (Math.abs(transit - prevTransit) - jf) / 16;
      prevTransit = transit;
    }
    const s = summarize(q);
    const floatMs = (jf / 48_000) * 1000;
    expect(floatMs).toBeGreaterThan(1);
    expect(Math.abs(s.jitterMs - floatMs)).toBeLessThan(0.05);
    expect(s.maxJitterMs).toBeGreaterThanOrEqual(s.jitterMs);
  });

  it('handles timestamp and transit wrap at 2^32 without a jitter spike', () => {
    const q = newRtpQuality();
    for (let i = 0; i < 100; i++) {
      const ts = (0xffffff00 + i * 960) >>> 0;
      observeRtp(q, rtp(i, ts), (4_000_000_000 + i * 960) | 0);
    }
    expect(summarize(q).jitterMs).toBe(0);
  });

  it('a new SSRC or a sequence jump restarts the base instead of counting thousands lost', () => {
    const q = newRtpQuality();
    feed(q, [10, 11, 12]);
    observeRtp(q, rtp(40_000, 1, 0x55), 10);
    observeRtp(q, rtp(40_001, 961, 0x55), 970);
    expect(summarize(q)).toMatchObject({ packets: 5, expected: 2, lost: 0, ssrcChanges: 1 });
    observeRtp(q, rtp(9_000, 1921, 0x55), 1930);
    observeRtp(q, rtp(9_002, 3841, 0x55), 3850);
    expect(summarize(q)).toMatchObject({ expected: 3, lost: 1, restarts: 1 });
  });

  it('converts microseconds to 48 kHz units with integer results', () => {
    expect(arrivalUnits(1_000_000)).toBe(48_000);
    expect(arrivalUnits(20_000)).toBe(960);
    expect(Number.isInteger(arrivalUnits(123_457))).toBe(true);
  });
});
