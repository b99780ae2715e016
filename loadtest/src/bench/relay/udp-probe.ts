/**
 * The datagrams the relay bench sends: 200 bytes, carrying the flow, a
 * sequence number and the send time on the system-wide monotonic clock
 * (CLOCK_MONOTONIC via process.hrtime), so a sink in another process can
 * measure one-way latency.
 */
export const PROBE_BYTES = 200;
export const PROBE_MAGIC = 0x50424e43; // "PBNC"

/** Monotonic ms, comparable between processes on one machine. */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function writeProbe(buf: Buffer, offset: number, flow: number, seq: number, sentAtMs: number): void {
  buf.writeUInt32BE(PROBE_MAGIC, offset);
  buf.writeUInt32BE(flow >>> 0, offset + 4);
  buf.writeUInt32BE(seq >>> 0, offset + 8);
  buf.writeDoubleBE(sentAtMs, offset + 12);
}

export interface Probe {
  flow: number;
  seq: number;
  sentAtMs: number;
}

/** Undefined for anything that is not a probe (e.g. the STUN request that opened a relay flow). */
export function readProbe(buf: Buffer): Probe | undefined {
  if (buf.length < 20 || buf.readUInt32BE(0) !== PROBE_MAGIC) return undefined;
  return { flow: buf.readUInt32BE(4), seq: buf.readUInt32BE(8), sentAtMs: buf.readDoubleBE(12) };
}
