import { describe, expect, it } from 'vitest';
import { JitterBuffer, type JitterOutput, type RtpIn } from './jitter-buffer.js';

const pkt = (seq: number, arrivedAt = 0): RtpIn => ({
  seq: seq & 0xffff,
  timestamp: (seq * 960) >>> 0,
  payload: Buffer.from([seq & 0xff]),
  arrivedAt,
});
const describeOut = (o: JitterOutput[]) =>
  o.map((x) => (x.kind === 'packet' ? x.packet.seq : `lost:${x.seq}${x.next ? `+fec${x.next.seq}` : ''}`));

describe('JitterBuffer', () => {
  it('releases in-order packets at once', () => {
    const jb = new JitterBuffer();
    expect(describeOut(jb.push(pkt(10)))).toEqual([10]);
    expect(describeOut(jb.push(pkt(11)))).toEqual([11]);
    expect(jb.nextDeadline()).toBeUndefined();
  });

  it('takeInOrder takes only the packet due next with nothing held, across the sequence wrap, and agrees with push', () => {
    const jb = new JitterBuffer();
    expect(jb.takeInOrder(65_534)).toBe(true); // the first packet sets the stream
    expect(jb.takeInOrder(65_535)).toBe(true);
    expect(jb.takeInOrder(0)).toBe(true); // wrap: still next
    expect(jb.takeInOrder(2)).toBe(false); // 1 is missing: push() decides
    expect(jb.stats).toMatchObject({ received: 3, released: 3 });
    expect(jb.push(pkt(2, 0))).toEqual([]); // held behind the gap
    expect(jb.takeInOrder(1)).toBe(false); // something is held: push() releases both in order
    expect(describeOut(jb.push(pkt(1, 5)))).toEqual([1, 2]);
    expect(jb.takeInOrder(3)).toBe(true);
    expect(jb.takeInOrder(3)).toBe(false); // a duplicate is push()'s to count
    expect(jb.push(pkt(3))).toEqual([]);
    expect(jb.stats).toMatchObject({ received: 7, released: 6, duplicate: 1, reordered: 1 });
  });

  it('reorders: a late packet inside the wait releases everything held behind it', () => {
    const jb = new JitterBuffer({ maxWaitMs: 40 });
    jb.push(pkt(1, 0));
    expect(jb.push(pkt(3, 20))).toEqual([]);
    expect(jb.nextDeadline()).toBe(60);
    expect(describeOut(jb.push(pkt(2, 25)))).toEqual([2, 3]);
    expect(jb.stats).toMatchObject({ reordered: 1, lost: 0, released: 3 });
  });

  it('declares a gap lost at the deadline, offering the next packet for FEC', () => {
    const jb = new JitterBuffer({ maxWaitMs: 40 });
    jb.push(pkt(1, 0));
    jb.push(pkt(3, 20));
    jb.push(pkt(4, 40));
    expect(jb.poll(59)).toEqual([]);
    expect(describeOut(jb.poll(60))).toEqual(['lost:2+fec3', 3, 4]);
    // The missing packet turning up afterwards is late and dropped.
    expect(jb.push(pkt(2, 70))).toEqual([]);
    expect(jb.stats).toMatchObject({ lost: 1, late: 1 });
  });

  it('a burst loss offers FEC only for the frame right before a packet we hold', () => {
    const jb = new JitterBuffer({ maxWaitMs: 40 });
    jb.push(pkt(1, 0));
    jb.push(pkt(5, 80));
    expect(describeOut(jb.poll(120))).toEqual(['lost:2', 'lost:3', 'lost:4+fec5', 5]);
  });

  it('drops duplicates and unwraps sequence numbers across 65535', () => {
    const jb = new JitterBuffer();
    expect(describeOut(jb.push(pkt(65534)))).toEqual([65534]);
    expect(describeOut(jb.push(pkt(65535)))).toEqual([65535]);
    expect(jb.push(pkt(65535))).toEqual([]);
    expect(describeOut(jb.push(pkt(65536)))).toEqual([0]);
    expect(jb.stats.duplicate).toBe(1);
  });

  it('bounds what it holds: past maxHeld the gap is given up without waiting', () => {
    const jb = new JitterBuffer({ maxWaitMs: 10_000, maxHeld: 3 });
    jb.push(pkt(1));
    jb.push(pkt(3));
    jb.push(pkt(4));
    jb.push(pkt(5));
    expect(describeOut(jb.push(pkt(6)))).toEqual(['lost:2+fec3', 3, 4, 5, 6]);
  });

  it('treats a huge jump as a new stream instead of thousands of losses', () => {
    const jb = new JitterBuffer();
    jb.push(pkt(100));
    expect(describeOut(jb.push(pkt(30_000)))).toEqual([30_000]);
    expect(jb.stats).toMatchObject({ resets: 1, lost: 0 });
  });
});
