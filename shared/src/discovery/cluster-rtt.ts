import type { Clock } from './transceiver-table.js';

/**
 * Round-trip times from this process to each core cluster, as measured over
 * the NATS mesh. Keeps the last few samples per cluster and reports their
 * median, so one slow round trip (a GC pause, a busy transceiver) does not
 * reorder clusters; a cluster whose newest sample is older than `maxAgeMs`
 * has no measurement, and placement falls back to the configured RTT.
 * Pure: no timers, no I/O.
 */
export class ClusterRttTable {
  private readonly samples = new Map<string, { values: number[]; at: number }>();

  constructor(
    private readonly clock: Clock,
    readonly window = 5,
    readonly maxAgeMs = 10_000,
  ) {}

  record(cluster: string, rttMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    let s = this.samples.get(cluster);
    if (!s) {
      s = { values: [], at: 0 };
      this.samples.set(cluster, s);
    }
    s.values.push(rttMs);
    if (s.values.length > this.window) s.values.shift();
    s.at = this.clock();
  }

  /** Median of the recent samples, or undefined when there is no fresh one. */
  get(cluster: string): number | undefined {
    const s = this.samples.get(cluster);
    if (!s || s.values.length === 0 || this.clock() - s.at > this.maxAgeMs) return undefined;
    const sorted = [...s.values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  }

  /** Fresh measurements for every cluster that has one. */
  snapshot(): Map<string, number> {
    const out = new Map<string, number>();
    for (const cluster of this.samples.keys()) {
      const v = this.get(cluster);
      if (v !== undefined) out.set(cluster, v);
    }
    return out;
  }
}
