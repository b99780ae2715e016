import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  loadSharedSrtp,
  PROFILES,
  type ProfileId,
  rtcpReceiverReport,
  rtpPacket,
  type SrtpLike,
  WeriftSrtp,
} from '../bench/js-srtp.js';
import { evpLoadError, loadEvp } from '../evp/index.cjs';
import { loadNativeSrtp, nativeSrtpLoadError } from '../srtp/index.cjs';

const native = loadNativeSrtp();
const shared = await loadSharedSrtp();

// The addon is part of the build (`npm run build` compiles it when the Debian -dev package is
// installed, as .ci/run makes sure): a missing one is a failure, not a skip.
it('the libsrtp2 addon is built and loads', () => {
  expect(nativeSrtpLoadError()?.message).toBeUndefined();
  expect(native?.version).toMatch(/^libsrtp2 /);
});

// native/evp links nothing but the OpenSSL inside Node, so it builds wherever Node's headers do.
it('the OpenSSL EVP addon is built and loads, on the OpenSSL inside this Node', () => {
  expect(evpLoadError()?.message).toBeUndefined();
  expect(loadEvp()?.version()).toMatch(/^OpenSSL \d+\.\d+\.\d+ /);
  expect(loadEvp()?.version().split(' ')[1]).toBe(process.versions.openssl);
});

const SSRC = 0x11223344;

function stream(first: number, count: number, payloadBytes = 100): Buffer[] {
  return Array.from({ length: count }, (_, i) =>
    rtpPacket((first + i) & 0xffff, (first + i) * 960, SSRC, randomBytes(payloadBytes)),
  );
}

function flip(packet: Buffer, at: number): Buffer {
  const copy = Buffer.from(packet);
  const i = at < 0 ? copy.length + at : at;
  copy[i] = (copy[i] as number) ^ 0x01;
  return copy;
}

