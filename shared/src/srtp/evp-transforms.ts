import type { EvpBinding, EvpCmHandle, EvpGcmHandle } from '@parley/native/evp';
import { writeGcmIv } from './aead-gcm.js';
import type { SrtpSessionKeys } from './kdf.js';
import { RTCP_CLEAR_BYTES, SRTCP_INDEX_BYTES, type SrtpTransform, writeSrtcpIndexWord } from './transform.js';

const GCM_TAG = 16;
const GCM_IV = 12;
const CM_TAG = 10;
const CM_IV = 16;

/**
 * What both EVP transforms share: the allocating RTP forms, written once over
 * the zero-allocation ones each engine implements (output = input + tag).
 */
abstract class EvpRtpTransform implements SrtpTransform {
  abstract readonly rtpTagLength: number;
  abstract readonly rtcpTrailerLength: number;
  abstract readonly rtcpIndexFromEnd: number;

  abstract protectRtpInto(
    rtp: Uint8Array,
    headerLength: number,
    ssrc: number,
    roc: number,
    seq: number,
    out: Uint8Array,
  ): number;

  abstract unprotectRtpInto(
    srtp: Uint8Array,
    headerLength: number,
    ssrc: number,
    roc: number,
    seq: number,
    out: Uint8Array,
  ): number;

  abstract protectRtcp(rtcp: Uint8Array, ssrc: number, index: number): Buffer;
  abstract unprotectRtcp(srtcp: Uint8Array, ssrc: number, index: number, encrypted: boolean): Buffer | null;

  protectRtp(rtp: Uint8Array, headerLength: number, ssrc: number, roc: number, seq: number): Buffer {
    const out = Buffer.allocUnsafe(rtp.length + this.rtpTagLength);
    this.protectRtpInto(rtp, headerLength, ssrc, roc, seq, out);
    return out;
  }

  unprotectRtp(
    srtp: Uint8Array,
    headerLength: number,
    ssrc: number,
    roc: number,
    seq: number,
  ): Buffer | null {
    const out = Buffer.allocUnsafe(srtp.length - this.rtpTagLength);
    return this.unprotectRtpInto(srtp, headerLength, ssrc, roc, seq, out) < 0 ? null : out;
  }
}

/**
 * AEAD_AES_128_GCM (RFC 7714) on the OpenSSL EVP addon (native/evp): one pair of
 * EVP_CIPHER_CTX per key, keyed once, so a packet costs an IV reset and the cipher, whatever
 * the number of live sessions (libsrtp2 on NSS grows with it), and allocates only its output
 * Buffer (node:crypto needs a cipher object and three Buffers per packet).
 */
export class EvpGcmTransform extends EvpRtpTransform {
  readonly rtpTagLength = GCM_TAG;
  readonly rtcpTrailerLength = GCM_TAG + SRTCP_INDEX_BYTES;
  /** RFC 7714 §9: the tag precedes the E||index word. */
  readonly rtcpIndexFromEnd = SRTCP_INDEX_BYTES;
  private readonly rtp: EvpGcmHandle;
  private readonly rtcp: EvpGcmHandle;
  private readonly rtpSalt: Uint8Array;
  private readonly rtcpSalt: Uint8Array;
  private readonly iv = Buffer.alloc(GCM_IV);
  /** The SRTCP E||index word, which is AAD after the 8 clear header bytes. */
  private readonly word = Buffer.alloc(SRTCP_INDEX_BYTES);

  constructor(
    private readonly evp: EvpBinding,
    keys: SrtpSessionKeys,
  ) {
    super();
    this.rtp = evp.gcmCreate(keys.rtpKey);
    this.rtcp = evp.gcmCreate(keys.rtcpKey);
    this.rtpSalt = Uint8Array.from(keys.rtpSalt.subarray(0, GCM_IV));
    this.rtcpSalt = Uint8Array.from(keys.rtcpSalt.subarray(0, GCM_IV));
  }

  protectRtpInto(
    rtp: Uint8Array,
    headerLength: number,
    ssrc: number,
    roc: number,
    seq: number,
    out: Uint8Array,
  ): number {
    writeGcmIv(this.iv, this.rtpSalt, ssrc, roc >>> 16, ((roc & 0xffff) << 16) | seq);
    this.evp.gcmSeal(this.rtp, this.iv, rtp, headerLength, rtp.length, null, out);
    return rtp.length + GCM_TAG;
  }

  unprotectRtpInto(
    srtp: Uint8Array,
    headerLength: number,
    ssrc: number,
    roc: number,
    seq: number,
    out: Uint8Array,
  ): number {
    const end = srtp.length - GCM_TAG;
    writeGcmIv(this.iv, this.rtpSalt, ssrc, roc >>> 16, ((roc & 0xffff) << 16) | seq);
    return this.evp.gcmOpen(this.rtp, this.iv, srtp, headerLength, end, null, out) ? end : -1;
  }

  protectRtcp(rtcp: Uint8Array, ssrc: number, index: number): Buffer {
    const len = rtcp.length;
    const out = Buffer.allocUnsafe(len + GCM_TAG + SRTCP_INDEX_BYTES);
    writeSrtcpIndexWord(this.word, 0, index, true);
    writeGcmIv(this.iv, this.rtcpSalt, ssrc, 0, index & 0x7fffffff);
    this.evp.gcmSeal(this.rtcp, this.iv, rtcp, RTCP_CLEAR_BYTES, len, this.word, out);
    out.set(this.word, len + GCM_TAG);
    return out;
  }

