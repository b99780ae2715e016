import { afterEach, describe, expect, it, vi } from 'vitest';
import { SessionLifecycle } from './session-lifecycle.js';
import { SessionTimerWheel } from './session-timer-wheel.js';

/** A clock and a repeating timer the test drives by hand. */
class FakeTime {
  now = 1_000;
  private seq = 0;
  readonly intervals = new Map<number, { fn: () => void; ms: number }>();
  armed = 0;
  cleared = 0;

  setTimer = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.intervals.set(id, { fn, ms });
    this.armed++;
    return id;
  };

  clearTimer = (handle: unknown): void => {
    if (this.intervals.delete(handle as number)) this.cleared++;
  };

  /** Moves the clock and runs one round of every live interval (the wheel only ever has one). */
  fire(advanceMs = 0): void {
    this.now += advanceMs;
    for (const { fn } of [...this.intervals.values()]) fn();
  }
}

function setup<T = string>(onDue: (item: T, now: number) => void = () => {}) {
  const time = new FakeTime();
  const due: [T, number][] = [];
  const wheel = new SessionTimerWheel<T>({
    now: () => time.now,
    tickMs: 250,
    onDue: (item, now) => {
      due.push([item, now]);
      onDue(item, now);
    },
    setTimer: time.setTimer,
    clearTimer: time.clearTimer,
  });
  return { time, due, wheel };
}

