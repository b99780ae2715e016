/**
 * Time, one way everywhere. Pure logic (token codec, STUN, flow and route
 * tables, placement, session lifecycle, admission, limiters, turn-taking)
 * never reads the global clock or schedules on Node's timers itself: it
 * takes a Clock, and Timers when it has to wake up, so a test moves time by
 * hand and a deadline means the same in a test as in production. Only the
 * I/O shells (sockets, NATS, HTTP, process start-up) name the real ones,
 * and they pass them in. clock-discipline.test.ts keeps the pure modules
 * honest.
 */

/** Milliseconds; which epoch depends on the clock passed (wallClock or monotonicClock). */
export type Clock = () => number;

/**
 * Unix epoch milliseconds: for instants that leave the process or come from
 * another one (token expiry, announcements' sentAt, log timestamps). Jumps
 * when the system clock is set.
 */
export const wallClock: Clock = () => Date.now();

/**
 * Milliseconds since this process started, never going back: for durations,
 * deadlines and time-to-live that stay inside the process.
 */
export const monotonicClock: Clock = () => performance.now();

/** One-shot timers as pure logic sees them: whatever handle the implementation returns. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Repeating timers (setInterval semantics). */
export interface Intervals {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** Node's timers, as they are: a pending one keeps the process alive. */
export const systemTimers: Timers & Intervals = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/**
 * Node's timers, unref'd: for housekeeping (deadlines, sweeps) that alone
 * must not keep a process alive at shutdown.
 */
export const backgroundTimers: Timers & Intervals = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};