  unprotectRtcp(srtcp: Uint8Array, ssrc: number, index: number, encrypted: boolean): Buffer | null {
    const wordAt = srtcp.length - SRTCP_INDEX_BYTES;
    const tagAt = wordAt - GCM_TAG;
    const word = this.word;
    for (let i = 0; i < SRTCP_INDEX_BYTES; i++) word[i] = srtcp[wordAt + i] as number;
    const out = Buffer.allocUnsafe(tagAt);
    writeGcmIv(this.iv, this.rtcpSalt, ssrc, 0, index & 0x7fffffff);
    // RFC 7714 §17: an unencrypted SRTCP packet is all AAD, then the index word.
    const aadLength = encrypted ? RTCP_CLEAR_BYTES : tagAt;
    return this.evp.gcmOpen(this.rtcp, this.iv, srtcp, aadLength, tagAt, word, out) ? out : null;
  }
}

/**
 * AES_CM_128_HMAC_SHA1_80 (RFC 3711) on the OpenSSL EVP addon: per key one AES-CTR context
 * re-IVed per packet and HMAC-SHA1 from precomputed ipad/opad states, one addon call per
 * packet for cipher and tag together.
 */
export class EvpAesCmTransform extends EvpRtpTransform {
  readonly rtpTagLength = CM_TAG;
  readonly rtcpTrailerLength = SRTCP_INDEX_BYTES + CM_TAG;
  readonly rtcpIndexFromEnd = SRTCP_INDEX_BYTES + CM_TAG;
  private readonly rtp: EvpCmHandle;
  private readonly rtcp: EvpCmHandle;
  private readonly rtpSalt: Uint8Array;
  private readonly rtcpSalt: Uint8Array;
  private readonly iv = Buffer.alloc(CM_IV);

  constructor(
    private readonly evp: EvpBinding,
    keys: SrtpSessionKeys,
  ) {
    super();
    this.rtp = evp.cmCreate(keys.rtpKey, keys.rtpAuthKey);
    this.rtcp = evp.cmCreate(keys.rtcpKey, keys.rtcpAuthKey);
    this.rtpSalt = Uint8Array.from(keys.rtpSalt.subarray(0, 14));
    this.rtcpSalt = Uint8Array.from(keys.rtcpSalt.subarray(0, 14));
  }

  protectRtpInto(
    rtp: Uint8Array,
    headerLength: number,
    ssrc: number,
    roc: number,
    seq: number,
    out: Uint8Array,
  ): number {
    const len = rtp.length;
    const iv = this.fillIv(this.rtpSalt, ssrc, roc, seq);
    this.evp.cmSeal(this.rtp, iv, rtp, headerLength, len, out, len, roc, CM_TAG);
    return len + CM_TAG;
  }

  unprotectRtpInto(
    srtp: Uint8Array,
    headerLength: number,
    ssrc: number,
    roc: number,
    seq: number,
    out: Uint8Array,
  ): number {
    const end = srtp.length - CM_TAG;
    const iv = this.fillIv(this.rtpSalt, ssrc, roc, seq);
    return this.evp.cmOpen(this.rtp, iv, srtp, headerLength, end, out, end, roc, CM_TAG) ? end : -1;
  }

  protectRtcp(rtcp: Uint8Array, ssrc: number, index: number): Buffer {
    const len = rtcp.length;
    const out = Buffer.allocUnsafe(len + SRTCP_INDEX_BYTES + CM_TAG);
    // The tag covers the E||index word, so it goes in before cmSeal signs.
    writeSrtcpIndexWord(out, len, index, true);
    const iv = this.fillIv(this.rtcpSalt, ssrc, index >>> 16, index & 0xffff);
    this.evp.cmSeal(this.rtcp, iv, rtcp, RTCP_CLEAR_BYTES, len, out, len + SRTCP_INDEX_BYTES, -1, CM_TAG);
    return out;
  }

  unprotectRtcp(srtcp: Uint8Array, ssrc: number, index: number, encrypted: boolean): Buffer | null {
    const tagAt = srtcp.length - CM_TAG;
    const end = tagAt - SRTCP_INDEX_BYTES;
    const out = Buffer.allocUnsafe(end);
    const iv = this.fillIv(this.rtcpSalt, ssrc, index >>> 16, index & 0xffff);
    return this.evp.cmOpen(this.rtcp, iv, srtcp, RTCP_CLEAR_BYTES, end, out, tagAt, -1, CM_TAG, encrypted)
      ? out
      : null;
  }

  /** RFC 3711 §4.1.1: IV = salt*2^16 XOR SSRC*2^64 XOR index*2^16, index = high(32)||low(16). */
  private fillIv(salt: Uint8Array, ssrc: number, high: number, low: number): Buffer {
    const iv = this.iv;
    iv[0] = salt[0] as number;
    iv[1] = salt[1] as number;
    iv[2] = salt[2] as number;
    iv[3] = salt[3] as number;
    iv[4] = (salt[4] as number) ^ (ssrc >>> 24);
    iv[5] = (salt[5] as number) ^ ((ssrc >>> 16) & 0xff);
    iv[6] = (salt[6] as number) ^ ((ssrc >>> 8) & 0xff);
    iv[7] = (salt[7] as number) ^ (ssrc & 0xff);
    iv[8] = (salt[8] as number) ^ (high >>> 24);
    iv[9] = (salt[9] as number) ^ ((high >>> 16) & 0xff);
    iv[10] = (salt[10] as number) ^ ((high >>> 8) & 0xff);
    iv[11] = (salt[11] as number) ^ (high & 0xff);
    iv[12] = (salt[12] as number) ^ ((low >>> 8) & 0xff);
    iv[13] = (salt[13] as number) ^ (low & 0xff);
    iv[14] = 0;
    iv[15] = 0;
    return iv;
  }
}
