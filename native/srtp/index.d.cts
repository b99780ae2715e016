/** DTLS-SRTP protection profile ids (RFC 5764 / RFC 7714). */
export declare const SrtpProfile: { readonly AES_CM_128_HMAC_SHA1_80: 1; readonly AEAD_AES_128_GCM: 7 };
export type SrtpProfileId = 1 | 7;
export type SrtpProfileName =
  | 'AES_CM_128_HMAC_SHA1_80'
  | 'SRTP_AES128_CM_HMAC_SHA1_80'
  | 'AEAD_AES_128_GCM'
  | 'SRTP_AEAD_AES_128_GCM';

export interface NativeSrtpOptions {
  /** libsrtp replay window, 64..32767 packets (0 = libsrtp default, 128). */
  replayWindow?: number;
  /** Allow protect() to re-send a sequence number (retransmission of the same payload). */
  allowRepeatTx?: boolean;
}

/** libsrtp2 behind one master key+salt; protect* = outbound context, unprotect* = inbound context. */
export declare class NativeSrtpSession {
  readonly profile: SrtpProfileId;
  constructor(
    profile: SrtpProfileId | SrtpProfileName,
    masterKey: Uint8Array,
    masterSalt: Uint8Array,
    options?: NativeSrtpOptions,
  );
  /** Bytes protectRtp adds (10 for AES-CM/HMAC-SHA1-80, 16 for GCM); RTCP adds 4 more. */
  readonly rtpOverhead: number;
  protectRtp(packet: Uint8Array): Buffer;
  /** null when authentication or the replay check fails. */
  unprotectRtp(packet: Uint8Array): Buffer | null;
  protectRtcp(packet: Uint8Array): Buffer;
  unprotectRtcp(packet: Uint8Array): Buffer | null;
  /** Allocation-free variants: write into `out`, return the length (-1 = rejected, for unprotect). */
  protectRtpInto(packet: Uint8Array, out: Uint8Array): number;
  unprotectRtpInto(packet: Uint8Array, out: Uint8Array): number;
  protectRtcpInto(packet: Uint8Array, out: Uint8Array): number;
  unprotectRtcpInto(packet: Uint8Array, out: Uint8Array): number;
  close(): void;
}

export interface NativeSrtpModule {
  NativeSrtpSession: typeof NativeSrtpSession;
  SrtpProfile: typeof SrtpProfile;
  /** e.g. "libsrtp2 2.5.0" */
  version: string;
}

/** undefined when the addon is not built, cannot be loaded, or PARLEY_NATIVE=0. */
export declare function loadNativeSrtp(): NativeSrtpModule | undefined;
export declare function nativeSrtpLoadError(): Error | undefined;
