/**
 * Log-bucketed latency histogram: constant memory however many samples a
 * load run produces, with every percentile within ±0.5 % of the true value
 * (bucket width is 1 % of its lower edge). Values below `floor` share the
 * first bucket; above `ceiling` the last one, reported as the ceiling.
 */
export class LatencyHistogram {
  private readonly counts: Uint32Array;
  private readonly logBase: number;
  private readonly logFloor: number;
  private n = 0;
  private sum = 0;
  private minSeen = Number.POSITIVE_INFINITY;
  private maxSeen = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly floor = 0.001,
    private readonly ceiling = 600_000,
    growth = 1.01,
  ) {
    if (!(floor > 0 && ceiling > floor && growth > 1)) throw new Error('histogram needs 0 < floor < ceiling');
    this.logBase = Math.log(growth);
    this.logFloor = Math.log(floor);
    this.counts = new Uint32Array(Math.ceil((Math.log(ceiling) - this.logFloor) / this.logBase) + 2);
  }

  get count(): number {
    return this.n;
  }

  get mean(): number {
    return this.n === 0 ? Number.NaN : this.sum / this.n;
  }

  get min(): number {
    return this.n === 0 ? Number.NaN : this.minSeen;
  }

  get max(): number {
    return this.n === 0 ? Number.NaN : this.maxSeen;
  }

  record(value: number): void {
    if (!Number.isFinite(value)) return;
    const v = Math.max(0, value);
    const b = this.bucketOf(v);
    this.counts[b] = (this.counts[b] as number) + 1;
    this.n++;
    this.sum += v;
    if (v < this.minSeen) this.minSeen = v;
    if (v > this.maxSeen) this.maxSeen = v;
  }

  /** Adds another histogram's samples (same bounds) to this one. */
  merge(other: LatencyHistogram): void {
    if (other.counts.length !== this.counts.length || other.floor !== this.floor)
      throw new Error('histograms have different bounds');
    for (let i = 0; i < other.counts.length; i++)
      this.counts[i] = (this.counts[i] as number) + (other.counts[i] as number);
    this.n += other.n;
    this.sum += other.sum;
    this.minSeen = Math.min(this.minSeen, other.minSeen);
    this.maxSeen = Math.max(this.maxSeen, other.maxSeen);
  }

  /** Nearest-rank percentile (0..100); NaN when empty. Exact at p0 and p100. */
  percentile(p: number): number {
    if (this.n === 0) return Number.NaN;
    if (p <= 0) return this.minSeen;
    if (p >= 100) return this.maxSeen;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] as number;
      if (seen >= rank) return Math.min(this.maxSeen, Math.max(this.minSeen, this.valueOf(i)));
    }
    return this.maxSeen;
  }

  summary(): { p50: number; p95: number; p99: number } {
    return { p50: this.percentile(50), p95: this.percentile(95), p99: this.percentile(99) };
  }

  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.sum = 0;
    this.minSeen = Number.POSITIVE_INFINITY;
    this.maxSeen = Number.NEGATIVE_INFINITY;
  }

  private bucketOf(v: number): number {
    if (v <= this.floor) return 0;
    if (v >= this.ceiling) return this.counts.length - 1;
    return Math.min(this.counts.length - 1, 1 + Math.floor((Math.log(v) - this.logFloor) / this.logBase));
  }

  /** Midpoint (geometric) of a bucket: the error is at most half a bucket. */
  private valueOf(i: number): number {
    if (i === 0) return this.floor;
    if (i === this.counts.length - 1) return this.ceiling;
    return Math.exp(this.logFloor + (i - 0.5) * this.logBase);
  }
}
