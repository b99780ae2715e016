/**
 * RFC 7983 first-byte demultiplexing of what shares one WebRTC 5-tuple.
 * ZRTP (16-19) and TURN channels (64-79) never reach a relay in front of
 * WebRTC transceivers, so they are 'unknown' here like everything else.
 */
export type PacketKind = 'stun' | 'dtls' | 'rtp' | 'unknown';

export function classifyByte(b: number): PacketKind {
  if (b <= 3) return 'stun';
  if (b >= 20 && b <= 63) return 'dtls';
  if (b >= 128 && b <= 191) return 'rtp';
  return 'unknown';
}

/** Kind of a datagram from its first byte; empty datagrams are 'unknown'. */
export function classifyPacket(buf: Uint8Array): PacketKind {
  return buf.length === 0 ? 'unknown' : classifyByte(buf[0] as number);
}
