/**
 * RFC 4571 framing: each packet on a TCP stream is preceded by its length
 * as a 16-bit big-endian integer. ICE-TCP (RFC 6544) carries STUN, DTLS
 * and SRTP this way. Pure: no sockets.
 */

export type DeframeError = 'frame_too_large';

/**
 * Splits a byte stream into frames, holding at most one partial frame
 * (never more than `maxFrameBytes`), so a peer that sends a length prefix
 * and then trickles (slowloris) or lies costs a bounded buffer. Frames that
 * arrive whole inside one chunk are handed out as views of that chunk (no
 * copy); a frame split across chunks is assembled into its own buffer.
 */
export class Rfc4571Deframer {
  private readonly header = Buffer.alloc(2);
  private headerHave = 0;
  private partial: Buffer | undefined;
  private have = 0;
  /** Zero-length frames seen (legal, carry nothing). */
  emptyFrames = 0;

  constructor(readonly maxFrameBytes = 4096) {
    if (!(maxFrameBytes >= 1 && maxFrameBytes <= 0xffff)) throw new Error('maxFrameBytes must be 1..65535');
  }

  /** Bytes held for an incomplete frame or length prefix. */
  get buffered(): number {
    return this.headerHave + this.have;
  }

  /** True while a frame or its length prefix is incomplete. */
  get midFrame(): boolean {
    return this.headerHave > 0 || this.partial !== undefined;
  }

  /**
   * Feeds one chunk; calls `emit` for every complete frame. Returns an
   * error when a length prefix exceeds the bound: the stream cannot be
   * resynchronised after that, so the caller closes the connection.
   */
  push(chunk: Buffer, emit: (frame: Buffer) => void): DeframeError | undefined {
    let off = 0;
    const end = chunk.length;
    while (off < end) {
      const partial = this.partial;
      if (partial !== undefined) {
        const n = Math.min(partial.length - this.have, end - off);
        chunk.copy(partial, this.have, off, off + n);
        this.have += n;
        off += n;
        if (this.have === partial.length) {
          this.partial = undefined;
          this.have = 0;
          emit(partial);
        }
        continue;
      }
      let len: number;
      if (this.headerHave === 0 && end - off >= 2) {
        len = ((chunk[off] as number) << 8) | (chunk[off + 1] as number);
        off += 2;
      } else {
        this.header[this.headerHave++] = chunk[off++] as number;
        if (this.headerHave < 2) continue;
        this.headerHave = 0;
        len = ((this.header[0] as number) << 8) | (this.header[1] as number);
      }
      if (len > this.maxFrameBytes) return 'frame_too_large';
      if (len === 0) {
        this.emptyFrames++;
        continue;
      }
      if (end - off >= len) {
        emit(chunk.subarray(off, off + len));
        off += len;
      } else {
        this.partial = Buffer.allocUnsafe(len);
        this.have = 0;
      }
    }
    return undefined;
  }
}

/** One frame: the 2-byte length and the packet, in one buffer (one write). */
export function encodeFrame(packet: Uint8Array): Buffer {
  if (packet.length > 0xffff) throw new RangeError('RFC 4571 frames carry at most 65535 bytes');
  const out = Buffer.allocUnsafe(2 + packet.length);
  out.writeUInt16BE(packet.length, 0);
  out.set(packet, 2);
  return out;
}
