import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SRTP_PROFILES, type SrtpProfile } from './profiles.js';
import { writeRtpHeader } from './rtp-header.js';
import {
  SrtpConfigError,
  type SrtpCryptoEngine,
  SrtpPacketError,
  SrtpSession,
  type SrtpSessionOptions,
} from './srtp-context.js';

const PROFILES: SrtpProfile[] = ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'];
// Every crypto engine under the same bookkeeping; 'openssl' needs native/evp built, which
// npm test requires (a missing addon fails here, it is not skipped).
const ENGINES: SrtpCryptoEngine[] = ['node:crypto', 'openssl'];
const CASES = PROFILES.flatMap((profile) => ENGINES.map((engine) => [profile, engine] as const));

function endpoints(profile: SrtpProfile, engine: SrtpCryptoEngine, options?: SrtpSessionOptions) {
  const { keyLength, saltLength } = SRTP_PROFILES[profile];
  const key = randomBytes(keyLength);
  const salt = randomBytes(saltLength);
  return {
    tx: new SrtpSession(profile, key, salt, { ...options, engine }),
    rx: new SrtpSession(profile, key, salt, { ...options, engine }),
  };
}

function rtp(seq: number, payloadBytes = 40, ssrc = 0x11223344): Buffer {
  const buf = Buffer.alloc(12 + payloadBytes);
  writeRtpHeader(buf, 0, { pt: 111, seq, ts: seq * 960, ssrc });
  for (let i = 12; i < buf.length; i++) buf[i] = (seq + i) & 0xff;
  return buf;
}

function receiverReport(ssrc = 0x55667788): Buffer {
  const rr = Buffer.alloc(32);
  rr[0] = 0x81;
  rr[1] = 201;
  rr.writeUInt16BE(7, 2);
  rr.writeUInt32BE(ssrc, 4);
  randomBytes(24).copy(rr, 8);
  return rr;
}

