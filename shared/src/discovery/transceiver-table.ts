import type { TransceiverAnnounce } from '../nats/schemas.js';

/** Injected so expiry is testable without waiting (the shared Clock, re-exported for existing importers). */
import type { Clock } from '../time/clock.js';

export type { Clock };

export interface TransceiverEntry {
  info: TransceiverAnnounce;
  /** Receiver's clock when the last announcement arrived. */
  seenAt: number;
}

/**
 * Soft table of live transceivers built from announcements. Entries vanish
 * `ttlMs` after their last announcement, so a dead transceiver is forgotten
 * without anyone telling us. Pure: no timers, no I/O.
 */
export class TransceiverTable {
  private readonly byId = new Map<string, TransceiverEntry>();
  private readonly idByRoute = new Map<string, string>();

  constructor(
    private readonly clock: Clock,
    readonly ttlMs = 3_500,
  ) {}

  upsert(info: TransceiverAnnounce): void {
    const previous = this.byId.get(info.id);
    if (previous && previous.info.routeId !== info.routeId) this.idByRoute.delete(previous.info.routeId);
    this.byId.set(info.id, { info, seenAt: this.clock() });
    this.idByRoute.set(info.routeId, info.id);
  }

  remove(id: string): void {
    const entry = this.byId.get(id);
    if (!entry) return;
    this.byId.delete(id);
    if (this.idByRoute.get(entry.info.routeId) === id) this.idByRoute.delete(entry.info.routeId);
  }

  get(id: string): TransceiverAnnounce | undefined {
    const entry = this.byId.get(id);
    if (!entry) return undefined;
    if (this.isStale(entry)) {
      this.remove(id);
      return undefined;
    }
    return entry.info;
  }

  /** Resolves the short route id that routing tokens carry. */
  byRouteId(routeId: string): TransceiverAnnounce | undefined {
    const id = this.idByRoute.get(routeId);
    return id === undefined ? undefined : this.get(id);
  }

  /** Live entries; drops stale ones as a side effect. */
  live(): TransceiverAnnounce[] {
    const out: TransceiverAnnounce[] = [];
    for (const [id, entry] of this.byId) {
      if (this.isStale(entry)) this.remove(id);
      else out.push(entry.info);
    }
    return out;
  }

  get size(): number {
    return this.live().length;
  }

  private isStale(entry: TransceiverEntry): boolean {
    return this.clock() - entry.seenAt > this.ttlMs;
  }
}
