import { backgroundTimers } from '@parley/shared/time/clock.js';

export interface SessionTimerWheelOptions<T> {
  /** The clock deadlines are on (the same one the sessions' lifecycles use). */
  now: () => number;
  /** How often due items are looked for; an item fires up to this late. */
  tickMs: number;
  /** Called once per due item, which is unscheduled first (reschedule it from here if it lives on). */
  onDue: (item: T, now: number) => void;
  /** Repeating timer (setInterval semantics); the default is an unref'd setInterval. */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

// Session deadlines alone must not keep the process alive at shutdown: unref'd by default.
const defaultSetTimer = backgroundTimers.setInterval;
const defaultClearTimer = backgroundTimers.clearInterval;

/**
 * One timer for all the sessions of a transceiver, instead of an ICE
 * timeout, a consent interval and an expiry timeout per session: each
 * session is scheduled at its lifecycle's nextDeadline() and the wheel calls
 * onDue when that has passed. Thousands of sessions then cost one wakeup
 * per tick rather than thousands of timers to create, re-arm and clear.
 *
 * A tick scans every scheduled item (no bound on work per tick: a compare
 * per session per tick is cheap next to the media those sessions carry).
 * The timer runs only while something is scheduled, so an idle transceiver
 * does not wake up.
 */
export class SessionTimerWheel<T> {
  private readonly deadlines = new Map<T, number>();
  private readonly now: () => number;
  private readonly tickMs: number;
  private readonly onDue: (item: T, now: number) => void;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private timer: unknown;
  private running = false;
  private stopped = false;

  constructor(opts: SessionTimerWheelOptions<T>) {
    if (!(opts.tickMs > 0 && Number.isFinite(opts.tickMs))) {
      throw new RangeError(`tickMs must be a positive number (got ${opts.tickMs})`);
    }
    this.now = opts.now;
    this.tickMs = opts.tickMs;
    this.onDue = opts.onDue;
    this.setTimer = opts.setTimer ?? defaultSetTimer;
    this.clearTimer = opts.clearTimer ?? defaultClearTimer;
  }

  /** Items scheduled. */
  get size(): number {
    return this.deadlines.size;
  }

  /**
   * Schedules `item` at absolute time `at`, replacing its previous deadline.
   * `at` = Infinity (a closed lifecycle's nextDeadline) unschedules it.
   * Ignored after stop(), so a late input during shutdown cannot re-arm the timer.
   */
  schedule(item: T, at: number): void {
    if (Number.isNaN(at)) throw new RangeError('deadline is NaN');
    if (this.stopped) return;
    if (at === Number.POSITIVE_INFINITY) {
      this.cancel(item);
      return;
    }
    this.deadlines.set(item, at);
    this.arm();
  }

  /** Unschedules `item`; a no-op when it is not scheduled. */
  cancel(item: T): void {
    if (this.deadlines.delete(item) && this.deadlines.size === 0) this.disarm();
  }

  /** Drops every item and the timer for good (transceiver shutdown). */
  stop(): void {
    this.stopped = true;
    this.deadlines.clear();
    this.disarm();
  }

  /**
   * Fires every item due at the time read once at the start. Due items are
   * collected before any onDue runs, so a handler may schedule or cancel
   * freely: an item another handler cancelled or moved into the future is
   * skipped, and no item fires twice in one tick (one rescheduled at or
   * before `now` from its own onDue fires on the next tick, so a handler
   * cannot spin the loop). A throwing handler does not starve the
   * rest; the first error is rethrown after all of them ran.
   */
  private tick(): void {
    const now = this.now();
    const due: T[] = [];
    for (const [item, at] of this.deadlines) if (at <= now) due.push(item);
    let failure: { error: unknown } | undefined;
    for (const item of due) {
      const at = this.deadlines.get(item);
      if (at === undefined || at > now) continue;
      this.deadlines.delete(item);
      try {
        this.onDue(item, now);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (this.deadlines.size === 0) this.disarm();
    if (failure) throw failure.error;
  }

  private arm(): void {
    if (this.running) return;
    this.running = true;
    this.timer = this.setTimer(() => this.tick(), this.tickMs);
  }

  private disarm(): void {
    if (!this.running) return;
    this.running = false;
    this.clearTimer(this.timer);
    this.timer = undefined;
  }
}
