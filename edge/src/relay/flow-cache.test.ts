import { describe, expect, it } from 'vitest';
import { FlowCache, FlowCacheError, type FlowCacheStore, MemoryFlowCacheStore } from './flow-cache.js';

/** A store whose calls resolve only when the test says so, recording what was asked. */
class ManualStore implements FlowCacheStore {
  readonly calls: string[] = [];
  private readonly waiting: (() => void)[] = [];
  value: string | undefined;
  fail = false;
  private wait<T>(v: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.waiting.push(() => (this.fail ? reject(new FlowCacheError('down')) : resolve(v()))),
    );
  }
  put(c: string, t: string): Promise<void> {
    this.calls.push(`put ${c} ${t}`);
    return this.wait(() => undefined);
  }
  touch(c: string, t: string): void {
    if (this.fail) throw new FlowCacheError('down');
    this.calls.push(`touch ${c} ${t}`);
  }
  delete(c: string): Promise<void> {
    this.calls.push(`delete ${c}`);
    return this.wait(() => undefined);
  }
  get(c: string): Promise<string | undefined> {
    this.calls.push(`get ${c}`);
    return this.wait(() => this.value);
  }
  async close(): Promise<void> {}
  /** Settles everything asked so far, then lets the cache's follow-ups run. */
  async settle(): Promise<void> {
    for (const w of this.waiting.splice(0)) w();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  }
}

