/** The stages of call setup the page times, in the order they happen. */
export type Stage = 'signaling' | 'ice' | 'dtls' | 'audio';

export const STAGES: readonly { stage: Stage; label: string }[] = [
  { stage: 'signaling', label: 'Signaling' },
  { stage: 'ice', label: 'ICE connected' },
  { stage: 'dtls', label: 'DTLS connected' },
  { stage: 'audio', label: 'First audio' },
];

export interface WaterfallRow {
  stage: Stage;
  label: string;
  /** When the stage began (the previous stage's end), ms from the start of the call. */
  startMs?: number;
  /** When it was reached, ms from the start of the call. */
  endMs?: number;
}

/**
 * Setup timings of one call, each measured from the same start (just before
 * the offer is made, after the microphone is open), as `parley call` reports.
 */
export class Waterfall {
  private readonly reached = new Map<Stage, number>();

  /** `startedAt` is the clock's zero for `mark`; 0 when marks are already relative. */
  constructor(private readonly startedAt = 0) {}

  /** Records the first time a stage is reached; later repeats are ignored. */
  mark(stage: Stage, at: number): boolean {
    if (this.reached.has(stage)) return false;
    this.reached.set(stage, Math.max(0, at - this.startedAt));
    return true;
  }

  ms(stage: Stage): number | undefined {
    return this.reached.get(stage);
  }

  get complete(): boolean {
    return STAGES.every((s) => this.reached.has(s.stage));
  }

  rows(): WaterfallRow[] {
    let previous = 0;
    return STAGES.map(({ stage, label }) => {
      const endMs = this.reached.get(stage);
      if (endMs === undefined) return { stage, label };
      const row = { stage, label, startMs: Math.min(previous, endMs), endMs };
      previous = Math.max(previous, endMs);
      return row;
    });
  }
}

/** The waterfall's full width in ms: the slowest stage, at least half a second, so fast setups read as fast. */
export function waterfallScale(rows: readonly WaterfallRow[]): number {
  return Math.max(500, ...rows.map((r) => r.endMs ?? 0));
}

/**
 * Axis ticks for 0..scaleMs at a round step (1, 2 or 5 × 10^n ms) giving
 * at most `maxTicks` intervals; each tick's position is a fraction 0..1.
 */
export function axisTicks(scaleMs: number, maxTicks = 5): { ms: number; at: number }[] {
  if (!(scaleMs > 0)) return [{ ms: 0, at: 0 }];
  const rough = scaleMs / maxTicks;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) as number;
  const ticks: { ms: number; at: number }[] = [];
  for (let ms = 0; ms <= scaleMs + 1e-9; ms += step) ticks.push({ ms, at: ms / scaleMs });
  return ticks;
}
