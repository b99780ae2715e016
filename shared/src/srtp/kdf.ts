import { createCipheriv } from 'node:crypto';
import { SrtpConfigError } from './errors.js';
import { SRTP_PROFILES, type SrtpProfile } from './profiles.js';

/** RFC 3711 §4.3.2 labels (key derivation rate 0, so r is always zero). */
export const KdfLabel = {
  rtpEncryption: 0x00,
  rtpAuthentication: 0x01,
  rtpSalt: 0x02,
  rtcpEncryption: 0x03,
  rtcpAuthentication: 0x04,
  rtcpSalt: 0x05,
} as const;
export type KdfLabel = (typeof KdfLabel)[keyof typeof KdfLabel];

/** HMAC-SHA1 session authentication key length, n_a = 160 bits (RFC 3711 §8.2). */
export const AUTH_KEY_BYTES = 20;

export interface SrtpSessionKeys {
  rtpKey: Buffer;
  rtpSalt: Buffer;
  /** Empty for AEAD profiles, whose tag comes from GCM itself. */
  rtpAuthKey: Buffer;
  rtcpKey: Buffer;
  rtcpSalt: Buffer;
  rtcpAuthKey: Buffer;
}

/**
 * The AES-CM PRF of RFC 3711 §4.3.3: AES-CM keystream under the master key,
 * with IV = (master_salt XOR label<<48) * 2^16. A 12-byte (GCM) master salt
 * is zero-padded on the right to 112 bits as RFC 7714 §11 and libsrtp do.
 */
export function aesCmPrf(
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
  label: number,
  length: number,
): Buffer {
  const blocks = Math.ceil(length / 16);
  const input = Buffer.alloc(blocks * 16);
  for (let b = 0; b < blocks; b++) {
    const at = b * 16;
    input.set(masterSalt.subarray(0, 14), at);
    input[at + 7] = (input[at + 7] as number) ^ label;
    input[at + 14] = (b >> 8) & 0xff;
    input[at + 15] = b & 0xff;
  }
  const ecb = createCipheriv('aes-128-ecb', masterKey, null);
  ecb.setAutoPadding(false);
  return ecb.update(input).subarray(0, length);
}

/** Session keys for both SRTP and SRTCP from one direction's master key and salt. */
export function deriveSessionKeys(
  profile: SrtpProfile,
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
): SrtpSessionKeys {
  const params = SRTP_PROFILES[profile];
  if (params === undefined) throw new SrtpConfigError(`unknown SRTP profile ${String(profile)}`);
  if (masterKey.length !== params.keyLength) {
    throw new SrtpConfigError(
      `${profile} needs a ${params.keyLength}-byte master key, got ${masterKey.length}`,
    );
  }
  if (masterSalt.length !== params.saltLength) {
    throw new SrtpConfigError(
      `${profile} needs a ${params.saltLength}-byte master salt, got ${masterSalt.length}`,
    );
  }
  const authLength = profile === 'AEAD_AES_128_GCM' ? 0 : AUTH_KEY_BYTES;
  const prf = (label: KdfLabel, length: number) => aesCmPrf(masterKey, masterSalt, label, length);
  try {
    return {
      rtpKey: prf(KdfLabel.rtpEncryption, params.keyLength),
      rtpSalt: prf(KdfLabel.rtpSalt, params.saltLength),
      rtpAuthKey: prf(KdfLabel.rtpAuthentication, authLength),
      rtcpKey: prf(KdfLabel.rtcpEncryption, params.keyLength),
      rtcpSalt: prf(KdfLabel.rtcpSalt, params.saltLength),
      rtcpAuthKey: prf(KdfLabel.rtcpAuthentication, authLength),
    };
  } catch (cause) {
    throw new SrtpConfigError('SRTP key derivation failed in node:crypto', { cause });
  }
}