describe('FlowCache', () => {
  it('coalesces writes per client and keeps at most writeConcurrency in flight', async () => {
    const store = new ManualStore();
    const cache = new FlowCache({ store, ttlMs: 30_000, writeConcurrency: 1 });
    cache.flowOpened('1.2.3.4:5', 'tokA'); // goes out at once
    cache.flowOpened('1.2.3.4:6', 'tokB'); // queued
    cache.flowClosed('1.2.3.4:6'); // replaces the queued put
    cache.flowOpened('1.2.3.4:6', 'tokC'); // and again
    expect(store.calls).toEqual(['put 1.2.3.4:5 tokA']);
    expect(cache.backlog).toBe(2);
    await store.settle();
    expect(store.calls).toEqual(['put 1.2.3.4:5 tokA', 'put 1.2.3.4:6 tokC']);
    await store.settle();
    expect(cache.counters.writes).toBe(2);
    expect(cache.backlog).toBe(0);
  });

  it('drops and counts writes beyond the queue bound; a store outage is counted, not thrown', async () => {
    const store = new ManualStore();
    store.fail = true;
    const cache = new FlowCache({ store, ttlMs: 30_000, writeConcurrency: 1, maxQueuedWrites: 2 });
    for (let i = 0; i < 5; i++) cache.flowOpened(`10.0.0.1:${i}`, 't');
    // One in flight, two queued, two dropped.
    expect(cache.counters.writesDropped).toBe(2);
    await store.settle();
    await store.settle();
    await store.settle();
    expect(cache.counters.writeErrors).toBe(3);
  });

  it('looks up once per address while pending, remembers misses for negativeTtlMs, and bounds pending lookups', async () => {
    let now = 0;
    const store = new ManualStore();
    const cache = new FlowCache({
      store,
      ttlMs: 30_000,
      clock: () => now,
      maxPendingLookups: 2,
      negativeTtlMs: 1_000,
    });
    const found: string[] = [];
    cache.lookup('a:1', (t) => found.push(t));
    cache.lookup('a:1', (t) => found.push(t));
    cache.lookup('b:1', (t) => found.push(t));
    cache.lookup('c:1', (t) => found.push(t));
    expect(cache.counters).toMatchObject({ lookups: 2, lookupPending: 1, lookupOverflow: 1 });
    await store.settle(); // both miss
    expect(cache.counters.misses).toBe(2);
    cache.lookup('a:1', (t) => found.push(t));
    expect(cache.counters.negativeHits).toBe(1);
    now = 1_001;
    store.value = 'tok';
    cache.lookup('a:1', (t) => found.push(t));
    await store.settle();
    expect(found).toEqual(['tok']);
    expect(cache.counters).toMatchObject({ lookups: 3, hits: 1 });
  });

  it('starts at most maxLookupsPerSecond lookups per second', async () => {
    let now = 0;
    const store = new MemoryFlowCacheStore(30_000, () => now);
    const cache = new FlowCache({ store, ttlMs: 30_000, clock: () => now, maxLookupsPerSecond: 3 });
    for (let i = 0; i < 5; i++) cache.lookup(`10.0.0.${i}:1`, () => undefined);
    expect(cache.counters).toMatchObject({ lookups: 3, lookupRateLimited: 2 });
    now = 1_000;
    cache.lookup('10.0.0.9:1', () => undefined);
    expect(cache.counters.lookups).toBe(4);
  });

  it('does not remember a failed lookup as a miss (the store may be back for the next packet)', async () => {
    const store = new ManualStore();
    store.fail = true;
    const cache = new FlowCache({ store, ttlMs: 30_000 });
    cache.lookup('a:1', () => undefined);
    await store.settle();
    expect(cache.counters.lookupErrors).toBe(1);
    cache.lookup('a:1', () => undefined);
    expect(cache.counters.lookups).toBe(2);
  });

  it('bounds remembered misses, forgetting the oldest first', async () => {
    const store = new MemoryFlowCacheStore(30_000);
    const cache = new FlowCache({ store, ttlMs: 30_000, maxNegative: 2 });
    for (const c of ['a:1', 'b:1', 'c:1']) cache.lookup(c, () => undefined);
    await new Promise((r) => setImmediate(r));
    cache.lookup('a:1', () => undefined); // forgotten: looked up again
    cache.lookup('c:1', () => undefined); // remembered
    expect(cache.counters).toMatchObject({ lookups: 4, negativeHits: 1 });
  });

  it('refreshes live flows past a quarter of the TTL so long calls stay cached; closed ones are not refreshed', async () => {
    let now = 0;
    const store = new MemoryFlowCacheStore(8_000, () => now);
    const cache = new FlowCache({ store, ttlMs: 8_000, clock: () => now });
    cache.flowOpened('a:1', 'ta');
    cache.flowOpened('b:1', 'tb');
    await new Promise((r) => setImmediate(r));
    cache.flowClosed('b:1');
    await new Promise((r) => setImmediate(r));
    now = 1_900;
    cache.refresh();
    await new Promise((r) => setImmediate(r));
    expect(cache.counters).toMatchObject({ writes: 3, touches: 0 });
    now = 2_000;
    cache.refresh();
    await new Promise((r) => setImmediate(r));
    // A refresh is a touch (unacknowledged re-put), not an acknowledged write.
    expect(cache.counters).toMatchObject({ writes: 3, touches: 1 });
    now = 9_000; // past the first put's TTL, but refreshed at 2 s
    expect(await store.get('a:1')).toBe('ta');
    expect(await store.get('b:1')).toBeUndefined();
  });

  it('spreads refreshes over event-loop turns, a few per turn, and counts the ones the store refuses', async () => {
    let now = 0;
    const store = new ManualStore();
    const cache = new FlowCache({ store, ttlMs: 8_000, clock: () => now, touchesPerTurn: 3 });
    for (let i = 0; i < 7; i++) cache.flowOpened(`c:${i}`, `t${i}`);
    await store.settle();
    store.calls.length = 0;
    now = 2_000;
    cache.refresh();
    expect(store.calls).toEqual([]); // not in the housekeeping tick's own turn
    const perTurn: number[] = [];
    for (let turn = 0; turn < 5 && cache.backlog > 0; turn++) {
      const before = store.calls.length;
      await new Promise((r) => setImmediate(r));
      perTurn.push(store.calls.length - before);
    }
    expect(perTurn).toEqual([3, 3, 1]);
    expect(store.calls[0]).toBe('touch c:0 t0'); // oldest first
    expect(cache.counters.touches).toBe(7);
    store.fail = true;
    now = 4_000;
    cache.refresh();
    for (let turn = 0; turn < 5 && cache.backlog > 0; turn++) await new Promise((r) => setImmediate(r));
    expect(cache.counters).toMatchObject({ touches: 7, touchErrors: 7 });
  });

  it('does not touch a flow whose acknowledged write is still queued', async () => {
    let now = 0;
    const store = new ManualStore();
    const cache = new FlowCache({ store, ttlMs: 8_000, clock: () => now, writeConcurrency: 1 });
    cache.flowOpened('a:1', 'ta'); // in flight
    cache.flowOpened('b:1', 'tb'); // queued behind it
    now = 2_000;
    cache.refresh();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(store.calls).toEqual(['put a:1 ta', 'touch a:1 ta']);
  });
});
