import { AesCmKeystream } from './aes-cm.js';
import { copyBytes } from './bytes.js';
import { HmacSha1 } from './hmac-sha1.js';
import type { SrtpSessionKeys } from './kdf.js';
import { RTCP_CLEAR_BYTES, SRTCP_INDEX_BYTES, type SrtpTransform, writeSrtcpIndexWord } from './transform.js';

const TAG_BYTES = 10;

/**
 * AES_CM_128_HMAC_SHA1_80 (RFC 3711 §4.1.1, §4.2.1, RFC 5764): encrypt the
 * payload, then authenticate header + ciphertext (+ ROC for RTP, + E||index
 * for RTCP) with an 80-bit truncated HMAC-SHA1.
 */
export class AesCmHmacSha1Transform implements SrtpTransform {
  readonly rtpTagLength = TAG_BYTES;
  readonly rtcpTrailerLength = SRTCP_INDEX_BYTES + TAG_BYTES;
  readonly rtcpIndexFromEnd = SRTCP_INDEX_BYTES + TAG_BYTES;
  private readonly rtpCipher: AesCmKeystream;
  private readonly rtcpCipher: AesCmKeystream;
  private readonly rtpAuth: HmacSha1;
  private readonly rtcpAuth: HmacSha1;

  constructor(keys: SrtpSessionKeys) {
    this.rtpCipher = new AesCmKeystream(keys.rtpKey, keys.rtpSalt);
    this.rtcpCipher = new AesCmKeystream(keys.rtcpKey, keys.rtcpSalt);
    this.rtpAuth = new HmacSha1(keys.rtpAuthKey);
    this.rtcpAuth = new HmacSha1(keys.rtcpAuthKey);
  }

  protectRtp(rtp: Uint8Array, headerLength: number, ssrc: number, roc: number, seq: number): Buffer {
    const len = rtp.length;
    const out = Buffer.allocUnsafe(len + TAG_BYTES);
    copyBytes(rtp, 0, out, 0, headerLength);
    this.rtpCipher.xor(ssrc, roc, seq, rtp, headerLength, len, out, headerLength);
    this.rtpAuth.sign(out, len, roc, TAG_BYTES, out, len);
    return out;
  }

  unprotectRtp(
    srtp: Uint8Array,
    headerLength: number,
    ssrc: number,
    roc: number,
    seq: number,
  ): Buffer | null {
    const end = srtp.length - TAG_BYTES;
    if (!this.rtpAuth.verify(srtp, end, roc, TAG_BYTES, srtp, end)) return null;
    const out = Buffer.allocUnsafe(end);
    copyBytes(srtp, 0, out, 0, headerLength);
    this.rtpCipher.xor(ssrc, roc, seq, srtp, headerLength, end, out, headerLength);
    return out;
  }

  protectRtcp(rtcp: Uint8Array, ssrc: number, index: number): Buffer {
    const len = rtcp.length;
    const out = Buffer.allocUnsafe(len + SRTCP_INDEX_BYTES + TAG_BYTES);
    copyBytes(rtcp, 0, out, 0, RTCP_CLEAR_BYTES);
    this.rtcpCipher.xor(
      ssrc,
      index >>> 16,
      index & 0xffff,
      rtcp,
      RTCP_CLEAR_BYTES,
      len,
      out,
      RTCP_CLEAR_BYTES,
    );
    writeSrtcpIndexWord(out, len, index, true);
    this.rtcpAuth.sign(out, len + SRTCP_INDEX_BYTES, -1, TAG_BYTES, out, len + SRTCP_INDEX_BYTES);
    return out;
  }

  unprotectRtcp(srtcp: Uint8Array, ssrc: number, index: number, encrypted: boolean): Buffer | null {
    const tagAt = srtcp.length - TAG_BYTES;
    if (!this.rtcpAuth.verify(srtcp, tagAt, -1, TAG_BYTES, srtcp, tagAt)) return null;
    const end = tagAt - SRTCP_INDEX_BYTES;
    const out = Buffer.allocUnsafe(end);
    if (encrypted) {
      copyBytes(srtcp, 0, out, 0, RTCP_CLEAR_BYTES);
      this.rtcpCipher.xor(
        ssrc,
        index >>> 16,
        index & 0xffff,
        srtcp,
        RTCP_CLEAR_BYTES,
        end,
        out,
        RTCP_CLEAR_BYTES,
      );
    } else {
      out.set(srtcp.subarray(0, end));
    }
    return out;
  }
}
