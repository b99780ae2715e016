/**
 * A clock and one-shot timers moved by hand, for tests of pure logic that
 * takes `now` and a scheduler (pacers, pipelines, outbound audio): `advance`
 * runs the due callbacks in time order, each seeing `now()` at its own due
 * time (plus `lateBy`, to play a timer that fires late, as a busy event loop
 * makes it), so a test can stall, catch up and count timers without real time.
 */
export interface ManualTime {
  now(): number;
  /** Runs `fn` at absolute time `at`; returns a cancel function. */
  schedule(at: number, fn: () => void): () => void;
  /** Runs `fn` `ms` from now; returns a cancel function. */
  setTimer(ms: number, fn: () => void): () => void;
  /** Moves time on by `ms`, running what falls due; each callback runs `lateBy` ms after its due time. */
  advance(ms: number, lateBy?: number): void;
  /** Timers not yet run or cancelled. */
  pending(): number;
  /** Timers ever set (schedule and setTimer), to show a hot path does not make one per packet. */
  readonly made: number;
}

export function manualTime(start = 0): ManualTime {
  let t = start;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 0;
  const schedule = (at: number, fn: () => void) => {
    const id = nextId++;
    timers.push({ at, fn, id });
    return () => {
      timers = timers.filter((x) => x.id !== id);
    };
  };
  return {
    now: () => t,
    schedule,
    setTimer: (ms, fn) => schedule(t + ms, fn),
    advance(ms, lateBy = 0) {
      const end = t + ms;
      for (;;) {
        // Stable for equal times: ids rise with creation, so ties run in the order they were set.
        timers.sort((a, b) => a.at - b.at || a.id - b.id);
        const next = timers[0];
        if (!next || next.at > end) break;
        timers.shift();
        t = Math.max(t, next.at + lateBy);
        next.fn();
      }
      t = Math.max(t, end);
    },
    pending: () => timers.length,
    get made() {
      return nextId;
    },
  };
}
