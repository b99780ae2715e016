import { loadEvp } from '@parley/native/evp';
import { describe, expect, it } from 'vitest';
import { AeadAesGcmTransform } from './aead-gcm.js';
import { EvpGcmTransform } from './evp-transforms.js';
import type { SrtpSessionKeys } from './kdf.js';
import type { SrtpTransform } from './transform.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 7714 §16.1 and §17: the vectors give session keys directly, shared by SRTP and SRTCP.
const KEY = hex('000102030405060708090a0b0c0d0e0f');
const SALT = hex('517569642070726f2071756f');
const KEYS: SrtpSessionKeys = {
  rtpKey: KEY,
  rtpSalt: SALT,
  rtpAuthKey: Buffer.alloc(0),
  rtcpKey: KEY,
  rtcpSalt: SALT,
  rtcpAuthKey: Buffer.alloc(0),
};

function openssl(): SrtpTransform {
  const evp = loadEvp();
  // npm test requires the native addons built: a missing one fails here, it is not skipped.
  if (evp === undefined) throw new Error('native/evp not built (npm run build:native -w @parley/native)');
  return new EvpGcmTransform(evp, KEYS);
}

const TRANSFORMS: [string, () => SrtpTransform][] = [
  ['node:crypto', () => new AeadAesGcmTransform(KEYS)],
  ['openssl', openssl],
];

const RTP = hex(`8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976
                 69736120 696e2070 61727465 73207472 6573`);
const RTP_SSRC = 0x5501a0b2;
const RTP_SEQ = 0xf17b;
// §16.1.1.
const SRTP = hex(`8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5
                  0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439
                  0cce`);

const RTCP = hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
                  deadbeef deadbeef deadbeef deadbeef deadbeef`);
const RTCP_SSRC = 0x4d617273;
const SRTCP_INDEX = 0x5d4;
// §17.1: encrypted (E=1); the tag comes before the E||index word.
const SRTCP = hex(`81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d
                   c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872
                   45d9eade 800005d4`);
// §17.3: authenticated only (E=0); the whole packet is AAD.
const SRTCP_TAG_ONLY = hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
                            deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968 3dd78ec9 2ae58790
                            125f62b3 000005d4`);

describe.each(TRANSFORMS)('RFC 7714 AEAD_AES_128_GCM vectors (%s)', (_, gcm) => {
  it('§16.1.1 encrypts the RTP packet', () => {
    expect(gcm().protectRtp(RTP, 12, RTP_SSRC, 0, RTP_SEQ).toString('hex')).toBe(SRTP.toString('hex'));
  });

  it('§16.1.2 decrypts the SRTP packet', () => {
    expect(gcm().unprotectRtp(SRTP, 12, RTP_SSRC, 0, RTP_SEQ)?.toString('hex')).toBe(RTP.toString('hex'));
  });

  it('§17.1 encrypts the RTCP packet', () => {
    expect(gcm().protectRtcp(RTCP, RTCP_SSRC, SRTCP_INDEX).toString('hex')).toBe(SRTCP.toString('hex'));
  });

  it('§17.1 decrypts the SRTCP packet', () => {
    expect(gcm().unprotectRtcp(SRTCP, RTCP_SSRC, SRTCP_INDEX, true)?.toString('hex')).toBe(
      RTCP.toString('hex'),
    );
  });

  it('§17.3 verifies an authenticated-only (E=0) SRTCP packet', () => {
    expect(gcm().unprotectRtcp(SRTCP_TAG_ONLY, RTCP_SSRC, SRTCP_INDEX, false)?.toString('hex')).toBe(
      RTCP.toString('hex'),
    );
  });

  it('rejects the vectors under the wrong ROC or index', () => {
    expect(gcm().unprotectRtp(SRTP, 12, RTP_SSRC, 1, RTP_SEQ)).toBeNull();
    expect(gcm().unprotectRtcp(SRTCP, RTCP_SSRC, SRTCP_INDEX + 1, true)).toBeNull();
    expect(gcm().unprotectRtcp(SRTCP_TAG_ONLY, RTCP_SSRC, SRTCP_INDEX, true)).toBeNull();
  });
});
