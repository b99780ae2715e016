import { loadNativeSrtp, type NativeSrtpModule } from '@parley/native/srtp';
import {
  DTLS_SRTP_AEAD_AES_128_GCM,
  DTLS_SRTP_AES128_CM_HMAC_SHA1_80,
  type SrtpProfile,
} from './profiles.js';
import { SrtpSession } from './srtp-context.js';

/** What a session's media path needs from SRTP, whichever engine implements it. */
export interface SrtpTransform {
  protectRtp(rtp: Uint8Array): Buffer;
  /** null: forged, replayed or malformed (never throws: the input is untrusted). */
  unprotectRtp(srtp: Uint8Array): Buffer | null;
  protectRtcp(rtcp: Uint8Array): Buffer;
  unprotectRtcp(srtcp: Uint8Array): Buffer | null;
}

export type SrtpEngineName = 'libsrtp2' | 'node:crypto';

let native: NativeSrtpModule | undefined | null = null;
function nativeSrtp(): NativeSrtpModule | undefined {
  if (native === null) native = loadNativeSrtp();
  return native;
}

/**
 * Which engine runs a profile. Measured (`npm run bench:native`): Debian's
 * libsrtp2 does AEAD_AES_128_GCM ~4x faster than node:crypto, which needs a
 * new cipher object per GCM packet; for AES_CM_128_HMAC_SHA1_80 the two are
 * equal (libsrtp2 on NSS re-creates its AES context per packet too), so
 * that profile stays in JavaScript and needs no native library.
 */
export function srtpEngineFor(profile: SrtpProfile): SrtpEngineName {
  return profile === 'AEAD_AES_128_GCM' && nativeSrtp() ? 'libsrtp2' : 'node:crypto';
}

/** One direction's SRTP/SRTCP (our key to protect, the peer's to unprotect), on the faster engine. */
export function createSrtpTransform(
  profile: SrtpProfile,
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
): SrtpTransform {
  const lib = srtpEngineFor(profile) === 'libsrtp2' ? nativeSrtp() : undefined;
  if (lib) return new lib.NativeSrtpSession(profile, masterKey, masterSalt, { replayWindow: 1024 });
  return new SrtpSession(profile, masterKey, masterSalt);
}

/**
 * DTLS-SRTP profiles to offer in the handshake, fastest first on this
 * machine: GCM when libsrtp2 is loaded, AES-CM (the cheaper one in
 * node:crypto) otherwise. Both are always accepted.
 */
export function preferredSrtpProfileIds(): number[] {
  return nativeSrtp()
    ? [DTLS_SRTP_AEAD_AES_128_GCM, DTLS_SRTP_AES128_CM_HMAC_SHA1_80]
    : [DTLS_SRTP_AES128_CM_HMAC_SHA1_80, DTLS_SRTP_AEAD_AES_128_GCM];
}