describe('SessionTimerWheel', () => {
  it('arms one timer at tickMs for any number of items, and none while empty', () => {
    const { time, wheel } = setup();
    expect(time.intervals.size).toBe(0);
    wheel.schedule('a', 2_000);
    wheel.schedule('b', 3_000);
    wheel.schedule('c', 4_000);
    expect(wheel.size).toBe(3);
    expect(time.armed).toBe(1);
    expect([...time.intervals.values()].map((t) => t.ms)).toEqual([250]);
  });

  it('fires items whose deadline passed, at their boundary, with the tick time', () => {
    const { time, due, wheel } = setup();
    wheel.schedule('early', 1_500);
    wheel.schedule('exact', 2_000);
    wheel.schedule('late', 2_001);
    time.fire(999); // now = 1_999
    expect(due).toEqual([['early', 1_999]]);
    time.fire(1); // now = 2_000
    expect(due).toEqual([
      ['early', 1_999],
      ['exact', 2_000],
    ]);
    expect(wheel.size).toBe(1);
    time.fire(1);
    expect(due.map(([item]) => item)).toEqual(['early', 'exact', 'late']);
    expect(wheel.size).toBe(0);
  });

  it('fires an item once: it is unscheduled before onDue', () => {
    const { time, due, wheel } = setup();
    wheel.schedule('a', 1_000);
    time.fire();
    time.fire(1_000);
    expect(due).toHaveLength(1);
  });

  it('schedule replaces the previous deadline', () => {
    const { time, due, wheel } = setup();
    wheel.schedule('a', 1_100);
    wheel.schedule('a', 5_000);
    expect(wheel.size).toBe(1);
    time.fire(1_000);
    expect(due).toEqual([]);
    wheel.schedule('a', 1_500);
    time.fire();
    expect(due).toEqual([['a', 2_000]]);
  });

  it('cancel unschedules; cancelling the last item disarms; unknown items are a no-op', () => {
    const { time, due, wheel } = setup();
    wheel.schedule('a', 1_100);
    wheel.schedule('b', 1_100);
    wheel.cancel('a');
    wheel.cancel('nope');
    expect(time.intervals.size).toBe(1);
    wheel.cancel('b');
    expect(wheel.size).toBe(0);
    expect(time.intervals.size).toBe(0);
    expect(time.cleared).toBe(1);
    time.fire(1_000);
    expect(due).toEqual([]);
  });

  it('disarms once everything fired and re-arms on the next schedule', () => {
    const { time, wheel } = setup();
    wheel.schedule('a', 1_000);
    time.fire();
    expect(time.intervals.size).toBe(0);
    wheel.schedule('b', 9_000);
    expect(time.intervals.size).toBe(1);
    expect(time.armed).toBe(2);
  });

  it('Infinity (a closed lifecycle) unschedules; NaN is refused', () => {
    const { time, wheel } = setup();
    wheel.schedule('a', 2_000);
    wheel.schedule('a', Number.POSITIVE_INFINITY);
    expect(wheel.size).toBe(0);
    expect(time.intervals.size).toBe(0);
    wheel.schedule('b', Number.POSITIVE_INFINITY);
    expect(time.armed).toBe(1);
    expect(() => wheel.schedule('c', Number.NaN)).toThrow(RangeError);
  });

  it('an item rescheduled at or before now from its own onDue fires on the next tick, not in a loop', () => {
    let calls = 0;
    const { time, due, wheel } = setup<string>((item, now) => {
      if (++calls < 5) wheel.schedule(item, now);
    });
    wheel.schedule('a', 1_000);
    time.fire();
    expect(due).toHaveLength(1);
    expect(wheel.size).toBe(1);
    time.fire(250);
    expect(due).toHaveLength(2);
  });

  it('a handler may cancel or postpone another due item, which then does not fire', () => {
    const { time, due, wheel } = setup<string>((item) => {
      if (item === 'a') {
        wheel.cancel('b');
        wheel.schedule('c', 10_000);
      }
    });
    wheel.schedule('a', 1_000);
    wheel.schedule('b', 1_000);
    wheel.schedule('c', 1_000);
    wheel.schedule('d', 1_000);
    time.fire();
    expect(due.map(([item]) => item)).toEqual(['a', 'd']);
    expect(wheel.size).toBe(1);
  });

  it('a throwing handler does not starve the others; the first error surfaces after the tick', () => {
    const { time, due, wheel } = setup<string>((item) => {
      if (item !== 'c') throw new Error(`boom ${item}`);
    });
    wheel.schedule('a', 1_000);
    wheel.schedule('b', 1_000);
    wheel.schedule('c', 1_000);
    expect(() => time.fire()).toThrow('boom a');
    expect(due.map(([item]) => item)).toEqual(['a', 'b', 'c']);
    expect(wheel.size).toBe(0);
    expect(time.intervals.size).toBe(0);
  });

  it('stop drops everything and the timer for good', () => {
    const { time, due, wheel } = setup();
    wheel.schedule('a', 1_100);
    wheel.stop();
    expect(wheel.size).toBe(0);
    expect(time.intervals.size).toBe(0);
    wheel.schedule('b', 1_100);
    expect(wheel.size).toBe(0);
    expect(time.armed).toBe(1);
    time.fire(1_000);
    expect(due).toEqual([]);
    wheel.stop();
  });

  it('refuses a tickMs that is not a positive number', () => {
    for (const tickMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new SessionTimerWheel({ now: () => 0, tickMs, onDue: () => {} })).toThrow(RangeError);
    }
  });

  describe('default timer', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('is an unref’d setInterval at tickMs, cleared on stop', () => {
      const setSpy = vi.spyOn(globalThis, 'setInterval');
      const clearSpy = vi.spyOn(globalThis, 'clearInterval');
      const wheel = new SessionTimerWheel<string>({ now: () => 0, tickMs: 60_000, onDue: () => {} });
      wheel.schedule('a', 1);
      expect(setSpy).toHaveBeenCalledTimes(1);
      expect(setSpy.mock.calls[0]?.[1]).toBe(60_000);
      const handle = setSpy.mock.results[0]?.value as NodeJS.Timeout;
      expect(handle.hasRef()).toBe(false);
      wheel.stop();
      expect(clearSpy).toHaveBeenCalledWith(handle);
    });
  });

  it('drives many session lifecycles from one timer', () => {
    // The owner's pattern: schedule at nextDeadline(), tick when due, reschedule if still open.
    const time = new FakeTime();
    const closed: [string, string | undefined][] = [];
    const sessions = new Map<string, SessionLifecycle>();
    const wheel: SessionTimerWheel<string> = new SessionTimerWheel<string>({
      now: () => time.now,
      tickMs: 250,
      setTimer: time.setTimer,
      clearTimer: time.clearTimer,
      onDue: (id, now) => {
        const lc = sessions.get(id);
        if (!lc) return;
        const reason = lc.tick(now);
        if (reason) closed.push([id, reason]);
        else wheel.schedule(id, lc.nextDeadline());
      },
    });
    const open = (id: string) => {
      const lc = new SessionLifecycle({
        now: time.now,
        iceTimeoutMs: 10_000,
        consentTimeoutMs: 30_000,
        maxSessionMs: 3_600_000,
        mediaKeepsConsent: false,
      });
      sessions.set(id, lc);
      wheel.schedule(id, lc.nextDeadline());
      return lc;
    };
    const silent = open('never-connects');
    const chatty = open('keeps-consent');
    const quiet = open('goes-quiet');
    for (const lc of [chatty, quiet]) {
      lc.verifiedCheck(time.now + 10, { useCandidate: true, fromNewAddress: false });
      lc.dtlsConnected(time.now + 20);
    }
    expect(time.intervals.size).toBe(1);

    for (let t = 0; t < 60_000; t += 250) {
      time.fire(250);
      if (t % 5_000 === 0) chatty.verifiedCheck(time.now, { useCandidate: false, fromNewAddress: false });
    }
    expect(closed).toEqual([
      ['never-connects', 'ice_timeout'],
      ['goes-quiet', 'consent_lost'],
    ]);
    expect(silent.state).toBe('closed');
    expect(quiet.state).toBe('closed');
    expect(chatty.state).toBe('connected');
    expect(wheel.size).toBe(1);
    expect(time.armed).toBe(1);
  });
});
