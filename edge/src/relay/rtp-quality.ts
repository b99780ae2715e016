/**
 * Per-leg RTP quality from the clear part of SRTP packets (RFC 3711 leaves
 * the 12-byte RTP header unencrypted), so a relay with no keys can tell a
 * lossy last mile from a lossy backbone: loss and reordering from sequence
 * numbers (RFC 3550 A.1, A.3) and interarrival jitter from timestamps
 * (RFC 3550 A.8). Integers only and no allocation per packet: the state is
 * one plain object per flow and direction, updated in place.
 *
 * The relay does not see the SDP, so the RTP clock rate is assumed: 48 kHz,
 * which every Opus stream uses (RFC 7587), whatever the negotiated payload
 * type. One SSRC is tracked per direction (voice sends one); a new SSRC
 * restarts the statistics and is counted.
 */

/** Opus's RTP clock (RFC 7587 §4.1): fixed whatever the audio's sample rate. */
export const ASSUMED_CLOCK_RATE = 48_000;
const MAX_DROPOUT = 3_000;
const MAX_MISORDER = 100;
const SEQ_MOD = 0x10000;

export interface RtpQuality {
  /** Packets seen that parsed as RTP (not RTCP). */
  received: number;
  ssrc: number;
  /** SSRC changes seen (each restarts the sequence statistics). */
  ssrcChanges: number;
  /** First sequence number, extended (the base of `expected`). */
  baseSeq: number;
  maxSeq: number;
  /** Sequence wrap count × 65536. */
  cycles: number;
  /** Packets older than the highest sequence seen (late or duplicate). */
  reordered: number;
  /** Jumps larger than MAX_DROPOUT (sender restarts): the base is reset. */
  restarts: number;
  /** RFC 3550 A.8 jitter × 16, in timestamp units. */
  jitterQ4: number;
  /** Relative transit of the previous packet, in timestamp units (int32). */
  transit: number;
  /** received count when the base was last (re)set, so expected/received stay consistent across restarts. */
  receivedAtBase: number;
  /** Highest jitter seen (timestamp units), for the flow's summary. */
  maxJitter: number;
}

export function newRtpQuality(): RtpQuality {
  return {
    received: 0,
    ssrc: 0,
    ssrcChanges: 0,
    baseSeq: 0,
    maxSeq: 0,
    cycles: 0,
    reordered: 0,
    restarts: 0,
    jitterQ4: 0,
    transit: 0,
    receivedAtBase: 0,
    maxJitter: 0,
  };
}

/**
 * True for an RTP packet (RFC 7983: first byte 128..191) that is not RTCP
 * (RFC 5761: payload type byte 192..223 with the marker bit) and is long
 * enough for the fixed header.
 */
export function isRtp(buf: Uint8Array, offset = 0, length = buf.length - offset): boolean {
  if (length < 12) return false;
  const b0 = buf[offset] as number;
  if (b0 < 128 || b0 > 191) return false;
  const b1 = buf[offset + 1] as number;
  return b1 < 192 || b1 > 223;
}

/**
 * Counts one datagram; ignores anything that is not RTP. `arrivalUnits` is
 * the arrival time in timestamp units (see arrivalUnits()). The packet is
 * buf[offset, offset + length): a slice of a batch slab needs no view.
 */
export function observeRtp(
  q: RtpQuality,
  buf: Uint8Array,
  arrivalUnits: number,
  offset = 0,
  length = buf.length - offset,
): void {
  if (!isRtp(buf, offset, length)) return;
  const o = offset;
  const seq = ((buf[o + 2] as number) << 8) | (buf[o + 3] as number);
  const ts =
    ((buf[o + 4] as number) << 24) |
    ((buf[o + 5] as number) << 16) |
    ((buf[o + 6] as number) << 8) |
    (buf[o + 7] as number) |
    0;
  const ssrc =
    (((buf[o + 8] as number) << 24) |
      ((buf[o + 9] as number) << 16) |
      ((buf[o + 10] as number) << 8) |
      (buf[o + 11] as number)) >>>
    0;
  const transit = (arrivalUnits - ts) | 0;
  if (q.received === 0 || ssrc !== q.ssrc) {
    if (q.received !== 0) q.ssrcChanges++;
    q.ssrc = ssrc;
    resetBase(q, seq);
    q.received++;
    q.jitterQ4 = 0;
    q.transit = transit;
    return;
  }
  q.received++;
  const delta = (seq - q.maxSeq + SEQ_MOD) % SEQ_MOD;
  if (delta === 0) {
    q.reordered++; // a duplicate of the newest packet
  } else if (delta < MAX_DROPOUT) {
    if (seq < q.maxSeq) q.cycles += SEQ_MOD;
    q.maxSeq = seq;
  } else if (delta <= SEQ_MOD - MAX_MISORDER) {
    // A jump too large to be loss: the sender restarted its sequence (RFC 3550 A.1).
    q.restarts++;
    resetBase(q, seq);
    q.receivedAtBase = q.received - 1; // this packet is the new base's first
  } else {
    q.reordered++;
  }
  // RFC 3550 A.8, in integers: J += (|D| - J) / 16 with J kept × 16.
  let d = (transit - q.transit) | 0;
  q.transit = transit;
  if (d < 0) d = -d;
  q.jitterQ4 += d - ((q.jitterQ4 + 8) >> 4);
  const j = q.jitterQ4 >> 4;
  if (j > q.maxJitter) q.maxJitter = j;
}

function resetBase(q: RtpQuality, seq: number): void {
  q.baseSeq = seq;
  q.maxSeq = seq;
  q.cycles = 0;
  q.receivedAtBase = q.received;
}

/** Arrival time in RTP timestamp units from integer microseconds (exact integer arithmetic below 2^53). */
export function arrivalUnits(micros: number, clockRate = ASSUMED_CLOCK_RATE): number {
  return Math.floor((micros * (clockRate / 1000)) / 1000);
}

export interface RtpQualitySummary {
  packets: number;
  /** Packets the sequence numbers say were sent since the base (RFC 3550 A.3). */
  expected: number;
  /** expected - received, floored at 0 (duplicates can make it negative). */
  lost: number;
  reordered: number;
  /** Interarrival jitter now, and the highest seen, in milliseconds (assumed clock rate). */
  jitterMs: number;
  maxJitterMs: number;
  ssrcChanges: number;
  restarts: number;
}

export function summarize(q: RtpQuality, clockRate = ASSUMED_CLOCK_RATE): RtpQualitySummary {
  const sinceBase = q.received - q.receivedAtBase;
  const expected = q.received === 0 ? 0 : q.cycles + q.maxSeq - q.baseSeq + 1;
  const lost = Math.max(0, expected - sinceBase);
  return {
    packets: q.received,
    expected,
    lost,
    reordered: q.reordered,
    jitterMs: Math.round(((q.jitterQ4 / 16) * 1_000_000) / clockRate) / 1000,
    maxJitterMs: Math.round((q.maxJitter * 1_000_000) / clockRate) / 1000,
    ssrcChanges: q.ssrcChanges,
    restarts: q.restarts,
  };
}
