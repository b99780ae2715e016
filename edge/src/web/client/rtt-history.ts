export interface RttPoint {
  /** Monotonic time of the reading, ms. */
  at: number;
  rttMs: number;
}

export const RTT_WINDOW_MS = 60_000;

/** Round-trip readings over a sliding window (the last minute by default). */
export class RttHistory {
  private readonly points: RttPoint[] = [];

  constructor(private readonly windowMs = RTT_WINDOW_MS) {}

  add(at: number, rttMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    this.points.push({ at, rttMs });
    this.trim(at);
  }

  /** Readings inside the window ending at `now`, oldest first. */
  window(now: number): RttPoint[] {
    this.trim(now);
    return [...this.points];
  }

  clear(): void {
    this.points.length = 0;
  }

  private trim(now: number): void {
    while (this.points.length > 0 && (this.points[0] as RttPoint).at < now - this.windowMs)
      this.points.shift();
  }
}

export interface Plot {
  /** SVG path data (`M x y L x y ...`), empty with no points. */
  path: string;
  /** The value at the top edge of the plot, ms: a round number above the largest reading. */
  maxMs: number;
}

/**
 * Lays readings out in a width x height box: time runs left to right over
 * the window ending at `now`, 0 ms at the bottom.
 */
export function plotRtt(
  points: readonly RttPoint[],
  now: number,
  size: { width: number; height: number },
  windowMs = RTT_WINDOW_MS,
): Plot {
  const largest = points.reduce((m, p) => Math.max(m, p.rttMs), 0);
  const maxMs = niceCeiling(largest);
  const x = (at: number) => round1(size.width - ((now - at) / windowMs) * size.width);
  const y = (ms: number) => round1(size.height - (Math.min(ms, maxMs) / maxMs) * size.height);
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${Math.max(0, x(p.at))} ${y(p.rttMs)}`).join(' ');
  return { path, maxMs };
}

/** 1, 2 or 5 times a power of ten, at least 5 ms, so the axis label reads well. */
export function niceCeiling(ms: number): number {
  const target = Number.isFinite(ms) ? Math.max(ms, 5) : 5;
  for (let step = 1; ; step *= 10) {
    for (const m of [1, 2, 5]) if (m * step >= target) return m * step;
  }
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