describe('libsrtp2 addon', () => {
  const S = native?.NativeSrtpSession as NonNullable<typeof native>['NativeSrtpSession'];

  for (const profile of PROFILES) {
    const id = profile.id as ProfileId;
    const key = randomBytes(profile.keyBytes);
    const salt = randomBytes(profile.saltBytes);
    const peers: [string, () => SrtpLike][] = [['werift', () => new WeriftSrtp(id, key, salt)]];
    if (shared) {
      peers.push([`shared (${shared.file})`, () => shared.create(id, key, salt)]);
      // The OpenSSL EVP engine against libsrtp2: two independent implementations, both ways.
      peers.push([`shared on openssl (native/evp)`, () => shared.create(id, key, salt, 'openssl')]);
    }

    describe(profile.name, () => {
      for (const [peerName, peer] of peers) {
        it(`RTP: addon protects, ${peerName} unprotects (across a sequence-number rollover)`, () => {
          const tx = new S(id, key, salt);
          const rx = peer();
          for (const p of stream(65_500, 100)) {
            const srtp = tx.protectRtp(p);
            expect(srtp.length).toBe(p.length + (id === 7 ? 16 : 10));
            expect(srtp.subarray(12, p.length).equals(p.subarray(12))).toBe(false);
            expect(rx.unprotectRtp(srtp)?.equals(p)).toBe(true);
          }
        });

        it(`RTP: ${peerName} protects, addon unprotects (across a sequence-number rollover)`, () => {
          const tx = peer();
          const rx = new S(id, key, salt);
          for (const p of stream(65_500, 100))
            expect(rx.unprotectRtp(tx.protectRtp(p))?.equals(p)).toBe(true);
        });

        it(`RTCP both ways with ${peerName}`, () => {
          const rr = rtcpReceiverReport(SSRC + 1, SSRC);
          const a = new S(id, key, salt);
          const b = peer();
          for (let i = 0; i < 5; i++) {
            const fromAddon = a.protectRtcp(rr);
            expect(fromAddon.length).toBe(rr.length + (id === 7 ? 16 : 10) + 4);
            expect(b.unprotectRtcp(fromAddon)?.equals(rr)).toBe(true);
            expect(a.unprotectRtcp(b.protectRtcp(rr))?.equals(rr)).toBe(true);
          }
        });
      }

      it('rejects a tampered payload, header or tag, a replay, and a wrong key', () => {
        const tx = new S(id, key, salt);
        const [p1, p2, p3, p4] = stream(1000, 4).map((p) => tx.protectRtp(p)) as [
          Buffer,
          Buffer,
          Buffer,
          Buffer,
        ];
        const rx = new S(id, key, salt);
        expect(rx.unprotectRtp(flip(p1, 40))).toBeNull(); // payload
        expect(rx.unprotectRtp(flip(p1, 5))).toBeNull(); // timestamp (authenticated header)
        expect(rx.unprotectRtp(flip(p1, -1))).toBeNull(); // tag
        expect(rx.unprotectRtp(p1.subarray(0, 8))).toBeNull(); // runt
        expect(rx.unprotectRtp(p1)).not.toBeNull(); // tampering did not poison the stream
        expect(rx.unprotectRtp(p1)).toBeNull(); // replay
        expect(rx.unprotectRtp(p3)).not.toBeNull();
        expect(rx.unprotectRtp(p2)).not.toBeNull(); // reordered within the window is fine
        const wrong = new S(id, randomBytes(profile.keyBytes), salt);
        expect(wrong.unprotectRtp(p4)).toBeNull();

        const rr = rtcpReceiverReport(1, 2);
        const srtcp = tx.protectRtcp(rr);
        expect(rx.unprotectRtcp(flip(srtcp, 10))).toBeNull();
        expect(rx.unprotectRtcp(flip(srtcp, -1))).toBeNull();
        expect(rx.unprotectRtcp(srtcp)?.equals(rr)).toBe(true);
        expect(rx.unprotectRtcp(srtcp)).toBeNull(); // SRTCP replay
      });

      it('the werift peer also rejects what the addon rejects (tamper)', () => {
        const srtp = new S(id, key, salt).protectRtp(stream(7, 1)[0] as Buffer);
        expect(new WeriftSrtp(id, key, salt).unprotectRtp(flip(srtp, 30))).toBeNull();
      });

      it('writes into caller buffers, in place too', () => {
        const tx = new S(id, key, salt);
        const rx = new S(id, key, salt);
        const [p1, p2] = stream(50, 2) as [Buffer, Buffer];
        const out = Buffer.alloc(200);
        const n = tx.protectRtpInto(p1, out);
        expect(n).toBe(p1.length + tx.rtpOverhead);
        const back = Buffer.alloc(200);
        expect(rx.unprotectRtpInto(out.subarray(0, n), back)).toBe(p1.length);
        expect(back.subarray(0, p1.length).equals(p1)).toBe(true);
        // in place: the packet sits at the start of a buffer with room for the tag
        const work = Buffer.alloc(p2.length + 16);
        p2.copy(work);
        const m = tx.protectRtpInto(work.subarray(0, p2.length), work);
        const k = rx.unprotectRtpInto(work.subarray(0, m), work);
        expect(work.subarray(0, k).equals(p2)).toBe(true);
        expect(() => tx.protectRtpInto(p1, Buffer.alloc(p1.length))).toThrow(RangeError);
        expect(rx.unprotectRtpInto(flip(out.subarray(0, n), 20), back)).toBe(-1);
      });
    });
  }

  it('survives garbage and malformed headers on unprotect (returns null, never throws)', () => {
    for (const profile of PROFILES) {
      const rx = new S(
        profile.id as ProfileId,
        randomBytes(profile.keyBytes),
        randomBytes(profile.saltBytes),
      );
      for (let i = 0; i < 2000; i++) {
        const junk = randomBytes(i % 200);
        if (i % 2 && junk.length > 0) junk[0] = 0x80 | ((junk[0] as number) & 0x3f); // V=2, random P/X/CC
        expect(rx.unprotectRtp(junk)).toBeNull();
        expect(rx.unprotectRtcp(junk)).toBeNull();
      }
      expect(rx.unprotectRtp(Buffer.alloc(70_000, 0x80))).toBeNull();
    }
  });

  it('checks key sizes and profiles', () => {
    expect(() => new S(1, randomBytes(16), randomBytes(12))).toThrow(RangeError);
    expect(() => new S(7, randomBytes(16), randomBytes(14))).toThrow(RangeError);
    expect(() => new S(2 as 1, randomBytes(16), randomBytes(14))).toThrow(RangeError);
    expect(new S('AEAD_AES_128_GCM', randomBytes(16), randomBytes(12)).profile).toBe(7);
  });

  it('refuses a protect of an already sent sequence number unless allowRepeatTx', () => {
    const p = stream(9, 1)[0] as Buffer;
    const key = randomBytes(16);
    const salt = randomBytes(14);
    const strict = new S(1, key, salt);
    strict.protectRtp(p);
    expect(() => strict.protectRtp(p)).toThrow(/status 9/);
    const lax = new S(1, key, salt, { allowRepeatTx: true });
    expect(lax.protectRtp(p).equals(lax.protectRtp(p))).toBe(true);
  });

  it('close() frees the contexts; later calls throw', () => {
    const s = new S(1, randomBytes(16), randomBytes(14));
    s.protectRtp(stream(1, 1)[0] as Buffer);
    s.close();
    expect(() => s.protectRtp(stream(2, 1)[0] as Buffer)).toThrow(/closed/);
  });
});
