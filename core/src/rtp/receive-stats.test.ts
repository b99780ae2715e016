import { describe, expect, it } from 'vitest';
import { ReceiveStats } from './receive-stats.js';

describe('ReceiveStats', () => {
  it('counts in-order packets with no loss and no jitter when arrivals match timestamps', () => {
    const s = new ReceiveStats(48_000);
    for (let i = 0; i < 50; i++) s.onPacket(7, 100 + i, 960 * i, 20 * i);
    expect(s.expected).toBe(50);
    expect(s.cumulativeLost).toBe(0);
    expect(s.takeFractionLost()).toBe(0);
    expect(s.jitter).toBe(0);
  });

  it('extends the sequence number across a wrap and counts the gap as loss', () => {
    const s = new ReceiveStats(48_000);
    for (const seq of [65_533, 65_534, 65_535, 2, 3]) s.onPacket(7, seq, 0, 0); // 0 and 1 lost
    expect(s.extendedHighestSeq).toBe(65_536 + 3);
    expect(s.expected).toBe(7);
    expect(s.cumulativeLost).toBe(2);
    expect(s.takeFractionLost()).toBe(Math.floor((2 * 256) / 7));
    expect(s.takeFractionLost()).toBe(0); // a new interval with nothing in it
  });

  it('does not move backwards on a reordered packet', () => {
    const s = new ReceiveStats(48_000);
    for (const seq of [10, 12, 11, 13]) s.onPacket(7, seq, 0, 0);
    expect(s.extendedHighestSeq).toBe(13);
    expect(s.cumulativeLost).toBe(0);
  });

  it('estimates interarrival jitter per RFC 3550 A.8', () => {
    const s = new ReceiveStats(48_000);
    // Every other packet 10 ms late: |D| alternates 480 timestamp units.
    for (let i = 0; i < 400; i++) s.onPacket(7, i, 960 * i, 20 * i + (i % 2 ? 10 : 0));
    expect(s.jitter).toBeGreaterThan(470);
    expect(s.jitter).toBeLessThan(481);
    expect(s.jitterMs).toBeCloseTo(s.jitter / 48, 6);
  });

  it('starts over when the SSRC changes', () => {
    const s = new ReceiveStats(48_000);
    for (let i = 0; i < 5; i++) s.onPacket(7, i, 0, 0);
    s.onPacket(8, 1000, 0, 0);
    expect(s.ssrc).toBe(8);
    expect(s.expected).toBe(1);
  });
});
