import { randomBytes } from 'node:crypto';
import { loadEvp } from '@parley/native/evp';
import { describe, expect, it } from 'vitest';
import { AesCmKeystream } from './aes-cm.js';
import { AesCmHmacSha1Transform } from './aes-cm-hmac.js';
import { EvpAesCmTransform } from './evp-transforms.js';
import type { SrtpSessionKeys } from './kdf.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 3711 Appendix B.2.
const SESSION_KEY = hex('2B7E151628AED2A6ABF7158809CF4F3C');
const SESSION_SALT = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD');
const KEYSTREAM: [number, string][] = [
  [0x0000, 'E03EAD0935C95E80E166B16DD92B4EB4'],
  [0x0001, 'D23513162B02D0F72A43A2FE4A5F97AB'],
  [0x0002, '41E95B3BB0A2E8DD477901E4FCA894C0'],
  [0xfeff, 'EC8CDF7398607CB0F2D21675EA9EA1E4'],
  [0xff00, '362B7C3C6773516318A077D7FC5073AE'],
  [0xff01, '6A2CC3787889374FBEB4C81B17BA6C44'],
];

describe('RFC 3711 B.2 AES-CM keystream', () => {
  it('produces the appendix keystream for ROC 0, SEQ 0, SSRC 0', () => {
    const blocks = 0xff02;
    const out = Buffer.alloc(blocks * 16);
    new AesCmKeystream(SESSION_KEY, SESSION_SALT).xor(0, 0, 0, out, 0, out.length, out, 0);
    for (const [block, expected] of KEYSTREAM) {
      expect(out.subarray(block * 16, block * 16 + 16).toString('hex'), `block ${block}`).toBe(
        expected.toLowerCase(),
      );
    }
  });

  it('is what an all-zero RTP payload encrypts to', () => {
    const cm = new AesCmHmacSha1Transform({
      rtpKey: SESSION_KEY,
      rtpSalt: SESSION_SALT,
      rtpAuthKey: Buffer.alloc(20),
      rtcpKey: SESSION_KEY,
      rtcpSalt: SESSION_SALT,
      rtcpAuthKey: Buffer.alloc(20),
    });
    const rtp = Buffer.alloc(12 + 48);
    rtp[0] = 0x80;
    const srtp = cm.protectRtp(rtp, 12, 0, 0, 0);
    expect(srtp.subarray(12, 60).toString('hex')).toBe(
      KEYSTREAM.slice(0, 3)
        .map(([, k]) => k.toLowerCase())
        .join(''),
    );
  });

  it('handles partial blocks, offsets and in-place use', () => {
    const ks = new AesCmKeystream(SESSION_KEY, SESSION_SALT);
    const full = Buffer.alloc(48);
    ks.xor(0, 0, 0, full, 0, 48, full, 0);
    const src = Buffer.alloc(40, 0);
    const dst = Buffer.alloc(45, 0xee);
    ks.xor(0, 0, 0, src, 3, 40, dst, 5);
    expect(dst.subarray(5, 42).equals(full.subarray(0, 37))).toBe(true);
    expect(dst[4]).toBe(0xee);
    expect(dst[42]).toBe(0xee);
  });
});

describe('RFC 3711 B.2 on the OpenSSL EVP engine (native/evp)', () => {
  const keys = (authKey: Buffer): SrtpSessionKeys => ({
    rtpKey: SESSION_KEY,
    rtpSalt: SESSION_SALT,
    rtpAuthKey: authKey,
    rtcpKey: SESSION_KEY,
    rtcpSalt: SESSION_SALT,
    rtcpAuthKey: authKey,
  });
  const evp = () => {
    const b = loadEvp();
    // npm test requires the native addons built: a missing one fails here, it is not skipped.
    if (b === undefined) throw new Error('native/evp not built (npm run build:native -w @parley/native)');
    return b;
  };

  it('produces the appendix keystream through block 0xff01 (AES-CTR, one context re-IVed)', () => {
    const cm = new EvpAesCmTransform(evp(), keys(Buffer.alloc(20)));
    const zeros = Buffer.alloc(0xff02 * 16);
    // Twice on the same context: the second packet must not continue the first's counter.
    for (let round = 0; round < 2; round++) {
      const out = cm.protectRtp(zeros, 0, 0, 0, 0);
      for (const [block, expected] of KEYSTREAM) {
        expect(out.subarray(block * 16, block * 16 + 16).toString('hex'), `block ${block}`).toBe(
          expected.toLowerCase(),
        );
      }
    }
  });

  it('matches the node:crypto transform byte for byte (cipher and HMAC tag), RTP and SRTCP', () => {
    const authKey = randomBytes(20);
    const js = new AesCmHmacSha1Transform(keys(authKey));
    const ossl = new EvpAesCmTransform(evp(), keys(authKey));
    for (const size of [12, 13, 60, 172, 1200]) {
      const rtp = randomBytes(size);
      rtp[0] = 0x80;
      const a = js.protectRtp(rtp, 12, 0x1234, 3, 777);
      expect(ossl.protectRtp(rtp, 12, 0x1234, 3, 777).toString('hex')).toBe(a.toString('hex'));
      expect(ossl.unprotectRtp(a, 12, 0x1234, 3, 777)?.equals(rtp)).toBe(true);
      expect(ossl.unprotectRtp(a, 12, 0x1234, 4, 777)).toBeNull();
      const rtcp = randomBytes(Math.max(size, 8));
      const c = js.protectRtcp(rtcp, 0x1234, 99);
      expect(ossl.protectRtcp(rtcp, 0x1234, 99).toString('hex')).toBe(c.toString('hex'));
      expect(ossl.unprotectRtcp(c, 0x1234, 99, true)?.equals(rtcp)).toBe(true);
    }
  });

  it('refuses misuse from JavaScript instead of reading past a buffer', () => {
    const b = evp();
    const h = b.cmCreate(SESSION_KEY, Buffer.alloc(20));
    const iv = Buffer.alloc(16);
    const src = Buffer.alloc(20);
    expect(() => b.cmSeal(h, iv, src, 12, 20, Buffer.alloc(20), 20, 0, 10)).toThrow(RangeError);
    expect(() => b.cmOpen(h, iv, src, 12, 30, Buffer.alloc(40), 30, 0, 10)).toThrow(RangeError);
    expect(() => b.cmSeal(h, Buffer.alloc(12), src, 12, 20, Buffer.alloc(40), 20, 0, 10)).toThrow(TypeError);
    const g = b.gcmCreate(SESSION_KEY);
    expect(() => b.gcmSeal(g, Buffer.alloc(12), src, 12, 20, null, Buffer.alloc(30))).toThrow(RangeError);
    expect(() => b.gcmOpen(g, Buffer.alloc(12), src, 12, 10, null, Buffer.alloc(30))).toThrow(RangeError);
    expect(() => b.gcmSeal(h as never, Buffer.alloc(12), src, 0, 4, null, Buffer.alloc(30))).toThrow(
      TypeError,
    );
  });
});
