import { backgroundTimers, type Clock, type Timers, wallClock } from '@parley/shared/time/clock.js';

/**
 * Where a region's relays share "client ip:port -> routing token", so a
 * restarted relay, or a sibling behind the same load balancer, can rebuild
 * a flow from the client's next SRTP packet instead of waiting for its next
 * consent check (1.6–3 s). Only the token is stored: it is signed and
 * carries the transceiver address (version 3), so the reader re-verifies it
 * exactly like one read from a Binding Request and needs nothing else.
 * A forged or stale entry therefore opens nothing.
 */
export interface FlowCacheStore {
  put(client: string, token: string): Promise<void>;
  /**
   * Re-puts an entry without waiting for the store's acknowledgement: the
   * refresh of a live flow, which happens for every flow every quarter of the
   * TTL. An acknowledged put costs the relay ~0.2 ms of JavaScript (a
   * request, its timer and reply); done for hundreds of flows at once it
   * stalled forwarding for tens of milliseconds (relay bench, CPU profile).
   * A lost touch is covered by the next one, a quarter of the TTL (plus at
   * most one housekeeping tick) later.
   * Throws (synchronously) when the store cannot take it now.
   */
  touch(client: string, token: string): void;
  delete(client: string): Promise<void>;
  /** The token stored for this client address, or undefined. */
  get(client: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** A store error (NATS down, timeout): retried by later refreshes, never blocks forwarding. */
export class FlowCacheError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FlowCacheError';
  }
}

/**
 * In-process store with the KV bucket's semantics (entries expire ttlMs after
 * their last put), on an injected clock: lets the relay's recovery logic be
 * tested without NATS. Also two relays in one test process can share one.
 */
/** The token stored for `client` if its entry is younger than ttlMs; an expired entry is removed. */
export function liveToken(
  entries: Map<string, { token: string; at: number }>,
  client: string,
  nowMs: number,
  ttlMs: number,
): string | undefined {
  const e = entries.get(client);
  if (e === undefined) return undefined;
  if (nowMs - e.at > ttlMs) {
    entries.delete(client);
    return undefined;
  }
  return e.token;
}

export class MemoryFlowCacheStore implements FlowCacheStore {
  readonly entries = new Map<string, { token: string; at: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly clock: Clock = wallClock,
  ) {}
  async put(client: string, token: string): Promise<void> {
    this.entries.set(client, { token, at: this.clock() });
  }
  touch(client: string, token: string): void {
    this.entries.set(client, { token, at: this.clock() });
  }
  async delete(client: string): Promise<void> {
    this.entries.delete(client);
  }
  async get(client: string): Promise<string | undefined> {
    return liveToken(this.entries, client, this.clock(), this.ttlMs);
  }
  async close(): Promise<void> {}
}

