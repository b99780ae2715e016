import { randomInt } from 'node:crypto';

/** The largest first sequence number we pick: libwebrtc's bound (kMaxInitRtpSeqNumber, 2^15 - 1). */
export const MAX_INITIAL_RTP_SEQUENCE = 0x7fff;

/**
 * A random first RTP sequence number in [1, 2^15 - 1]. RFC 3550 wants it
 * random; SRTP wants it low. A receiver starts its rollover counter at 0
 * with the first packet it gets (RFC 3711 §3.3.1), so a stream that starts
 * near 65535 and loses its first packets across the wrap is read with a
 * ROC one too small, and every packet after fails authentication for the
 * rest of the session. Starting in the lower half leaves 2^15 packets
 * (~11 min of 20 ms audio) before the first wrap, far longer than any
 * early loss.
 */
export function initialRtpSequenceNumber(): number {
  return randomInt(1, MAX_INITIAL_RTP_SEQUENCE + 1);
}
