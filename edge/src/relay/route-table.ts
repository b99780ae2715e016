import type { RouteTarget } from './first-packet.js';

export interface RouteAnnouncement extends RouteTarget {
  routeId: string;
}

interface Entry {
  target: RouteTarget;
  seenAt: number;
}

/**
 * The relay's view of live transceivers: route id -> address and ICE port,
 * from announcements. An entry is forgotten `ttlMs` after its last
 * announcement, both for lookups and for memory (prune() on the relay's
 * tick), so a transceiver that went away stops receiving flows and costs
 * nothing. Pure, on an injected clock.
 */
export class RouteTable {
  private readonly routes = new Map<string, Entry>();

  constructor(
    private readonly clock: () => number,
    readonly ttlMs = 3_500,
  ) {}

  upsert(a: RouteAnnouncement): void {
    // Deleted first so the Map's order stays oldest-seen first, which lets prune() stop early.
    this.routes.delete(a.routeId);
    this.routes.set(a.routeId, { target: { address: a.address, port: a.port }, seenAt: this.clock() });
  }

  resolve(routeId: string): RouteTarget | undefined {
    const e = this.routes.get(routeId);
    if (e === undefined) return undefined;
    if (this.clock() - e.seenAt > this.ttlMs) {
      this.routes.delete(routeId);
      return undefined;
    }
    return e.target;
  }

  /** Entries held, stale or not (what prune() frees). */
  get size(): number {
    return this.routes.size;
  }

  /** Forgets every stale entry; returns how many. */
  prune(): number {
    const now = this.clock();
    let n = 0;
    for (const [id, e] of this.routes) {
      if (now - e.seenAt <= this.ttlMs) break; // oldest first: the rest are fresher
      this.routes.delete(id);
      n++;
    }
    return n;
  }
}
