/**
 * Construction-time failures. The per-packet paths never throw for
 * untrusted input (they return null and count), so these only surface
 * while wiring a session up or when our own code hands protect() garbage.
 */
export class SrtpConfigError extends Error {
  override name = 'SrtpConfigError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An outgoing packet we were asked to protect is not RTP/RTCP: a bug on our side, not a peer's. */
export class SrtpPacketError extends Error {
  override name = 'SrtpPacketError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
