/** One key's AES-GCM contexts (seal and open), freed at garbage collection. */
export interface EvpGcmHandle {
  readonly __evpGcm: unique symbol;
}
/** One key pair's AES-CTR context and precomputed HMAC-SHA1 states. */
export interface EvpCmHandle {
  readonly __evpCm: unique symbol;
}

export interface EvpBinding {
  /** OpenSSL's version string (the one inside the running Node). */
  version(): string;
  gcmCreate(key: Uint8Array): EvpGcmHandle;
  /**
   * AAD = src[0, aadLen) || extraAad; encrypts src[aadLen, end) into dst at the same offsets,
   * copies src[0, aadLen) to dst, writes the 16-byte tag at dst[end]. Throws on misuse.
   */
  gcmSeal(
    h: EvpGcmHandle,
    iv: Uint8Array,
    src: Uint8Array,
    aadLen: number,
    end: number,
    extraAad: Uint8Array | null,
    dst: Uint8Array,
  ): void;
  /** Like gcmSeal backwards, the tag read from src[end]; false when it does not verify. */
  gcmOpen(
    h: EvpGcmHandle,
    iv: Uint8Array,
    src: Uint8Array,
    aadLen: number,
    end: number,
    extraAad: Uint8Array | null,
    dst: Uint8Array,
  ): boolean;
  cmCreate(aesKey: Uint8Array, authKey: Uint8Array): EvpCmHandle;
  /**
   * Copies src[0, start) to dst, XORs src[start, end) with the AES-CTR keystream from iv into
   * dst, then writes tagLen bytes of HMAC-SHA1(dst[0, authEnd) || roc) at dst[authEnd]
   * (roc < 0: no ROC, as for SRTCP).
   */
  cmSeal(
    h: EvpCmHandle,
    iv: Uint8Array,
    src: Uint8Array,
    start: number,
    end: number,
    dst: Uint8Array,
    authEnd: number,
    roc: number,
    tagLen: number,
  ): void;
  /** Checks the tag at src[authEnd] first; false (dst untouched) when it does not verify. */
  cmOpen(
    h: EvpCmHandle,
    iv: Uint8Array,
    src: Uint8Array,
    start: number,
    end: number,
    dst: Uint8Array,
    authEnd: number,
    roc: number,
    tagLen: number,
    decrypt?: boolean,
  ): boolean;
}

export declare function loadEvp(): EvpBinding | undefined;
export declare function evpLoadError(): Error | undefined;
