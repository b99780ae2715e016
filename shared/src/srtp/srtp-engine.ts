import { loadEvp } from '@parley/native/evp';
import { loadNativeSrtp, type NativeSrtpModule } from '@parley/native/srtp';
import {
  DTLS_SRTP_AEAD_AES_128_GCM,
  DTLS_SRTP_AES128_CM_HMAC_SHA1_80,
  type SrtpProfile,
} from './profiles.js';
import { type SrtpCryptoEngine, SrtpSession } from './srtp-context.js';

/** What a session's media path needs from SRTP, whichever engine implements it. */
export interface SrtpTransform {
  protectRtp(rtp: Uint8Array): Buffer;
  /** null: forged, replayed or malformed (never throws: the input is untrusted). */
  unprotectRtp(srtp: Uint8Array): Buffer | null;
  protectRtcp(rtcp: Uint8Array): Buffer;
  unprotectRtcp(srtcp: Uint8Array): Buffer | null;
}

export type SrtpEngineName = 'openssl' | 'libsrtp2' | 'node:crypto';

let native: NativeSrtpModule | undefined | null = null;
function nativeSrtp(): NativeSrtpModule | undefined {
  if (native === null) native = loadNativeSrtp();
  return native;
}

let evpLoaded: boolean | null = null;
function haveEvp(): boolean {
  if (evpLoaded === null) evpLoaded = loadEvp() !== undefined;
  return evpLoaded;
}

/**
 * Which engine runs a profile, by measurement (`npm run bench:native -w @parley/native`,
 * numbers in native/README.md). First choice for both profiles is SrtpSession on OpenSSL EVP
 * (native/evp): one cipher context per key, so its per-packet cost stays flat as sessions
 * grow, where Debian's libsrtp2 (on NSS) pays for every live key in each packet's context
 * setup and node:crypto builds a GCM cipher object per packet. Without native/evp: libsrtp2
 * for GCM (still cheaper than node:crypto's per-packet cipher), node:crypto for AES-CM.
 */
export function srtpEngineFor(profile: SrtpProfile): SrtpEngineName {
  if (haveEvp()) return 'openssl';
  return profile === 'AEAD_AES_128_GCM' && nativeSrtp() ? 'libsrtp2' : 'node:crypto';
}

/**
 * The crypto engine for an SrtpSession made directly (the capacity generator, which wants its
 * zero-allocation *Into forms): OpenSSL EVP when native/evp is loaded, else node:crypto.
 * Never libsrtp2, whose per-packet cost grows with the sessions alive in the process.
 */
export function sessionCryptoEngine(): SrtpCryptoEngine {
  return haveEvp() ? 'openssl' : 'node:crypto';
}

/** One direction's SRTP/SRTCP (our key to protect, the peer's to unprotect), on the faster engine. */
export function createSrtpTransform(
  profile: SrtpProfile,
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
): SrtpTransform {
  const engine = srtpEngineFor(profile);
  const lib = engine === 'libsrtp2' ? nativeSrtp() : undefined;
  if (lib) return new lib.NativeSrtpSession(profile, masterKey, masterSalt, { replayWindow: 1024 });
  return new SrtpSession(profile, masterKey, masterSalt, {
    engine: engine === 'openssl' ? 'openssl' : 'node:crypto',
  });
}

/**
 * DTLS-SRTP profiles to offer in the handshake, cheapest first on this machine: GCM when a
 * native engine runs it, AES-CM (the cheaper one in node:crypto) otherwise. Both are always
 * accepted.
 */
export function preferredSrtpProfileIds(): number[] {
  return haveEvp() || nativeSrtp()
    ? [DTLS_SRTP_AEAD_AES_128_GCM, DTLS_SRTP_AES128_CM_HMAC_SHA1_80]
    : [DTLS_SRTP_AES128_CM_HMAC_SHA1_80, DTLS_SRTP_AEAD_AES_128_GCM];
}
