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
