import { backgroundTimers, monotonicClock, type Timers } from '@parley/shared/time/clock.js';

/**
 * Admission control for session setups. A setup (offer accepted until DTLS
 * is up) costs the transceiver tens of milliseconds of CPU, most of it in
 * the DTLS handshake; when many start at once the event loop falls behind,
 * werift's DTLS retransmit timers (0.5 s, 1 s, 1.5 s …) fire, and the burst
 * ends with a tail of seconds. Letting only a few setups run at a time, with
 * the rest waiting their turn in a bounded queue, finishes the same burst
 * with a short tail; offers that cannot wait are refused at once so the edge
 * can answer 503 with Retry-After. Pure: timers and clock are injected.
 */
export interface SetupAdmissionOptions {
  /** Setups that may run at once; 0 turns admission control off. */
  maxConcurrent: number;
  /** Offers that may wait for a slot; more are refused at once. */
  maxQueue: number;
  /** Longest wait in the queue (keep it below the edge's offer timeout). */
  maxWaitMs: number;
  /** A slot is reclaimed after this long even if its session never connects (the client went away). */
  maxHoldMs: number;
  timers?: Timers;
  /** Monotonic ms. */
  now?: () => number;
}

export type { Timers };

export interface SetupTicket {
  /** Frees the slot; idempotent. Call when the session is connected or closed. */
  release(): void;
}

export type Admission =
  | { ok: true; ticket: SetupTicket; waitedMs: number }
  | { ok: false; reason: 'queue_full' | 'wait_timeout' | 'closed'; message: string };

export interface AdmissionStats {
  running: number;
  queued: number;
  admitted: number;
  /** Admitted after waiting in the queue. */
  waited: number;
  refusedQueueFull: number;
  refusedWaitTimeout: number;
  /** Slots reclaimed by maxHoldMs. */
  reclaimed: number;
}

interface Waiter {
  since: number;
  resolve: (a: Admission) => void;
  timer: unknown;
}

export class SetupAdmission {
  private running = 0;
  private readonly queue: Waiter[] = [];
  private readonly timers: Timers;
  private readonly now: () => number;
  private closed = false;
  private readonly counts = {
    admitted: 0,
    waited: 0,
    refusedQueueFull: 0,
    refusedWaitTimeout: 0,
    reclaimed: 0,
  };

  constructor(private readonly opts: SetupAdmissionOptions) {
    for (const [k, v] of Object.entries({
      maxConcurrent: opts.maxConcurrent,
      maxQueue: opts.maxQueue,
      maxWaitMs: opts.maxWaitMs,
      maxHoldMs: opts.maxHoldMs,
    })) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`${k} must be a whole number ≥ 0 (got ${v})`);
    }
    this.timers = opts.timers ?? backgroundTimers;
    this.now = opts.now ?? monotonicClock;
  }

  get enabled(): boolean {
    return this.opts.maxConcurrent > 0;
  }

  stats(): AdmissionStats {
    return { running: this.running, queued: this.queue.length, ...this.counts };
  }

  /** Resolves when the setup may start, or with why it may not. Never rejects. */
  acquire(): Promise<Admission> {
    if (this.closed)
      return Promise.resolve({ ok: false, reason: 'closed', message: 'transceiver is closing' });
    if (!this.enabled || this.running < this.opts.maxConcurrent) {
      return Promise.resolve({ ok: true, ticket: this.start(), waitedMs: 0 });
    }
    if (this.queue.length >= this.opts.maxQueue) {
      this.counts.refusedQueueFull++;
      return Promise.resolve({
        ok: false,
        reason: 'queue_full',
        message: `busy: ${this.running} setups running and ${this.queue.length} waiting`,
      });
    }
    return new Promise<Admission>((resolve) => {
      const waiter: Waiter = { since: this.now(), resolve, timer: undefined };
      waiter.timer = this.timers.setTimeout(() => {
        const i = this.queue.indexOf(waiter);
        if (i < 0) return;
        this.queue.splice(i, 1);
        this.counts.refusedWaitTimeout++;
        resolve({
          ok: false,
          reason: 'wait_timeout',
          message: `busy: no setup slot within ${this.opts.maxWaitMs} ms`,
        });
      }, this.opts.maxWaitMs);
      this.queue.push(waiter);
    });
  }

  /** Refuses everything waiting and everything after (shutdown). Running setups keep their slots. */
  close(): void {
    this.closed = true;
    for (const w of this.queue.splice(0)) {
      this.timers.clearTimeout(w.timer);
      w.resolve({ ok: false, reason: 'closed', message: 'transceiver is closing' });
    }
  }

  private start(): SetupTicket {
    this.running++;
    this.counts.admitted++;
    let released = false;
    const free = (): void => {
      if (released) return;
      released = true;
      this.timers.clearTimeout(hold);
      this.running--;
      this.next();
    };
    const hold =
      this.opts.maxHoldMs > 0 && this.enabled
        ? this.timers.setTimeout(() => {
            if (released) return;
            this.counts.reclaimed++;
            free();
          }, this.opts.maxHoldMs)
        : undefined;
    return { release: free };
  }

  /** Hands a freed slot to the longest waiter (FIFO: first come, first set up). */
  private next(): void {
    while (this.running < this.opts.maxConcurrent && this.queue.length > 0) {
      const w = this.queue.shift() as Waiter;
      this.timers.clearTimeout(w.timer);
      this.counts.waited++;
      w.resolve({ ok: true, ticket: this.start(), waitedMs: this.now() - w.since });
    }
  }
}
