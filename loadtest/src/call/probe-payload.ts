/**
 * Probe payloads that are also valid Opus: a one-frame CELT silence packet
 * in RFC 6716 framing code 3 with padding, and the padding carries a magic
 * number and the probe's sequence number. Decoders ignore padding content
 * (RFC 6716 section 3.2.5), so a pipeline agent decodes each probe as 20 ms
 * of silence, while the rtp-echo reflector returns it byte for byte and the
 * echo can be matched to its send time.
 */
const MAGIC = 0x50524c59; // "PRLY"
export const PROBE_PAYLOAD_BYTES = 120; // ~ Opus at 48 kbit/s in 20 ms frames

// TOC: config 31 (CELT fullband, 20 ms), mono, code 3 (arbitrary frame count).
const TOC = (31 << 3) | 3;
// Frame-count byte: CBR, padding present, one frame.
const COUNT = 0x40 | 1;
// A CELT frame that decodes to silence.
const SILENT_FRAME = [0xff, 0xfe];
const HEADER = 3; // TOC, count, one padding-length byte

export function makeProbe(seq: number, size = PROBE_PAYLOAD_BYTES): Buffer {
  const padding = Math.min(254, Math.max(8, size - HEADER - SILENT_FRAME.length));
  const buf = Buffer.alloc(HEADER + SILENT_FRAME.length + padding, 0);
  buf[0] = TOC;
  buf[1] = COUNT;
  buf[2] = padding;
  buf.set(SILENT_FRAME, HEADER);
  const at = HEADER + SILENT_FRAME.length;
  buf.writeUInt32BE(MAGIC, at);
  buf.writeUInt32BE(seq >>> 0, at + 4);
  return buf;
}

export function readProbe(payload: Buffer): number | undefined {
  if (payload.length < HEADER + SILENT_FRAME.length + 8 || payload[0] !== TOC || payload[1] !== COUNT)
    return undefined;
  const padding = payload[2] as number;
  const at = payload.length - padding;
  if (padding < 8 || at < HEADER || payload.readUInt32BE(at) !== MAGIC) return undefined;
  return payload.readUInt32BE(at + 4);
}

/**
 * readProbe on a payload starting at `at` in `buf` (an RTP packet), without
 * making a view: -1 when it is not a probe. For per-packet receive paths.
 */
export function readProbeAt(buf: Uint8Array, at: number): number {
  const end = buf.length;
  if (end - at < HEADER + SILENT_FRAME.length + 8 || buf[at] !== TOC || buf[at + 1] !== COUNT) return -1;
  const padding = buf[at + 2] as number;
  const p = end - padding;
  if (padding < 8 || p < at + HEADER) return -1;
  const magic =
    (((buf[p] as number) << 24) |
      ((buf[p + 1] as number) << 16) |
      ((buf[p + 2] as number) << 8) |
      (buf[p + 3] as number)) >>>
    0;
  if (magic !== MAGIC) return -1;
  const n =
    (((buf[p + 4] as number) << 24) |
      ((buf[p + 5] as number) << 16) |
      ((buf[p + 6] as number) << 8) |
      (buf[p + 7] as number)) >>>
    0;
  return n > 0x7fffffff ? -1 : n;
}