describe.each(CASES)('SrtpSession (%s on %s)', (profile, engine) => {
  const tagLength = SRTP_PROFILES[profile].tagLength;

  it('round-trips RTP and RTCP and really encrypts the payload', () => {
    const { tx, rx } = endpoints(profile, engine);
    const plain = rtp(1000);
    const srtp = tx.protectRtp(plain);
    expect(srtp).toHaveLength(plain.length + tagLength);
    expect(srtp.subarray(0, 12).equals(plain.subarray(0, 12))).toBe(true);
    expect(srtp.subarray(12, plain.length).equals(plain.subarray(12))).toBe(false);
    expect(rx.unprotectRtp(srtp)?.equals(plain)).toBe(true);

    const rr = receiverReport();
    const srtcp = tx.protectRtcp(rr);
    expect(srtcp).toHaveLength(rr.length + 4 + tagLength);
    expect(srtcp.subarray(8, rr.length).equals(rr.subarray(8))).toBe(false);
    expect(rx.unprotectRtcp(srtcp)?.equals(rr)).toBe(true);
    expect([rx.authFailures, rx.replayed, rx.malformed]).toEqual([0, 0, 0]);
  });

  it('round-trips a header-only RTP packet and keeps SSRCs apart', () => {
    const { tx, rx } = endpoints(profile, engine);
    const a = rtp(7, 0, 1);
    const b = rtp(7, 10, 2);
    expect(rx.unprotectRtp(tx.protectRtp(a))?.equals(a)).toBe(true);
    expect(rx.unprotectRtp(tx.protectRtp(b))?.equals(b)).toBe(true);
  });

  it('rejects duplicates, accepts reordering inside the window once, rejects what fell out of it', () => {
    const { tx, rx } = endpoints(profile, engine, { rtpReplayWindow: 64 });
    const sent = Array.from({ length: 200 }, (_, i) => tx.protectRtp(rtp(i)));
    sent.forEach((p, i) => {
      if (i !== 50 && i !== 150) expect(rx.unprotectRtp(p)).not.toBeNull();
    });
    expect(rx.unprotectRtp(sent[199] as Buffer)).toBeNull();
    expect(rx.replayed).toBe(1);
    expect(rx.unprotectRtp(sent[150] as Buffer)?.equals(rtp(150))).toBe(true);
    expect(rx.unprotectRtp(sent[150] as Buffer)).toBeNull();
    expect(rx.unprotectRtp(sent[50] as Buffer)).toBeNull();
    expect(rx.replayed).toBe(3);
    expect(rx.authFailures).toBe(0);
  });

  it('rejects replayed SRTCP and accepts reordered SRTCP once', () => {
    const { tx, rx } = endpoints(profile, engine);
    const rr = receiverReport();
    const sent = [0, 1, 2, 3].map(() => tx.protectRtcp(rr));
    expect(rx.unprotectRtcp(sent[0] as Buffer)).not.toBeNull();
    expect(rx.unprotectRtcp(sent[3] as Buffer)).not.toBeNull();
    expect(rx.unprotectRtcp(sent[2] as Buffer)).not.toBeNull();
    expect(rx.unprotectRtcp(sent[2] as Buffer)).toBeNull();
    expect(rx.unprotectRtcp(sent[0] as Buffer)).toBeNull();
    expect(rx.unprotectRtcp(sent[1] as Buffer)).not.toBeNull();
    expect(rx.replayed).toBe(2);
  });

  it('carries the ROC across a sequence wrap: 70,000 packets all unprotect', () => {
    const { tx, rx } = endpoints(profile, engine);
    let ok = 0;
    for (let i = 0; i < 70_000; i++) {
      const plain = rtp(i & 0xffff, 8);
      const back = rx.unprotectRtp(tx.protectRtp(plain));
      if (back?.equals(plain)) ok++;
    }
    expect(ok).toBe(70_000);
    expect([rx.authFailures, rx.replayed, rx.malformed]).toEqual([0, 0, 0]);
  });

  it('authenticates packets reordered around the wrap (65535 after 0)', () => {
    const { tx, rx } = endpoints(profile, engine);
    const seqs = [65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3];
    const sent = new Map(seqs.map((s) => [s, tx.protectRtp(rtp(s))]));
    for (const s of [65530, 65531, 65532, 0, 65535, 1, 65533, 3, 65534, 2]) {
      expect(rx.unprotectRtp(sent.get(s) as Buffer)?.equals(rtp(s)), `seq ${s}`).toBe(true);
    }
    // After the wrap the sender is on ROC 1, and so is the receiver.
    expect(rx.unprotectRtp(tx.protectRtp(rtp(4)))?.equals(rtp(4))).toBe(true);
    expect(rx.authFailures).toBe(0);
  });

  it('keeps a resent pre-wrap packet on its original ROC', () => {
    const { tx, rx } = endpoints(profile, engine);
    rx.unprotectRtp(tx.protectRtp(rtp(65535)));
    rx.unprotectRtp(tx.protectRtp(rtp(0)));
    const resent = tx.protectRtp(rtp(65534));
    expect(rx.unprotectRtp(resent)?.equals(rtp(65534))).toBe(true);
  });

  it('counts a flipped bit in header, payload or tag as an auth failure, without moving the window', () => {
    const { tx, rx } = endpoints(profile, engine);
    const plain = rtp(500);
    const srtp = tx.protectRtp(plain);
    const positions = [1, 5, 11, 12, 30, srtp.length - tagLength, srtp.length - 1];
    for (const at of positions) {
      const forged = Buffer.from(srtp);
      forged[at] = (forged[at] as number) ^ 0x01;
      expect(rx.unprotectRtp(forged), `byte ${at}`).toBeNull();
    }
    expect(rx.authFailures).toBe(positions.length);
    expect(rx.unprotectRtp(srtp)?.equals(plain)).toBe(true);

    const srtcp = tx.protectRtcp(receiverReport());
    for (const at of [1, 6, 9, srtcp.length - 1]) {
      const forged = Buffer.from(srtcp);
      forged[at] = (forged[at] as number) ^ 0x80;
      expect(rx.unprotectRtcp(forged), `rtcp byte ${at}`).toBeNull();
    }
    expect(rx.authFailures).toBe(positions.length + 4);
    expect(rx.unprotectRtcp(srtcp)).not.toBeNull();
  });

  it('counts truncated packets as malformed (or forged) and never throws', () => {
    const { tx, rx } = endpoints(profile, engine);
    const srtp = tx.protectRtp(rtp(9));
    for (let n = 0; n < srtp.length; n++) expect(rx.unprotectRtp(srtp.subarray(0, n))).toBeNull();
    expect(rx.malformed).toBe(12 + tagLength);
    expect(rx.malformed + rx.authFailures).toBe(srtp.length);

    const srtcp = tx.protectRtcp(receiverReport());
    const before = rx.malformed + rx.authFailures;
    for (let n = 0; n < srtcp.length; n++) expect(rx.unprotectRtcp(srtcp.subarray(0, n))).toBeNull();
    expect(rx.malformed + rx.authFailures - before).toBe(srtcp.length);
    expect(rx.malformed).toBe(12 + tagLength + 8 + 4 + tagLength);
  });

  it('protectRtpInto/unprotectRtpInto match the Buffer forms, refuse forgeries and replays, never overrun', () => {
    const { tx, rx } = endpoints(profile, engine);
    const out = Buffer.alloc(1500, 0xee);
    const plainOut = Buffer.alloc(1500, 0xee);
    for (let seq = 65530; seq < 65540; seq++) {
      const plain = rtp(seq & 0xffff, 20 + seq - 65530);
      const n = tx.protectRtpInto(plain, out);
      const srtp = Buffer.from(out.subarray(0, n));
      // A resend of the same packet protects to the same bytes (same SSRC, ROC and seq).
      expect(srtp.equals(tx.protectRtp(plain))).toBe(true);
      expect(out[n]).toBe(0xee);
      const forged = Buffer.from(srtp);
      forged[n - 1] = (forged[n - 1] as number) ^ 0x01;
      expect(rx.unprotectRtpInto(forged, plainOut)).toBe(-1);
      const m = rx.unprotectRtpInto(srtp, plainOut);
      expect(m).toBe(plain.length);
      expect(plainOut.subarray(0, m).equals(plain)).toBe(true);
      expect(rx.unprotectRtpInto(srtp, plainOut)).toBe(-1);
    }
    expect([rx.authFailures, rx.replayed, rx.malformed]).toEqual([10, 10, 0]);
    const last = tx.protectRtp(rtp(4, 100));
    expect(rx.unprotectRtpInto(last, Buffer.alloc(last.length - tagLength - 1))).toBe(-1);
    expect(rx.malformed).toBe(1);
    expect(() => tx.protectRtpInto(rtp(5, 100), Buffer.alloc(112 + tagLength - 1))).toThrow(SrtpPacketError);
  });

  it('survives random junk', () => {
    const { rx } = endpoints(profile, engine);
    for (let i = 0; i < 2000; i++) {
      const junk = randomBytes(i % 120);
      expect(rx.unprotectRtp(junk)).toBeNull();
      expect(rx.unprotectRtcp(junk)).toBeNull();
    }
    expect(rx.malformed + rx.authFailures + rx.replayed).toBe(4000);
  });
});

