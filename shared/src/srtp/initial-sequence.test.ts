import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { initialRtpSequenceNumber, MAX_INITIAL_RTP_SEQUENCE } from './initial-sequence.js';
import { SRTP_PROFILES } from './profiles.js';
import { writeRtpHeader } from './rtp-header.js';
import { SrtpSession } from './srtp-context.js';

function rtp(seq: number): Buffer {
  const buf = Buffer.alloc(52);
  writeRtpHeader(buf, 0, { pt: 111, seq, ts: seq * 960, ssrc: 0x0badcafe });
  return buf;
}

/** A sender starting at `first`, a receiver that misses the first `lost` packets; how many of the next 50 it reads. */
function readAfterEarlyLoss(first: number, lost: number): number {
  const { keyLength, saltLength } = SRTP_PROFILES.AEAD_AES_128_GCM;
  const key = randomBytes(keyLength);
  const salt = randomBytes(saltLength);
  const tx = new SrtpSession('AEAD_AES_128_GCM', key, salt);
  const rx = new SrtpSession('AEAD_AES_128_GCM', key, salt);
  let ok = 0;
  for (let i = 0; i < lost + 50; i++) {
    const packet = tx.protectRtp(rtp((first + i) & 0xffff));
    if (i >= lost && rx.unprotectRtp(packet)) ok++;
  }
  return ok;
}

describe('initialRtpSequenceNumber', () => {
  it('draws from 1 .. 2^15 - 1, and not always the same number', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2_000; i++) {
      const n = initialRtpSequenceNumber();
      expect(Number.isInteger(n) && n >= 1 && n <= MAX_INITIAL_RTP_SEQUENCE).toBe(true);
      seen.add(n);
    }
    expect(seen.size).toBeGreaterThan(1_900);
  });

  it('why: a stream that starts near 65535 and loses its first packets across the wrap is unreadable for good', () => {
    // The case the bench caught (one capacity session in ~2,000): the receiver's first packet
    // comes after the sender's wrap, so its ROC is one behind from then on.
    expect(readAfterEarlyLoss(65_534, 4)).toBe(0);
    // From the lowest and the highest first number we draw, the same early loss costs nothing.
    expect(readAfterEarlyLoss(1, 4)).toBe(50);
    expect(readAfterEarlyLoss(MAX_INITIAL_RTP_SEQUENCE, 4)).toBe(50);
  });
});
