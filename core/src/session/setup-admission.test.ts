import { describe, expect, it } from 'vitest';
import {
  type Admission,
  SetupAdmission,
  type SetupAdmissionOptions,
  type Timers,
} from './setup-admission.js';

/** A clock and timers the test moves by hand. */
class ManualTime implements Timers {
  now = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.pending.entries()]
        .filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = until;
  }

  get armed(): number {
    return this.pending.size;
  }
}

function admission(over: Partial<SetupAdmissionOptions> = {}) {
  const time = new ManualTime();
  const a = new SetupAdmission({
    maxConcurrent: 2,
    maxQueue: 2,
    maxWaitMs: 1_000,
    maxHoldMs: 5_000,
    timers: time,
    now: () => time.now,
    ...over,
  });
  return { a, time };
}

/** Settles a promise now, or says it is still pending. */
async function peek(p: Promise<Admission>): Promise<Admission | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);
}

describe('SetupAdmission', () => {
  it('admits up to maxConcurrent at once and queues the rest in arrival order', async () => {
    const { a, time } = admission();
    const first = await a.acquire();
    const second = await a.acquire();
    expect(first.ok && second.ok).toBe(true);
    const third = a.acquire();
    const fourth = a.acquire();
    expect(await peek(third)).toBe('pending');
    expect(a.stats()).toMatchObject({ running: 2, queued: 2 });

    time.advance(120);
    if (first.ok) first.ticket.release();
    const t3 = await third;
    expect(t3).toMatchObject({ ok: true, waitedMs: 120 });
    expect(await peek(fourth)).toBe('pending');
    if (second.ok) second.ticket.release();
    expect(await fourth).toMatchObject({ ok: true });
    expect(a.stats()).toMatchObject({ running: 2, queued: 0, admitted: 4, waited: 2 });
  });

  it('refuses at once when the queue is full, and after maxWaitMs in the queue', async () => {
    const { a, time } = admission({ maxConcurrent: 1, maxQueue: 1 });
    await a.acquire();
    const waiting = a.acquire();
    expect(await a.acquire()).toMatchObject({ ok: false, reason: 'queue_full' });
    time.advance(999);
    expect(await peek(waiting)).toBe('pending');
    time.advance(1);
    const timedOut = await waiting;
    expect(timedOut).toMatchObject({ ok: false, reason: 'wait_timeout' });
    expect(timedOut.ok ? '' : timedOut.message).toContain('1000 ms');
    expect(a.stats()).toMatchObject({ refusedQueueFull: 1, refusedWaitTimeout: 1, queued: 0, running: 1 });
  });

  it('releases are idempotent: a ticket frees one slot however often it is released', async () => {
    const { a } = admission({ maxConcurrent: 1 });
    const t = await a.acquire();
    const next = a.acquire();
    const after = a.acquire();
    if (!t.ok) throw new Error('expected a slot');
    t.ticket.release();
    t.ticket.release();
    expect(await next).toMatchObject({ ok: true });
    expect(await peek(after)).toBe('pending');
    expect(a.stats().running).toBe(1);
  });

  it('reclaims a slot held past maxHoldMs (a client that never connected)', async () => {
    const { a, time } = admission({ maxConcurrent: 1, maxHoldMs: 3_000, maxWaitMs: 10_000 });
    const held = await a.acquire();
    const waiting = a.acquire();
    time.advance(2_999);
    expect(await peek(waiting)).toBe('pending');
    time.advance(1);
    expect(await waiting).toMatchObject({ ok: true, waitedMs: 3_000 });
    expect(a.stats().reclaimed).toBe(1);
    // The late release of the reclaimed ticket must not free the new holder's slot.
    if (held.ok) held.ticket.release();
    expect(a.stats().running).toBe(1);
  });

  it('with maxConcurrent 0 admits everything and arms no timers', async () => {
    const { a, time } = admission({ maxConcurrent: 0 });
    const all = await Promise.all(Array.from({ length: 50 }, () => a.acquire()));
    expect(all.every((x) => x.ok)).toBe(true);
    expect(time.armed).toBe(0);
    expect(a.enabled).toBe(false);
  });

  it('refuses waiters and newcomers once closed', async () => {
    const { a } = admission({ maxConcurrent: 1 });
    await a.acquire();
    const waiting = a.acquire();
    a.close();
    expect(await waiting).toMatchObject({ ok: false, reason: 'closed' });
    expect(await a.acquire()).toMatchObject({ ok: false, reason: 'closed' });
  });

  it('rejects nonsense limits', () => {
    expect(() => admission({ maxQueue: -1 })).toThrow(/maxQueue/);
    expect(() => admission({ maxWaitMs: 1.5 })).toThrow(/maxWaitMs/);
  });
});
