import type { Clock } from '@parley/shared/time/clock.js';

/** The registry's time is a monotonic clock (monotonicClock in production), injected so expiry and loss test without waiting. */
export type { Clock };

/** Why the edge itself declared a session over: its transceiver (or its whole cluster) left discovery. */
export const TRANSCEIVER_LOST = 'transceiver_lost';
/** The session outlived its routing token's expiry without anyone telling this edge it ended. */
export const EXPIRED = 'expired';

/**
 * What clients get on the session's event stream: the same JSON shape as the
 * `session.ended` event on the transceiver's `events` data channel, `t` being
 * ms since this edge placed (or first saw) the session.
 */
export interface SessionEndedEvent {
  type: 'session.ended';
  reason: string;
  t: number;
}

export interface TrackSession {
  sessionId: string;
  transceiverId: string;
  cluster: string;
  /** When the session's routing token expires (clock ms): its longest possible life. */
  expiresAt: number;
}

export type SessionStatus =
  | { state: 'active'; cluster: string; transceiverId: string }
  | { state: 'ended'; cluster: string; transceiverId: string; ended: SessionEndedEvent };

export type EndedListener = (event: SessionEndedEvent) => void;

export interface SessionRegistryOptions {
  /** Sessions (active and recently ended) kept at most; beyond it new ones are not tracked. */
  maxSessions?: number;
  /** How long an ended session is remembered, so a client that reconnects its stream still hears why. */
  endedRetentionMs?: number;
  /** Listeners per session at most (each is an open HTTP stream). */
  maxWatchersPerSession?: number;
  /** Every end, once, with its reason (metrics). */
  onEnded?: (reason: string) => void;
}

interface Entry extends TrackSession {
  placedAt: number;
  ended?: SessionEndedEvent;
  endedAt?: number;
  watchers?: Set<EndedListener>;
}

export const DEFAULT_MAX_SESSIONS = 200_000;
export const DEFAULT_ENDED_RETENTION_MS = 120_000;
export const DEFAULT_MAX_WATCHERS = 4;

/**
 * Soft, bounded state of the sessions this edge placed: which transceiver and
 * cluster holds each, until when. Transceivers tell the session's end to the
 * client themselves (the `events` data channel), but when a transceiver dies
 * (or its whole region with its NATS nodes) nobody is left to say it; the edge
 * still sees discovery, so it declares those sessions `transceiver_lost` and
 * tells whoever watches. Entries go away when the transceiver announces the
 * end (revocation with `ended`), when the token expires, or after the ended
 * retention. Losing this state (edge restart) costs only the notification:
 * `adopt` rebuilds an entry from the transceiver on demand.
 *
 * Pure: no timers and no I/O; the shell calls `reconcile` and `prune`.
 */
export class SessionRegistry {
  private readonly active = new Map<string, Entry>();
  /** Ended entries in the order they ended, so the oldest go first. */
  private readonly endedEntries = new Map<string, Entry>();
  private readonly byTransceiver = new Map<string, Set<string>>();
  private readonly maxSessions: number;
  private readonly endedRetentionMs: number;
  private readonly maxWatchers: number;
  private readonly onEnded: ((reason: string) => void) | undefined;

  constructor(
    private readonly clock: Clock,
    opts: SessionRegistryOptions = {},
  ) {
    this.maxSessions = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.endedRetentionMs = opts.endedRetentionMs ?? DEFAULT_ENDED_RETENTION_MS;
    this.maxWatchers = opts.maxWatchersPerSession ?? DEFAULT_MAX_WATCHERS;
    this.onEnded = opts.onEnded;
  }

  /** Starts tracking a placed session; false when the registry is full of live sessions. */
  track(s: TrackSession): boolean {
    if (this.active.has(s.sessionId) || this.endedEntries.has(s.sessionId)) return true;
    if (this.size >= this.maxSessions) {
      // Remembered ends are worth less than live sessions: the oldest makes room.
      const oldest = this.endedEntries.keys().next();
      if (oldest.done) return false;
      this.endedEntries.delete(oldest.value);
    }
    const entry: Entry = { ...s, placedAt: this.clock() };
    this.active.set(s.sessionId, entry);
    let ids = this.byTransceiver.get(s.transceiverId);
    if (!ids) {
      ids = new Set();
      this.byTransceiver.set(s.transceiverId, ids);
    }
    ids.add(s.sessionId);
    return true;
  }

