/**
 * Inbound reordering and loss detection for one RTP stream, without I/O.
 *
 * The consumer is a voice model, not a loudspeaker, so there is no playout
 * clock to smooth: a packet that arrives in order is released at once (zero
 * added delay). A gap holds later packets for at most `maxWaitMs` waiting for
 * the missing one; then the gap is declared lost and the decoder conceals it
 * (or rebuilds it from the in-band FEC of the packet after it).
 */
export interface RtpIn {
  seq: number;
  timestamp: number;
  payload: Buffer;
  /** Local arrival time, ms. */
  arrivedAt: number;
}

export type JitterOutput =
  | { kind: 'packet'; packet: RtpIn }
  /** `next` is the packet right after the lost one when we hold it, for FEC. */
  | { kind: 'lost'; seq: number; next?: RtpIn };

export interface JitterStats {
  received: number;
  released: number;
  lost: number;
  late: number;
  duplicate: number;
  reordered: number;
  resets: number;
}

export interface JitterBufferOptions {
  /** Longest a later packet waits for a missing one. */
  maxWaitMs?: number;
  /** Most packets held while waiting; more forces the gap to be declared lost. */
  maxHeld?: number;
  /** A jump larger than this (either way) is a new stream, not loss. */
  resetGap?: number;
}

export class JitterBuffer {
  readonly stats: JitterStats = {
    received: 0,
    released: 0,
    lost: 0,
    late: 0,
    duplicate: 0,
    reordered: 0,
    resets: 0,
  };
  private readonly held = new Map<number, RtpIn>();
  /** Extended numbers declared lost lately (bounded), to tell late packets from duplicates. */
  private readonly recentlyLost = new Set<number>();
  /** Extended (unwrapped) sequence number we release next; undefined before the first packet. */
  private expected?: number;
  private readonly maxWaitMs: number;
  private readonly maxHeld: number;
  private readonly resetGap: number;

  constructor(opts: JitterBufferOptions = {}) {
    this.maxWaitMs = opts.maxWaitMs ?? 40;
    this.maxHeld = opts.maxHeld ?? 25;
    this.resetGap = opts.resetGap ?? 500;
  }

  /** Adds a packet; returns what can be released now, in order. */
  push(p: RtpIn): JitterOutput[] {
    this.stats.received++;
    if (this.expected === undefined) this.expected = p.seq;
    const ext = this.extend(p.seq);
    if (Math.abs(ext - this.expected) > this.resetGap) {
      // The sender restarted its sequence (or jumped): start over rather than declare hundreds lost.
      this.stats.resets++;
      const out = this.flush();
      this.expected = p.seq;
      return [...out, ...this.accept(p, p.seq)];
    }
    if (ext < this.expected) {
      // Behind the release point: either a gap we already gave up on, or a copy of a released packet.
      if (this.recentlyLost.has(ext)) this.stats.late++;
      else this.stats.duplicate++;
      return [];
    }
    if (this.held.has(ext)) {
      this.stats.duplicate++;
      return [];
    }
    return this.accept(p, ext);
  }

  /**
   * push() for the common case, without its records and arrays: when `seq`
   * is the packet due next and nothing is held, it is counted as received
   * and released and this returns true, and the caller handles the packet
   * at once. Otherwise nothing changes and this returns false: push() it.
   */
  takeInOrder(seq: number): boolean {
    if (this.held.size > 0) return false;
    const ext = this.expected === undefined ? seq : this.extend(seq);
    if (this.expected !== undefined && ext !== this.expected) return false;
    this.stats.received++;
    this.stats.released++;
    this.expected = ext + 1;
    return true;
  }

  /** Declares gaps lost once their wait is over; call at `nextDeadline()`. */
  poll(now: number): JitterOutput[] {
    const out: JitterOutput[] = [];
    while (this.held.size > 0 && (now >= this.deadline() || this.held.size > this.maxHeld)) {
      this.loseExpected(out);
      this.drain(out);
    }
    return out;
  }

  /** When the oldest held packet stops waiting; undefined when nothing waits. */
  nextDeadline(): number | undefined {
    return this.held.size > 0 ? this.deadline() : undefined;
  }

  /** Releases everything held, in order, declaring gaps lost (end of stream). */
  flush(): JitterOutput[] {
    const out: JitterOutput[] = [];
    while (this.held.size > 0) {
      this.loseExpected(out);
      this.drain(out);
    }
    return out;
  }

  private accept(p: RtpIn, ext: number): JitterOutput[] {
    if (ext === this.expected && this.held.size === 0) {
      // In order with nothing waiting (nearly every packet): released at once, no map round trip.
      this.expected = ext + 1;
      this.stats.released++;
      return [{ kind: 'packet', packet: p }];
    }
    // Filling a gap that later packets are waiting behind: it came out of order.
    if (ext === this.expected && this.held.size > 0) this.stats.reordered++;
    this.held.set(ext, p);
    const out: JitterOutput[] = [];
    this.drain(out);
    if (this.held.size > this.maxHeld) out.push(...this.poll(Number.NEGATIVE_INFINITY));
    return out;
  }

  private drain(out: JitterOutput[]): void {
    for (;;) {
      const next = this.held.get(this.expected as number);
      if (!next) return;
      this.held.delete(this.expected as number);
      this.expected = (this.expected as number) + 1;
      this.stats.released++;
      out.push({ kind: 'packet', packet: next });
    }
  }

  private loseExpected(out: JitterOutput[]): void {
    const seq = this.expected as number;
    this.stats.lost++;
    this.recentlyLost.add(seq);
    if (this.recentlyLost.size > 256)
      this.recentlyLost.delete(this.recentlyLost.values().next().value as number);
    out.push({ kind: 'lost', seq: seq & 0xffff, next: this.held.get(seq + 1) });
    this.expected = seq + 1;
  }

  private deadline(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const p of this.held.values()) oldest = Math.min(oldest, p.arrivedAt);
    return oldest + this.maxWaitMs;
  }

  /** Unwraps a 16-bit sequence number to the extended value nearest `expected`. */
  private extend(seq: number): number {
    const exp = this.expected as number;
    const diff = ((seq - exp + 0x8000) & 0xffff) - 0x8000;
    return exp + diff;
  }
}
