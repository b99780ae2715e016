// How this `parley relay` process got its code, set by the entry that loaded
// it (relay-main.ts for the one-file bundle, relay-snapshot.ts for the V8
// startup snapshot; neither for the unbundled CLI), and read by the relay's
// start-up phases line, so a slow restart can be told from a fallback.

export type RelayLoadedFrom = 'modules' | 'bundle' | 'snapshot';

export const relayStartup: {
  loadedFrom: RelayLoadedFrom;
  /**
   * Ms between the first program image's start and this one's: main.js
   * execve()s into the snapshot (main.ts), and performance.now() restarts at
   * zero in the new image. Added to every phase so they count from the start.
   */
  execOffsetMs: number;
} = { loadedFrom: 'modules', execOffsetMs: 0 };

/** Ms since this relay process started, across an execve() (see execOffsetMs), at `at` (default: now). */
export function sinceStart(at: number = performance.now()): number {
  return at + relayStartup.execOffsetMs;
}

/** main.ts sets it to its performance.timeOrigin before execve() (see execOffsetMs). */
export const STARTED_AT_ENV = 'PARLEY_RELAY_STARTED_AT';
