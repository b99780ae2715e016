/**
 * One profile's cryptographic transform with all packet bookkeeping (header
 * parsing, ROC, replay) done by the caller. Inputs are already
 * length-checked; unprotect returns null only on authentication failure.
 */
export interface SrtpTransform {
  /** Bytes protectRtp appends. */
  readonly rtpTagLength: number;
  /** Bytes protectRtcp appends: the E||index word plus the tag. */
  readonly rtcpTrailerLength: number;
  /** Where the E||index word starts, counted back from the end of an SRTCP packet. */
  readonly rtcpIndexFromEnd: number;
  protectRtp(rtp: Uint8Array, headerLength: number, ssrc: number, roc: number, seq: number): Buffer;
  unprotectRtp(srtp: Uint8Array, headerLength: number, ssrc: number, roc: number, seq: number): Buffer | null;
  /**
   * Optional zero-allocation forms (engines that can write into the caller's buffer): the
   * bytes written, or -1 when authentication fails. out is large enough (checked by the caller).
   */
  protectRtpInto?(
    rtp: Uint8Array,
    headerLength: number,
    ssrc: number,
    roc: number,
    seq: number,
    out: Uint8Array,
  ): number;
  unprotectRtpInto?(
    srtp: Uint8Array,
    headerLength: number,
    ssrc: number,
    roc: number,
    seq: number,
    out: Uint8Array,
  ): number;
  protectRtcp(rtcp: Uint8Array, ssrc: number, index: number): Buffer;
  unprotectRtcp(srtcp: Uint8Array, ssrc: number, index: number, encrypted: boolean): Buffer | null;
}

/** SRTCP header bytes left in the clear: V/P/RC, PT, length, sender SSRC. */
export const RTCP_CLEAR_BYTES = 8;
export const SRTCP_INDEX_BYTES = 4;
export const SRTCP_E_BIT = 0x80;

export function writeSrtcpIndexWord(buf: Uint8Array, at: number, index: number, encrypted: boolean): void {
  buf[at] = ((index >>> 24) & 0x7f) | (encrypted ? SRTCP_E_BIT : 0);
  buf[at + 1] = (index >>> 16) & 0xff;
  buf[at + 2] = (index >>> 8) & 0xff;
  buf[at + 3] = index & 0xff;
}
