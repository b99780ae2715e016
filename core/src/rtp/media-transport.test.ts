import { randomBytes } from 'node:crypto';
import type { SrtpKeyingMaterial } from '@parley/shared/webrtc/lite-peer.js';
import { describe, expect, it } from 'vitest';
import { MediaTransport } from './media-transport.js';

/** Two ends of one DTLS-SRTP association: each side's local key is the other's remote key. */
function pair(profile: SrtpKeyingMaterial['profile']) {
  const salt = profile === 'AEAD_AES_128_GCM' ? 12 : 14;
  const a = { key: randomBytes(16), salt: randomBytes(salt) };
  const b = { key: randomBytes(16), salt: randomBytes(salt) };
  let wall = 1_780_000_000_000;
  const make = (local: typeof a, remote: typeof a, ssrc: number) => {
    const wire: Buffer[] = [];
    const got: { seq: number; ts: number; payload: Buffer }[] = [];
    let authenticated = 0;
    const t = new MediaTransport({
      keys: {
        profile,
        localKey: local.key,
        localSalt: local.salt,
        remoteKey: remote.key,
        remoteSalt: remote.salt,
      },
      outbound: { ssrc, payloadType: 111, clockRate: 48_000 },
      cname: `end-${ssrc}`,
      send: (d) => wire.push(d),
      onRtp: (seq, ts, payload) => got.push({ seq, ts, payload: Buffer.from(payload) }),
      onAuthenticated: () => authenticated++,
      now: () => wall,
      wallNow: () => wall,
    });
    return { t, wire, got, authenticated: () => authenticated };
  };
  return { x: make(a, b, 0x1111), y: make(b, a, 0x2222), advance: (ms: number) => (wall += ms) };
}

describe.each(['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'] as const)('MediaTransport (%s)', (profile) => {
  it('carries RTP both ways, in order, with our SSRC and payload type, across our own sequence wrap', () => {
    const { x, y } = pair(profile);
    // 70,000 packets: whatever the random first sequence number, ours wraps at least once.
    for (let i = 0; i < 70_000; i++) x.t.sendRtp(Buffer.from([i & 0xff, 1, 2, 3]), i * 960, false);
    for (const d of x.wire.splice(0)) y.t.receive(d);
    expect(y.got).toHaveLength(70_000);
    expect(y.got[69_999]?.payload[0]).toBe(69_999 & 0xff);
    expect(y.got[1]?.seq).toBe(((y.got[0]?.seq as number) + 1) & 0xffff);
    expect(y.t.counters).toMatchObject({ rtpIn: 70_000, dropped: 0 });
    expect(y.authenticated()).toBe(70_000);
    expect(y.t.received.ssrc).toBe(0x1111);
    expect(y.t.received.cumulativeLost).toBe(0);
  });

  it('drops forged, tampered, replayed and truncated packets, counting them, without throwing', () => {
    const { x, y } = pair(profile);
    x.t.sendRtp(Buffer.from('hello'), 960, true);
    const good = x.wire[0] as Buffer;
    const tampered = Buffer.from(good);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    y.t.receive(tampered);
    y.t.receive(good.subarray(0, 14));
    y.t.receive(Buffer.from([0x80, 111, 0, 1]));
    y.t.receive(good);
    y.t.receive(good); // replay
    expect(y.got.map((g) => g.payload.toString())).toEqual(['hello']);
    expect(y.t.counters).toMatchObject({ rtpIn: 1, dropped: 4 });
    expect(y.authenticated()).toBe(1);
  });

  it('exchanges sender reports: each side learns the round trip and the loss the other saw', () => {
    const { x, y, advance } = pair(profile);
    for (let i = 0; i < 10; i++) y.t.sendRtp(Buffer.from([i]), i * 960, false);
    // y's fifth packet never arrives: x sees one of ten lost.
    y.wire.splice(4, 1);
    for (const d of y.wire.splice(0)) x.t.receive(d);
    y.t.sendReport();
    for (const d of y.wire.splice(0)) x.t.receive(d); // x learns y's SR (LSR)
    advance(30);
    x.t.sendReport(); // x reports on y's stream, 30 ms after y's SR
    advance(20);
    for (const d of x.wire.splice(0)) y.t.receive(d);
    expect(x.t.counters.rtcpIn).toBe(1);
    expect(y.t.counters.rtcpIn).toBe(1);
    expect(y.t.remoteFractionLost).toBeCloseTo(Math.floor(256 / 10) / 256, 6);
    // 50 ms from y's SR to its reading of x's report, minus the 30 ms x held it.
    expect(y.t.rttMs).toBeGreaterThan(18);
    expect(y.t.rttMs).toBeLessThan(22);
  });
});
