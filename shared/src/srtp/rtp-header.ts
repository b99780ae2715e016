import { readU32, writeU32 } from './bytes.js';

/**
 * Zero-allocation RTP header readers (RFC 3550 §5.1) for packets straight
 * off the wire. Every reader bounds-checks and answers -1 / false for a
 * buffer too short to hold the field, so callers on the receive path never
 * need a try/catch.
 */

export const RTP_VERSION = 2;
export const RTP_FIXED_HEADER_BYTES = 12;

export function isRtpVersion2(buf: Uint8Array): boolean {
  return buf.length > 0 && (buf[0] as number) >> 6 === RTP_VERSION;
}

export function rtpHasPadding(buf: Uint8Array): boolean {
  return buf.length > 0 && ((buf[0] as number) & 0x20) !== 0;
}

export function rtpHasExtension(buf: Uint8Array): boolean {
  return buf.length > 0 && ((buf[0] as number) & 0x10) !== 0;
}

export function rtpCsrcCount(buf: Uint8Array): number {
  return buf.length > 0 ? (buf[0] as number) & 0x0f : -1;
}

export function rtpMarker(buf: Uint8Array): boolean {
  return buf.length > 1 && ((buf[1] as number) & 0x80) !== 0;
}

export function rtpPayloadType(buf: Uint8Array): number {
  return buf.length > 1 ? (buf[1] as number) & 0x7f : -1;
}

export function rtpSequenceNumber(buf: Uint8Array): number {
  return buf.length > 3 ? ((buf[2] as number) << 8) | (buf[3] as number) : -1;
}

export function rtpTimestamp(buf: Uint8Array): number {
  return buf.length > 7 ? readU32(buf, 4) : -1;
}

export function rtpSsrc(buf: Uint8Array): number {
  return buf.length > 11 ? readU32(buf, 8) : -1;
}

/**
 * Bytes before the payload: fixed header, CSRCs and the extension block.
 * -1 when the version is not 2 or the counts point past the end of buf.
 */
export function rtpHeaderLength(buf: Uint8Array): number {
  if (buf.length < RTP_FIXED_HEADER_BYTES) return -1;
  const b0 = buf[0] as number;
  if (b0 >> 6 !== RTP_VERSION) return -1;
  let len = RTP_FIXED_HEADER_BYTES + 4 * (b0 & 0x0f);
  if ((b0 & 0x10) !== 0) {
    if (buf.length < len + 4) return -1;
    len += 4 + 4 * (((buf[len + 2] as number) << 8) | (buf[len + 3] as number));
  }
  return len <= buf.length ? len : -1;
}

/**
 * RFC 5761 §4: with rtcp-mux, a second byte of 192-223 (marker bit plus
 * payload types 64-95) is RTCP, which is why RTP may not use those types.
 */
export function isRtcp(buf: Uint8Array): boolean {
  if (buf.length < 2 || (buf[0] as number) >> 6 !== RTP_VERSION) return false;
  const b1 = buf[1] as number;
  return b1 >= 192 && b1 <= 223;
}

export interface RtpHeaderFields {
  pt: number;
  seq: number;
  ts: number;
  ssrc: number;
  marker?: boolean;
}

/**
 * Writes a 12-byte header (no padding, extension or CSRCs) at offset and
 * returns the bytes written, or -1 if it does not fit or pt is not 0-127.
 * seq and ts are taken modulo 2^16 and 2^32 so callers can just count up.
 */
export function writeRtpHeader(buf: Uint8Array, offset: number, h: RtpHeaderFields): number {
  if (offset < 0 || offset + RTP_FIXED_HEADER_BYTES > buf.length) return -1;
  if (!(h.pt >= 0 && h.pt <= 127)) return -1;
  buf[offset] = RTP_VERSION << 6;
  buf[offset + 1] = (h.marker ? 0x80 : 0) | h.pt;
  buf[offset + 2] = (h.seq >> 8) & 0xff;
  buf[offset + 3] = h.seq & 0xff;
  writeU32(buf, offset + 4, h.ts);
  writeU32(buf, offset + 8, h.ssrc);
  return RTP_FIXED_HEADER_BYTES;
}
