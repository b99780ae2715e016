import { describe, expect, it } from 'vitest';
import { hopTimes, summarizeHops } from './hop-capture.js';
import { PROBE_BYTES, writeProbe } from './udp-probe.js';

/** One Ethernet/IPv4/UDP frame carrying `payload` to `dport`, as tcpdump writes loopback traffic. */
function frame(dport: number, payload: Buffer): Buffer {
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip[9] = 17;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(40000, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([eth, ip, udp, payload]);
}

/** A nanosecond pcap of (seconds, frame) records, each cut to 96 bytes like the capture's snap length. */
function pcap(records: [number, Buffer][]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b23c4d, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(96, 16);
  head.writeUInt32LE(1, 20);
  const parts: Buffer[] = [head];
  for (const [t, f] of records) {
    const cut = f.subarray(0, 96);
    const r = Buffer.alloc(16);
    r.writeUInt32LE(Math.floor(t), 0);
    r.writeUInt32LE(Math.round((t - Math.floor(t)) * 1e9), 4);
    r.writeUInt32LE(cut.length, 8);
    r.writeUInt32LE(f.length, 12);
    parts.push(r, cut);
  }
  return Buffer.concat(parts);
}

function probe(flow: number, seq: number, header = 0): Buffer {
  const b = Buffer.alloc(header + PROBE_BYTES);
  writeProbe(b, header, flow, seq, 0);
  return b;
}

describe('relay hop from a loopback capture', () => {
  const SINK = 5000;
  const targets = new Map([
    [6000, 'parley'],
    [7000, 'coturn'],
  ]);

  it('pairs each probe toward a relay with the same probe toward the sink, per path', () => {
    const file = pcap([
      [10.0, frame(6000, probe(1, 1))],
      [10.00005, frame(SINK, probe(1, 1))], // parley: 0.05 ms
      [10.001, frame(6000, probe(2, 1))],
      [10.0012, frame(SINK, probe(2, 1))], // parley: 0.2 ms
      [11.0, frame(7000, probe(1, 1, 4))], // coturn gets ChannelData: the probe after 4 bytes
      [11.0001, frame(SINK, probe(1, 1))], // coturn: 0.1 ms (same flow/seq as parley's first, later)
      [12.0, frame(SINK, probe(9, 9))], // the direct path: no first sighting, not counted
      [13.0, frame(6000, probe(3, 3))], // lost before the sink: never paired
      [13.0, frame(6000, Buffer.from('0001000021124242', 'hex'))], // not a probe
    ]);
    const hops = hopTimes(file, { sinkPort: SINK, targets });
    const parley = summarizeHops(hops.get('parley') ?? expect.fail('no parley hops'));
    expect(parley.pairs).toBe(2);
    expect(parley.max).toBeCloseTo(0.2, 3);
    const coturn = summarizeHops(hops.get('coturn') ?? expect.fail('no coturn hops'));
    expect(coturn.pairs).toBe(1);
    expect(coturn.p50).toBeGreaterThan(0.099);
    expect(coturn.p50).toBeLessThan(0.101);
    expect(hops.has('direct')).toBe(false);
  });

  it('does not pair a stale first sighting a second or more later', () => {
    const file = pcap([
      [20.0, frame(6000, probe(4, 4))],
      [21.5, frame(SINK, probe(4, 4))],
    ]);
    expect(hopTimes(file, { sinkPort: SINK, targets }).size).toBe(0);
  });

  it('refuses a file that is not a pcap', () => {
    expect(() => hopTimes(Buffer.alloc(64, 1), { sinkPort: SINK, targets })).toThrow(/pcap/);
  });
});
