import type { Clock } from './flow-table.js';

export interface NewFlowLimiterOptions {
  /** Token verifications allowed per source IP per second; 0 turns the limit off. */
  perSecond: number;
  clock: Clock;
  /** Sources tracked per window; beyond it new sources pass unlimited rather than grow memory. */
  maxTrackedSources?: number;
}

/**
 * Caps how many first packets per source IP per second reach the HMAC, so
 * one host spraying forged Binding Requests cannot monopolise the relay's
 * CPU. Fixed one-second windows and a Map cleared at each window: O(1) per
 * attempt, bounded memory, and no timers. It is per IP, not per 5-tuple,
 * so keep the limit well above what one CGNAT address can legitimately
 * start (each ICE check from a new port counts once, until its flow opens).
 */
export class NewFlowLimiter {
  private readonly perSecond: number;
  private readonly clock: Clock;
  private readonly maxTracked: number;
  private windowStart = Number.NEGATIVE_INFINITY;
  private readonly counts = new Map<string, number>();

  constructor(opts: NewFlowLimiterOptions) {
    this.perSecond = opts.perSecond;
    this.clock = opts.clock;
    this.maxTracked = opts.maxTrackedSources ?? 50_000;
  }

  admit(ip: string): boolean {
    if (this.perSecond <= 0) return true;
    const now = this.clock();
    if (now - this.windowStart >= 1_000) {
      this.windowStart = now;
      this.counts.clear();
    }
    const n = this.counts.get(ip);
    if (n === undefined) {
      // Fail open when the window is saturated with sources: this limiter is for fairness, not a firewall.
      if (this.counts.size < this.maxTracked) this.counts.set(ip, 1);
      return true;
    }
    if (n >= this.perSecond) return false;
    this.counts.set(ip, n + 1);
    return true;
  }
}
