import { describe, expect, it } from 'vitest';
import { DelayLine, ipv4Endpoints } from './delay-line.js';

const pkt = (n: number, size = 100) => new Uint8Array(size).fill(n);

describe('DelayLine', () => {
  it('holds each packet exactly its delay and keeps each path in order', () => {
    const line = new DelayLine();
    line.push(pkt(1), 50, 0);
    line.push(pkt(2), 10, 0);
    line.push(pkt(3), 50, 5);
    expect(line.nextDue()).toBe(10);
    expect(line.takeDue(9)).toEqual([]);
    expect(line.takeDue(10).map((p) => p[0])).toEqual([2]);
    expect(line.takeDue(54).map((p) => p[0])).toEqual([1]);
    expect(line.nextDue()).toBe(55);
    expect(line.takeDue(100).map((p) => p[0])).toEqual([3]);
    expect(line.nextDue()).toBeUndefined();
    expect(line.stats).toMatchObject({ queued: 0, queuedBytes: 0, forwarded: 3, droppedFull: 0 });
  });

  it('drops and counts what exceeds its packet or byte bound, and recovers as packets leave', () => {
    const byCount = new DelayLine(2, 1_000_000);
    expect([byCount.push(pkt(1), 5, 0), byCount.push(pkt(2), 5, 0), byCount.push(pkt(3), 5, 0)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(byCount.stats.droppedFull).toBe(1);
    byCount.takeDue(5);
    expect(byCount.push(pkt(4), 5, 5)).toBe(true);

    const byBytes = new DelayLine(100, 250);
    expect([byBytes.push(pkt(1), 5, 0), byBytes.push(pkt(2), 5, 0), byBytes.push(pkt(3), 5, 0)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(byBytes.stats.queuedBytes).toBe(200);
  });
});

describe('ipv4Endpoints', () => {
  it('reads source and destination of IPv4 and rejects other packets', () => {
    const p = new Uint8Array(20);
    p[0] = 0x45;
    p.set([10, 99, 1, 2], 12);
    p.set([10, 99, 3, 2], 16);
    expect(ipv4Endpoints(p)).toEqual({ src: 0x0a630102, dst: 0x0a630302 });
    p[0] = 0x60;
    expect(ipv4Endpoints(p)).toBeUndefined();
    expect(ipv4Endpoints(new Uint8Array(10))).toBeUndefined();
  });
});
