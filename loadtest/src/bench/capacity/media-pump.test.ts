import { randomBytes } from 'node:crypto';
import { SrtpSession } from '@parley/shared/srtp/srtp-context.js';
import { createSrtpTransform } from '@parley/shared/srtp/srtp-engine.js';
import { describe, expect, it } from 'vitest';
import { readProbeAt } from '../../call/probe-payload.js';
import { MediaPump, type PumpSrtp } from './media-pump.js';

/**
 * The far end of a session, in memory: it unprotects what the pump sends
 * (with the pump's outbound key) and answers like rtp-echo (same payload and
 * timestamp, its own sequence numbers) or like a PCM agent (its own clock),
 * protected with its own key. Real SRTP on both sides.
 */
function farEnd(profile: 'AEAD_AES_128_GCM' | 'AES_CM_128_HMAC_SHA1_80', mode: 'reflect' | 'own-clock') {
  const keyLen = 16;
  const saltLen = profile === 'AEAD_AES_128_GCM' ? 12 : 14;
  const up = { key: randomBytes(keyLen), salt: randomBytes(saltLen) };
  const down = { key: randomBytes(keyLen), salt: randomBytes(saltLen) };
  const farIn = new SrtpSession(profile, up.key, up.salt);
  const farOut = new SrtpSession(profile, down.key, down.salt);
  let seq = 1000;
  let clock = 123_456;
  const arrived: Buffer[] = [];
  return {
    outbound: createSrtpTransform(profile, up.key, up.salt) as PumpSrtp,
    inbound: createSrtpTransform(profile, down.key, down.salt) as PumpSrtp,
    /** What the pump sent: protected datagrams, copied. */
    arrived,
    send: (d: Uint8Array) => arrived.push(Buffer.from(d)),
    /** The plaintext of one arrival (as the far end sees it). */
    open(srtp: Buffer): Buffer {
      const rtp = farIn.unprotectRtp(srtp);
      if (!rtp) throw new Error('far end could not unprotect the probe');
      return Buffer.from(rtp);
    },
    /**
     * Unprotects one arrival and returns its echo, protected. `forge` flips
     * a ciphertext bit after protection; `timestampOf` re-labels the echo
     * with another arrival's timestamp before protection (authentic, wrong).
     */
    echo(srtp: Buffer, o: { forge?: boolean; timestampOf?: Buffer } = {}): Buffer {
      const rtp = farIn.unprotectRtp(srtp);
      if (!rtp) throw new Error('far end could not unprotect the probe');
      const out = Buffer.from(rtp);
      if (o.timestampOf) o.timestampOf.copy(out, 4, 4, 8);
      seq = (seq + 1) & 0xffff;
      out.writeUInt16BE(seq, 2);
      out.writeUInt32BE(0x11223344, 8);
      if (mode === 'own-clock') {
        out.writeUInt32BE(clock >>> 0, 4);
        clock += 960;
      }
      const protectedEcho = farOut.protectRtp(out);
      if (o.forge) {
        const at = protectedEcho.length - 20;
        protectedEcho[at] = (protectedEcho[at] as number) ^ 1;
      }
      return protectedEcho;
    },
  };
}

function manualPump(o: ConstructorParameters<typeof MediaPump>[0] = {}) {
  let now = 0;
  const rtts: number[] = [];
  const pump = new MediaPump({
    ...o,
    clock: () => now,
    // The test calls tick() itself; the pump's own wake-ups go nowhere.
    timers: { setTimeout: () => 0, clearTimeout: () => {} },
    onEcho: (r) => rtts.push(r),
  });
  return {
    pump,
    rtts,
    at: (t: number) => {
      now = t;
    },
  };
}

