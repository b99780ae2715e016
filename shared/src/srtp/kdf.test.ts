import { describe, expect, it } from 'vitest';
import { SrtpConfigError } from './errors.js';
import { aesCmPrf, deriveSessionKeys, KdfLabel } from './kdf.js';
import { SRTP_PROFILES, srtpProfileFromDtlsId } from './profiles.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 3711 Appendix B.3.
const MASTER_KEY = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
const MASTER_SALT = hex('0EC675AD498AFEEBB6960B3AABE6');

describe('RFC 3711 B.3 key derivation', () => {
  it('derives the cipher key, cipher salt and auth key of the appendix', () => {
    expect(aesCmPrf(MASTER_KEY, MASTER_SALT, KdfLabel.rtpEncryption, 16).toString('hex')).toBe(
      'c61e7a93744f39ee10734afe3ff7a087',
    );
    expect(aesCmPrf(MASTER_KEY, MASTER_SALT, KdfLabel.rtpSalt, 14).toString('hex')).toBe(
      '30cbbc08863d8c85d49db34a9ae1',
    );
    // The appendix prints 94 bytes of auth keystream; SHA1-80 uses the first 20.
    expect(aesCmPrf(MASTER_KEY, MASTER_SALT, KdfLabel.rtpAuthentication, 94).toString('hex')).toBe(
      hex(`CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
           E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
           6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2`).toString('hex'),
    );
  });

  it('fills SrtpSessionKeys with the appendix values for SRTP', () => {
    const keys = deriveSessionKeys('AES_CM_128_HMAC_SHA1_80', MASTER_KEY, MASTER_SALT);
    expect(keys.rtpKey.toString('hex')).toBe('c61e7a93744f39ee10734afe3ff7a087');
    expect(keys.rtpSalt.toString('hex')).toBe('30cbbc08863d8c85d49db34a9ae1');
    expect(keys.rtpAuthKey.toString('hex')).toBe('cebe321f6ff7716b6fd4ab49af256a156d38baa4');
    expect(keys.rtcpKey.equals(aesCmPrf(MASTER_KEY, MASTER_SALT, KdfLabel.rtcpEncryption, 16))).toBe(true);
    expect(keys.rtcpKey.equals(keys.rtpKey)).toBe(false);
  });

  it('derives 12-byte session salts and no auth keys for AEAD_AES_128_GCM', () => {
    const keys = deriveSessionKeys('AEAD_AES_128_GCM', MASTER_KEY, MASTER_SALT.subarray(0, 12));
    expect(keys.rtpKey).toHaveLength(16);
    expect(keys.rtpSalt).toHaveLength(12);
    expect(keys.rtcpSalt).toHaveLength(12);
    expect(keys.rtpAuthKey).toHaveLength(0);
    // The 96-bit salt is zero-padded to 112 bits, so it matches a 14-byte salt ending in 0000.
    const padded = Buffer.concat([MASTER_SALT.subarray(0, 12), Buffer.alloc(2)]);
    expect(keys.rtpKey.equals(aesCmPrf(MASTER_KEY, padded, KdfLabel.rtpEncryption, 16))).toBe(true);
  });

  it('rejects wrong key and salt lengths with SrtpConfigError', () => {
    expect(() =>
      deriveSessionKeys('AES_CM_128_HMAC_SHA1_80', MASTER_KEY.subarray(0, 15), MASTER_SALT),
    ).toThrow(SrtpConfigError);
    expect(() => deriveSessionKeys('AEAD_AES_128_GCM', MASTER_KEY, MASTER_SALT)).toThrow(
      /12-byte master salt/,
    );
    expect(() => deriveSessionKeys('NULL' as never, MASTER_KEY, MASTER_SALT)).toThrow(SrtpConfigError);
  });
});

describe('profiles', () => {
  it('maps DTLS-SRTP protection profile ids and sizes', () => {
    expect(srtpProfileFromDtlsId(0x0001)).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(srtpProfileFromDtlsId(0x0007)).toBe('AEAD_AES_128_GCM');
    expect(srtpProfileFromDtlsId(0x0002)).toBeUndefined();
    expect(SRTP_PROFILES.AES_CM_128_HMAC_SHA1_80).toMatchObject({ keyLength: 16, saltLength: 14 });
    expect(SRTP_PROFILES.AEAD_AES_128_GCM).toMatchObject({ keyLength: 16, saltLength: 12 });
  });
});
