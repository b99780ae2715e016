/**
 * The two SRTP protection profiles WebRTC endpoints actually negotiate
 * (RFC 5764 §4.1.2 and RFC 7714 §14.2), with the sizes each one implies.
 */
export type SrtpProfile = 'AES_CM_128_HMAC_SHA1_80' | 'AEAD_AES_128_GCM';

export interface SrtpProfileParams {
  /** SRTPProtectionProfile value in the DTLS use_srtp extension. */
  readonly dtlsId: number;
  readonly keyLength: number;
  readonly saltLength: number;
  /** Bytes appended to each RTP packet (HMAC tag or GCM tag). */
  readonly tagLength: number;
}

export const SRTP_PROFILES: { readonly [P in SrtpProfile]: SrtpProfileParams } = {
  AES_CM_128_HMAC_SHA1_80: { dtlsId: 0x0001, keyLength: 16, saltLength: 14, tagLength: 10 },
  AEAD_AES_128_GCM: { dtlsId: 0x0007, keyLength: 16, saltLength: 12, tagLength: 16 },
};

export const DTLS_SRTP_AES128_CM_HMAC_SHA1_80 = 0x0001;
export const DTLS_SRTP_AEAD_AES_128_GCM = 0x0007;

export function isSrtpProfile(value: unknown): value is SrtpProfile {
  return value === 'AES_CM_128_HMAC_SHA1_80' || value === 'AEAD_AES_128_GCM';
}

/** Profile for a DTLS-SRTP protection profile id; undefined for the ones we do not implement. */
export function srtpProfileFromDtlsId(id: number): SrtpProfile | undefined {
  if (id === DTLS_SRTP_AES128_CM_HMAC_SHA1_80) return 'AES_CM_128_HMAC_SHA1_80';
  if (id === DTLS_SRTP_AEAD_AES_128_GCM) return 'AEAD_AES_128_GCM';
  return undefined;
}
