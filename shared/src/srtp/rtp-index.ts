/**
 * RFC 3711 Appendix A: the 48-bit index (ROC * 2^16 + SEQ) of a packet
 * with sequence number seq, given the highest index seen so far. The guess
 * is the candidate ROC-1, ROC or ROC+1 that lands closest to the highest.
 * Returns -1 when the only sensible guess precedes index 0 (ROC would be
 * -1): such a packet predates the stream and can only be a replay or junk.
 */
export function guessRtpIndex(highest: number, seq: number): number {
  const roc = Math.floor(highest / 0x10000);
  const sl = highest - roc * 0x10000;
  let v = roc;
  if (sl < 0x8000) {
    if (seq - sl > 0x8000) v = roc - 1;
  } else if (sl - 0x8000 > seq) {
    v = roc + 1;
  }
  return v < 0 ? -1 : v * 0x10000 + seq;
}

/** SRTCP carries a 31-bit index; the sender wraps it modulo 2^31 (RFC 3711 §3.3.2). */
export const SRTCP_INDEX_MODULUS = 0x80000000;