/** Rejects after ms: a KV that does not answer must not hold a pending slot forever. */
export function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  what: string,
  timers: Timers = backgroundTimers,
): Promise<T> {
  let timer: unknown;
  const timeout = new Promise<never>((_, reject) => {
    timer = timers.setTimeout(() => reject(new FlowCacheError(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => timers.clearTimeout(timer));
}

export interface FlowCacheCounters {
  /** Writes issued to the store (puts and deletes after coalescing). */
  writes: number;
  writeErrors: number;
  /** Live flows' entries refreshed (unacknowledged re-puts). */
  touches: number;
  /** Refreshes the store refused (NATS not connected); the next refresh retries. */
  touchErrors: number;
  /** Writes dropped because the queue was full (the store is slower than flows open). */
  writesDropped: number;
  /** Lookups issued to the store for an unknown client's non-STUN datagram. */
  lookups: number;
  hits: number;
  misses: number;
  lookupErrors: number;
  /** Datagrams from an address whose lookup was already in flight (dropped, no second lookup). */
  lookupPending: number;
  /** Datagrams from an address that missed recently (dropped, no lookup). */
  negativeHits: number;
  /** Datagrams dropped because too many lookups were in flight. */
  lookupOverflow: number;
  /** Datagrams dropped because this second's lookup budget was spent. */
  lookupRateLimited: number;
  /** A cached token that did not verify (forged, expired, revoked, unknown route). */
  rejected: number;
  /** Flows rebuilt from the cache. */
  recovered: number;
  /** A hit for a client whose flow a Binding Request (consent check) rebuilt while the lookup ran. */
  superseded: number;
}

export function newFlowCacheCounters(): FlowCacheCounters {
  return {
    writes: 0,
    writeErrors: 0,
    touches: 0,
    touchErrors: 0,
    writesDropped: 0,
    lookups: 0,
    hits: 0,
    misses: 0,
    lookupErrors: 0,
    lookupPending: 0,
    negativeHits: 0,
    lookupOverflow: 0,
    lookupRateLimited: 0,
    rejected: 0,
    recovered: 0,
    superseded: 0,
  };
}

export interface FlowCacheOptions {
  store: FlowCacheStore;
  clock?: Clock;
  /** For the store operations' timeouts (default backgroundTimers: unref'd). */
  timers?: Timers;
  /** Entries expire this long after their last put; live flows are refreshed after a quarter of it. */
  ttlMs: number;
  /** Most distinct queued writes (coalesced per client); beyond it new writes are dropped and counted. */
  maxQueuedWrites?: number;
  /** Writes in flight at once. */
  writeConcurrency?: number;
  /** Lookups in flight at once (one per address at most). */
  maxPendingLookups?: number;
  /** Lookups started per second at most: random spoofed sources cannot turn into KV load. */
  maxLookupsPerSecond?: number;
  /** How long a miss is remembered, so a flood of random sources costs one lookup per address per window. */
  negativeTtlMs?: number;
  /** Most remembered misses (oldest forgotten first). */
  maxNegative?: number;
  /** Per store call. */
  timeoutMs?: number;
  /** Live flows re-put per refresh() call at most (bounds the tick's work). */
  refreshBatch?: number;
  /**
   * Refreshes sent per event-loop turn at most: packets queued behind a
   * turn wait for all of it, so the re-puts of many flows are spread over
   * many turns (~10 µs each) instead of one long one.
   */
  touchesPerTurn?: number;
}

/**
 * The relay's side of the shared flow cache, off the per-packet path:
 * flow open/close enqueue one coalesced write per client (a later write for
 * the same client replaces a queued one), a bounded number are in flight,
 * and a store outage only costs counted errors. Lookups for unknown
 * sources are bounded the same way: one in flight per address, a bounded
 * number in all, and misses remembered for a short while.
 */
export class FlowCache {
  readonly counters = newFlowCacheCounters();
  private readonly store: FlowCacheStore;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly ttlMs: number;
  private readonly maxQueued: number;
  private readonly concurrency: number;
  private readonly maxPending: number;
  private readonly maxPerSecond: number;
  private windowStart = 0;
  private windowCount = 0;
  private readonly negativeTtlMs: number;
  private readonly maxNegative: number;
  private readonly timeoutMs: number;
  private readonly refreshBatch: number;
  private readonly touchesPerTurn: number;
  /** client -> token to refresh (unacknowledged), drained a few per event-loop turn. */
  private readonly touchQueue = new Map<string, string>();
  private touching = false;
  /** client -> token to put, or null to delete; Map order is FIFO. */
  private readonly queue = new Map<string, string | null>();
  private inFlight = 0;
  /** Live flows this relay put: client -> token and when it was last put. */
  private readonly live = new Map<string, { token: string; putAt: number }>();
  private readonly pending = new Set<string>();
  private readonly negative = new Map<string, number>();
  private closed = false;

  constructor(opts: FlowCacheOptions) {
    this.store = opts.store;
    this.clock = opts.clock ?? wallClock;
    this.timers = opts.timers ?? backgroundTimers;
    this.ttlMs = opts.ttlMs;
    this.maxQueued = opts.maxQueuedWrites ?? 10_000;
    this.concurrency = opts.writeConcurrency ?? 16;
    this.maxPending = opts.maxPendingLookups ?? 1_024;
    this.maxPerSecond = opts.maxLookupsPerSecond ?? 2_000;
    this.negativeTtlMs = opts.negativeTtlMs ?? 2_000;
    this.maxNegative = opts.maxNegative ?? 65_536;
    this.timeoutMs = opts.timeoutMs ?? 1_000;
    this.refreshBatch = opts.refreshBatch ?? 1_000;
    this.touchesPerTurn = opts.touchesPerTurn ?? 8;
  }

  /** A flow opened from a verified token. */
  flowOpened(client: string, token: string): void {
    this.touchQueue.delete(client);
    this.live.delete(client);
    this.live.set(client, { token, putAt: this.clock() });
    this.negative.delete(client);
    this.enqueue(client, token);
  }

  /** A flow ended for good (idle, revoked, evicted): its entry must not rebuild it elsewhere. */
  flowClosed(client: string): void {
    this.touchQueue.delete(client);
    this.live.delete(client);
    this.enqueue(client, null);
  }

  /**
   * Refreshes live flows whose entry is past a quarter of its TTL, oldest
   * first and at most refreshBatch per call, so long calls stay in the
   * cache; also forgets expired misses. Called from the relay's housekeeping
   * tick (at most 5 s apart: with the default 30 s TTL, after one lost touch
   * the next comes 15-25 s after the last put, before expiry). The touches
   * go out a few per event-loop turn (touchesPerTurn).
   */
  refresh(): void {
    const now = this.clock();
    let n = 0;
    for (const [client, e] of this.live) {
      if (now - e.putAt < this.ttlMs / 4 || n >= this.refreshBatch) break; // oldest put first
      this.live.delete(client);
      this.live.set(client, { token: e.token, putAt: now });
      // A write still queued for this client carries the token already.
      if (!this.queue.has(client)) this.touchQueue.set(client, e.token);
      n++;
    }
    if (this.touchQueue.size > 0 && !this.touching) {
      this.touching = true;
      setImmediate(this.touchSome);
    }
    for (const [client, at] of this.negative) {
      if (now - at < this.negativeTtlMs) break;
      this.negative.delete(client);
    }
  }

  private readonly touchSome = (): void => {
    let n = 0;
    for (const [client, token] of this.touchQueue) {
      if (n++ >= this.touchesPerTurn || this.closed) break;
      this.touchQueue.delete(client);
      try {
        this.store.touch(client, token);
        this.counters.touches++;
      } catch {
        this.counters.touchErrors++;
      }
    }
    if (this.touchQueue.size > 0 && !this.closed) setImmediate(this.touchSome);
    else this.touching = false;
  };

  /** Queued plus in-flight writes, refreshes included (for tests and metrics). */
  get backlog(): number {
    return this.queue.size + this.inFlight + this.touchQueue.size;
  }

  /**
   * A non-STUN datagram from a client with no flow: starts at most one
   * lookup for it; onFound gets the cached token (not yet verified). True
   * when a lookup started: the caller may keep that one datagram (a copy)
   * to forward if the flow is recovered; any other is dropped.
   */
  lookup(client: string, onFound: (token: string) => void): boolean {
    if (this.closed) return false;
    if (this.pending.has(client)) {
      this.counters.lookupPending++;
      return false;
    }
    const missedAt = this.negative.get(client);
    if (missedAt !== undefined) {
      if (this.clock() - missedAt < this.negativeTtlMs) {
        this.counters.negativeHits++;
        return false;
      }
      this.negative.delete(client);
    }
    if (this.pending.size >= this.maxPending) {
      this.counters.lookupOverflow++;
      return false;
    }
    const now = this.clock();
    if (now - this.windowStart >= 1_000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    if (this.windowCount >= this.maxPerSecond) {
      this.counters.lookupRateLimited++;
      return false;
    }
    this.windowCount++;
    this.pending.add(client);
    this.counters.lookups++;
    withTimeout(this.store.get(client), this.timeoutMs, 'flow cache get', this.timers).then(
      (token) => {
        this.pending.delete(client);
        if (this.closed) return;
        if (token === undefined) {
          this.counters.misses++;
          this.rememberMiss(client);
          return;
        }
        this.counters.hits++;
        onFound(token);
      },
      () => {
        // Not remembered as a miss: the store may be back for the next packet.
        this.pending.delete(client);
        this.counters.lookupErrors++;
      },
    );
    return true;
  }

  /** A cached token that did not verify: remembered like a miss so it is not looked up per packet. */
  rejected(client: string): void {
    this.counters.rejected++;
    this.rememberMiss(client);
  }

  private rememberMiss(client: string): void {
    if (this.negative.size >= this.maxNegative) {
      const oldest = this.negative.keys().next().value;
      if (oldest !== undefined) this.negative.delete(oldest);
    }
    this.negative.delete(client);
    this.negative.set(client, this.clock());
  }

  private enqueue(client: string, token: string | null): void {
    if (this.closed) return;
    if (!this.queue.has(client) && this.queue.size >= this.maxQueued) {
      this.counters.writesDropped++;
      return;
    }
    this.queue.set(client, token);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.queue.size > 0 && !this.closed) {
      const [client, token] = this.queue.entries().next().value as [string, string | null];
      this.queue.delete(client);
      this.inFlight++;
      this.counters.writes++;
      const op = token === null ? this.store.delete(client) : this.store.put(client, token);
      withTimeout(op, this.timeoutMs, 'flow cache write', this.timers)
        .catch(() => {
          this.counters.writeErrors++;
        })
        .finally(() => {
          this.inFlight--;
          // Later turn: a burst of completions must not recurse.
          setImmediate(() => this.pump());
        });
    }
  }

  /** Stops writing and looking up; entries stay in the store so a successor can recover the flows. */
  close(): void {
    this.closed = true;
    this.queue.clear();
    this.touchQueue.clear();
    this.pending.clear();
  }
}
