/**
 * What a receiver reports about one inbound RTP stream (RFC 3550 §6.4.1):
 * extended highest sequence number, cumulative and interval loss, and
 * interarrival jitter (Appendix A.8), in plain integers and doubles so the
 * per-packet update allocates nothing.
 */
export class ReceiveStats {
  ssrc = 0;
  received = 0;
  private baseSeq = -1;
  private maxSeq = 0;
  private cycles = 0;
  /** Jitter in timestamp units (RFC 3550 A.8 keeps it scaled by 16; we keep the plain value). */
  jitter = 0;
  private lastTransit = Number.NaN;
  private expectedPrior = 0;
  private receivedPrior = 0;

  constructor(private readonly clockRate: number) {}

  /** One authenticated packet; `arrivalMs` on any monotonic clock. */
  onPacket(ssrc: number, seq: number, timestamp: number, arrivalMs: number): void {
    if (this.baseSeq < 0 || ssrc !== this.ssrc) {
      this.ssrc = ssrc;
      this.baseSeq = seq;
      this.maxSeq = seq;
      this.cycles = 0;
      this.received = 0;
      this.expectedPrior = 0;
      this.receivedPrior = 0;
      this.lastTransit = Number.NaN;
    } else {
      const delta = (seq - this.maxSeq) & 0xffff;
      // Forward by less than half the space: in order or after a gap (a wrap adds a cycle).
      if (delta !== 0 && delta < 0x8000) {
        if (seq < this.maxSeq) this.cycles += 0x10000;
        this.maxSeq = seq;
      }
    }
    this.received++;
    const transit = (arrivalMs * this.clockRate) / 1000 - timestamp;
    if (!Number.isNaN(this.lastTransit)) {
      let d = transit - this.lastTransit;
      if (d < 0) d = -d;
      // RTP timestamps wrap at 2^32; a jump that large is a wrap, not jitter.
      if (d < 0x80000000) this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }

  get extendedHighestSeq(): number {
    return this.cycles + this.maxSeq;
  }

  get expected(): number {
    return this.baseSeq < 0 ? 0 : this.extendedHighestSeq - this.baseSeq + 1;
  }

  /** Cumulative loss, clamped to the 24-bit signed field RTCP carries. */
  get cumulativeLost(): number {
    return Math.max(-0x800000, Math.min(0x7fffff, this.expected - this.received));
  }

  /** Fraction lost since the last call, in 1/256 (RFC 3550 A.3); advances the interval. */
  takeFractionLost(): number {
    const expected = this.expected;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    if (expectedInterval <= 0 || lostInterval <= 0) return 0;
    return Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
  }

  get jitterMs(): number {
    return (this.jitter * 1000) / this.clockRate;
  }
}