  status(sessionId: string): SessionStatus | undefined {
    const a = this.active.get(sessionId);
    if (a) return { state: 'active', cluster: a.cluster, transceiverId: a.transceiverId };
    const e = this.endedEntries.get(sessionId);
    if (e?.ended)
      return { state: 'ended', cluster: e.cluster, transceiverId: e.transceiverId, ended: e.ended };
    return undefined;
  }

  /**
   * The session ended (its transceiver said so, or it was deleted here).
   * Watchers hear it once; the end is remembered for the retention time.
   */
  end(sessionId: string, reason: string): SessionEndedEvent | undefined {
    const entry = this.active.get(sessionId);
    if (!entry) return undefined;
    this.active.delete(sessionId);
    const ids = this.byTransceiver.get(entry.transceiverId);
    ids?.delete(sessionId);
    if (ids?.size === 0) this.byTransceiver.delete(entry.transceiverId);
    const now = this.clock();
    const event: SessionEndedEvent = { type: 'session.ended', reason, t: Math.round(now - entry.placedAt) };
    entry.ended = event;
    entry.endedAt = now;
    this.endedEntries.set(sessionId, entry);
    this.onEnded?.(reason);
    const watchers = entry.watchers;
    entry.watchers = undefined;
    for (const w of watchers ?? []) w(event);
    return event;
  }

  /**
   * Compares the sessions with discovery: every session on a transceiver
   * that is no longer live ends as `transceiver_lost`. Call only while
   * discovery is trustworthy (this edge's NATS up for at least one
   * announcement TTL), or an edge cut off from NATS would end every session.
   */
  reconcile(liveTransceiverIds: ReadonlySet<string>): SessionEndedEvent[] {
    const out: SessionEndedEvent[] = [];
    for (const [transceiverId, ids] of [...this.byTransceiver]) {
      if (liveTransceiverIds.has(transceiverId)) continue;
      for (const id of [...ids]) {
        const e = this.end(id, TRANSCEIVER_LOST);
        if (e) out.push(e);
      }
    }
    return out;
  }

  /** Ends sessions past their token's expiry and forgets ends older than the retention. */
  prune(): void {
    const now = this.clock();
    for (const [id, entry] of [...this.active]) if (now >= entry.expiresAt) this.end(id, EXPIRED);
    for (const [id, entry] of this.endedEntries) {
      // Insertion order is end order: the first young entry means the rest are younger.
      if (now - (entry.endedAt ?? now) < this.endedRetentionMs) break;
      this.endedEntries.delete(id);
    }
  }

  /**
   * Calls `listener` once when the session ends. Returns the unsubscribe
   * function, `'ended'` when it already has (read `status`), `'unknown'`, or
   * `'busy'` when the session has too many watchers.
   */
  watch(sessionId: string, listener: EndedListener): (() => void) | 'ended' | 'unknown' | 'busy' {
    const entry = this.active.get(sessionId);
    if (!entry) return this.endedEntries.has(sessionId) ? 'ended' : 'unknown';
    entry.watchers ??= new Set();
    if (entry.watchers.size >= this.maxWatchers) return 'busy';
    entry.watchers.add(listener);
    return () => {
      entry.watchers?.delete(listener);
    };
  }

  /** Sessions tracked, active and remembered as ended. */
  get size(): number {
    return this.active.size + this.endedEntries.size;
  }

  get activeCount(): number {
    return this.active.size;
  }

  /** Open watchers over all sessions (for tests and metrics). */
  get watcherCount(): number {
    let n = 0;
    for (const e of this.active.values()) n += e.watchers?.size ?? 0;
    return n;
  }
}

/**
 * The expiry (unix seconds) in the routing token that an SDP answer's
 * `a=ice-ufrag` carries: bytes 14..17 of every token version (layout in
 * shared/src/token/routing-token.ts). Read without verifying: the answer
 * came from a transceiver over NATS, and the value only bounds how long
 * this edge remembers the session.
 */
export function tokenExpiryOfAnswer(answer: string): number | undefined {
  const m = /^a=ice-ufrag:([A-Za-z0-9+/]{38,63})\s*$/m.exec(answer);
  if (!m) return undefined;
  const bytes = Buffer.from(m[1] as string, 'base64');
  if (bytes.length < 18) return undefined;
  return bytes.readUInt32BE(14);
}
