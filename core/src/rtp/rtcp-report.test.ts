import { describe, expect, it } from 'vitest';
import { ReceiveStats } from './receive-stats.js';
import { buildSenderReport, readRtcp } from './rtcp-report.js';

const WALL = 1_780_000_000_123;

describe('RTCP reports', () => {
  it('builds an SR with our counts and an SDES CNAME, 32-bit aligned', () => {
    const sr = buildSenderReport(
      {
        ssrc: 0xdeadbeef,
        packetsSent: 50,
        octetsSent: 4000,
        lastRtpTimestamp: 1000,
        lastSentAtMs: WALL,
        clockRate: 48_000,
      },
      'parley',
      WALL,
      undefined,
      undefined,
    );
    expect(sr.length % 4).toBe(0);
    expect(sr[0]).toBe(0x80); // V=2, no report blocks
    expect(sr[1]).toBe(200);
    expect(sr.readUInt32BE(4)).toBe(0xdeadbeef);
    expect(sr.readUInt32BE(16)).toBe(1000);
    expect(sr.readUInt32BE(20)).toBe(50);
    expect(sr.readUInt32BE(24)).toBe(4000);
    expect(sr[29]).toBe(202); // SDES follows
    expect(sr.toString('utf8', 38, 44)).toBe('parley');
  });

  it('carries a report block that the peer reads back as loss and a round-trip time', () => {
    const recv = new ReceiveStats(48_000);
    for (const seq of [1, 2, 4]) recv.onPacket(0x1234, seq, 0, 0);
    // The peer's SR reached us 20 ms before we report; it reads our block 50 ms later.
    const peerSrNtpMid = ntpMid(WALL - 70);
    const ours = buildSenderReport(
      { ssrc: 1, packetsSent: 0, octetsSent: 0, lastRtpTimestamp: 0, lastSentAtMs: WALL, clockRate: 48_000 },
      'x',
      WALL,
      recv,
      { lsr: peerSrNtpMid, receivedAtMs: WALL - 20 },
    );
    expect(ours[0]).toBe(0x81);
    const seen = readRtcp(ours, 0x1234, WALL + 50);
    expect(seen.fractionLost).toBeCloseTo(Math.floor(256 / 4) / 256, 6);
    // 120 ms from the peer's SR to its reading of our RR, minus the 20 ms we held it.
    expect(seen.rttMs).toBeGreaterThan(98);
    expect(seen.rttMs).toBeLessThan(102);
  });

  it('remembers a peer SR for LSR and skips blocks about other streams and garbage', () => {
    const sr = buildSenderReport(
      { ssrc: 9, packetsSent: 1, octetsSent: 1, lastRtpTimestamp: 0, lastSentAtMs: WALL, clockRate: 48_000 },
      'x',
      WALL,
      undefined,
      undefined,
    );
    const seen = readRtcp(sr, 1234, WALL + 5);
    expect(seen.senderReport?.lsr).toBe(ntpMid(WALL));
    expect(seen.senderReport?.receivedAtMs).toBe(WALL + 5);
    expect(seen.rttMs).toBeUndefined();
    expect(readRtcp(Buffer.from([0x80, 200, 0xff, 0xff, 1, 2, 3, 4]), 1, WALL)).toEqual({});
    expect(readRtcp(Buffer.alloc(3), 1, WALL)).toEqual({});
  });
});

function ntpMid(wallMs: number): number {
  const seconds = Math.floor(wallMs / 1000) + 2_208_988_800;
  const fraction = Math.floor(((wallMs % 1000) / 1000) * 0x100000000);
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}
