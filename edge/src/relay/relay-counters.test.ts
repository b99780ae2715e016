import { describe, expect, it } from 'vitest';
import { DROP_REASONS, RelayCounters } from './relay-counters.js';

describe('RelayCounters', () => {
  it('starts every drop reason at zero and sums drops in the snapshot', () => {
    const c = new RelayCounters();
    const s0 = c.snapshot();
    expect(Object.keys(s0.drops).sort()).toEqual([...DROP_REASONS].sort());
    expect(Object.values(s0.drops).every((n) => n === 0)).toBe(true);
    c.drop('token_bad_signature');
    c.drop('token_bad_signature');
    c.drop('no_flow_rtp');
    const s1 = c.snapshot();
    expect(s1.drops.token_bad_signature).toBe(2);
    expect(s1.drops.no_flow_rtp).toBe(1);
    expect(s1.droppedPackets).toBe(3);
  });

  it('snapshots are copies, and flowsOpen is opened minus closed', () => {
    const c = new RelayCounters();
    c.flowsOpened += 5;
    c.flowsClosed += 2;
    c.packetsUp += 7;
    const s = c.snapshot();
    c.drop('rate_limited');
    c.packetsUp++;
    expect(s.flowsOpen).toBe(3);
    expect(s.packetsUp).toBe(7);
    expect(s.drops.rate_limited).toBe(0);
    expect(c.snapshot().packetsUp).toBe(8);
  });
});
