/**
 * Opus-sized RTP payloads that carry a probe sequence number, so the echo
 * that comes back can be matched to its send time. The echo agent returns
 * payloads unchanged; the magic prefix tells probes from anything else.
 */
const MAGIC = 0x50524c59; // "PRLY"
export const PROBE_PAYLOAD_BYTES = 120; // ~ Opus at 48 kbit/s in 20 ms frames

export function makeProbe(seq: number, size = PROBE_PAYLOAD_BYTES): Buffer {
  const buf = Buffer.alloc(Math.max(size, 8), 0x55);
  buf.writeUInt32BE(MAGIC, 0);
  buf.writeUInt32BE(seq >>> 0, 4);
  return buf;
}

export function readProbe(payload: Buffer): number | undefined {
  if (payload.length < 8 || payload.readUInt32BE(0) !== MAGIC) return undefined;
  return payload.readUInt32BE(4);
}