describe('MediaPump', () => {
  it('sends each session once per 20 ms frame, in its own 1 ms phase', () => {
    const { pump, at } = manualPump();
    const ends = Array.from({ length: 40 }, () => farEnd('AES_CM_128_HMAC_SHA1_80', 'reflect'));
    for (const [i, e] of ends.entries()) pump.add(e, 0x1000 + i, 0, 0);
    at(0);
    pump.start();
    // Phase 0 is due at 0 ms: sessions 0 and 20 send; the others wait for their phase.
    pump.tick(0);
    expect(ends.map((e) => e.arrived.length)).toEqual(ends.map((_, i) => (i % 20 === 0 ? 1 : 0)));
    for (let t = 1; t <= 99; t++) pump.tick(t);
    // 0..99 ms covers five full frames: every session has sent exactly five probes.
    expect(ends.map((e) => e.arrived.length)).toEqual(ends.map(() => 5));
    expect(pump.lateSlots).toBe(0);
  });

  it('matches reflected echoes to their probes, times them, and counts the unanswered as lost', () => {
    for (const profile of ['AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80'] as const) {
      const { pump, rtts, at } = manualPump({ verifyEvery: 1 });
      const e = farEnd(profile, 'reflect');
      const s = pump.add(e, 0xabc, 65_530, 0xfffff000); // crosses the sequence and timestamp wraps
      at(0);
      pump.start();
      for (let t = 0; t < 200; t++) pump.tick(t); // 10 probes
      expect(s.sent).toBe(10);
      at(205);
      // Echo all but probe 3, out of order, one twice.
      const echoes = e.arrived.map((d, i) => (i === 3 ? undefined : e.echo(d)));
      for (const i of [0, 2, 1, 4, 4, 5, 6, 7, 8, 9]) s.receive(echoes[i] as Buffer, 205);
      expect(s.received).toBe(9);
      expect(s.lost).toBe(1);
      expect(s.late).toBe(1); // the duplicate
      expect(s.authFailures).toBe(0);
      expect(s.mismatched).toBe(0);
      expect(s.verified).toBe(9);
      // Probe i left at 20·i ms.
      expect(rtts.slice(0, 3)).toEqual([205, 205 - 40, 205 - 20]);
    }
  });

  it('authenticates one echo in verifyEvery and refuses a forged one', () => {
    const { pump, at } = manualPump({ verifyEvery: 2 });
    const e = farEnd('AEAD_AES_128_GCM', 'reflect');
    const s = pump.add(e, 0xabc, 1, 1);
    at(0);
    pump.start();
    for (let t = 0; t < 120; t++) pump.tick(t); // 6 probes
    at(130);
    s.receive(e.echo(e.arrived[0] as Buffer), 130); // not sampled
    s.receive(e.echo(e.arrived[1] as Buffer, { forge: true }), 130); // sampled: forged, refused
    s.receive(e.echo(e.arrived[2] as Buffer), 130); // not sampled
    s.receive(e.echo(e.arrived[3] as Buffer), 130); // sampled: fine
    expect(s.authFailures).toBe(1);
    expect(s.verified).toBe(1);
    expect(s.received).toBe(3);
    expect(s.lost).toBe(3);
  });

  it('refuses an authentic echo whose payload is another probe than its timestamp names', () => {
    const { pump, at } = manualPump({ verifyEvery: 1 });
    const e = farEnd('AES_CM_128_HMAC_SHA1_80', 'reflect');
    const s = pump.add(e, 0xabc, 1, 1);
    at(0);
    pump.start();
    for (let t = 0; t < 60; t++) pump.tick(t); // 3 probes
    // Probe 2's payload under probe 1's timestamp, protected by the far end: authentic, mislabelled.
    s.receive(e.echo(e.arrived[2] as Buffer, { timestampOf: e.arrived[1] as Buffer }), 70);
    expect(s.authFailures).toBe(0);
    expect(s.mismatched).toBe(1);
    expect(s.received).toBe(0);
  });

  it("matches a PCM agent's re-timed audio by its own clock from the first echo", () => {
    const { pump, rtts, at } = manualPump({ reflectsTimestamps: false, verifyEvery: 3 });
    const e = farEnd('AEAD_AES_128_GCM', 'own-clock');
    const s = pump.add(e, 0xabc, 7, 7);
    at(0);
    pump.start();
    for (let t = 0; t < 100; t++) pump.tick(t); // 5 probes
    at(150);
    for (const d of e.arrived) s.receive(e.echo(d), 150);
    expect(s.received).toBe(5);
    expect(rtts).toEqual([150, 130, 110, 90, 70]);
    expect(s.authFailures).toBe(0);
  });

  it('skips the frames a stalled generator missed instead of bursting them', () => {
    const { pump, at } = manualPump();
    const e = farEnd('AES_CM_128_HMAC_SHA1_80', 'reflect');
    pump.add(e, 1, 0, 0);
    at(0);
    pump.start();
    pump.tick(0);
    pump.tick(500); // 25 frames late
    expect(e.arrived.length).toBeLessThanOrEqual(3);
    expect(pump.skippedSlots).toBeGreaterThan(400);
    expect(pump.lateSlots).toBeGreaterThan(0);
  });

  it('writes each probe number where readProbeAt finds it', () => {
    const { pump, at } = manualPump();
    const e = farEnd('AEAD_AES_128_GCM', 'reflect');
    pump.add(e, 1, 0, 0);
    at(0);
    pump.start();
    for (let t = 0; t < 80; t++) pump.tick(t);
    expect(e.arrived.map((d) => readProbeAt(e.open(d), 12))).toEqual([0, 1, 2, 3]);
  });
});