describe('SrtpSession construction and misuse', () => {
  it('throws SrtpConfigError for wrong key or salt lengths, unknown profiles and bad windows', () => {
    expect(() => new SrtpSession('AES_CM_128_HMAC_SHA1_80', Buffer.alloc(32), Buffer.alloc(14))).toThrow(
      SrtpConfigError,
    );
    expect(() => new SrtpSession('AEAD_AES_128_GCM', Buffer.alloc(16), Buffer.alloc(14))).toThrow(
      SrtpConfigError,
    );
    expect(() => new SrtpSession('AES_256_CM' as SrtpProfile, Buffer.alloc(16), Buffer.alloc(14))).toThrow(
      /unknown SRTP profile/,
    );
    expect(
      () => new SrtpSession('AEAD_AES_128_GCM', Buffer.alloc(16), Buffer.alloc(12), { rtpReplayWindow: 100 }),
    ).toThrow(SrtpConfigError);
    const err = (() => {
      try {
        new SrtpSession('AEAD_AES_128_GCM', Buffer.alloc(16), Buffer.alloc(11));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('SrtpConfigError');
  });

  it('throws SrtpPacketError when asked to protect something that is not RTP/RTCP', () => {
    const s = new SrtpSession('AES_CM_128_HMAC_SHA1_80', Buffer.alloc(16), Buffer.alloc(14));
    expect(() => s.protectRtp(Buffer.alloc(11))).toThrow(SrtpPacketError);
    expect(() => s.protectRtcp(Buffer.from([0x40, 200, 0, 1, 0, 0, 0, 1]))).toThrow(SrtpPacketError);
  });
});
