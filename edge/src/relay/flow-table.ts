/** Milliseconds; injected so idle expiry is testable without waiting. */
export type Clock = () => number;

export interface FlowInit<U> {
  clientAddress: string;
  clientPort: number;
  /** The transceiver the routing token named; the only source accepted on `upstream`. */
  targetHost: string;
  targetPort: number;
  /** Whatever the I/O layer forwards through (a UDP socket); opaque here. */
  upstream: U;
}

export interface Flow<U> extends FlowInit<U> {
  readonly key: string;
  readonly openedAt: number;
  lastSeen: number;
  packetsUp: number;
  bytesUp: number;
  packetsDown: number;
  bytesDown: number;
}

/** Flows are keyed by the client's public ip:port as the relay sees it. */
export function flowKey(address: string, port: number): string {
  return `${address}:${port}`;
}

export interface FlowTableOptions {
  idleTimeoutMs: number;
  maxFlows: number;
  clock: Clock;
}

/**
 * The relay's only state: client address -> upstream socket and target.
 * Pure (no timers, no sockets): sweep() hands back expired flows and the
 * I/O layer closes their sockets. Bounded, because every flow costs a file
 * descriptor and a port.
 */
export class FlowTable<U> {
  private readonly flows = new Map<string, Flow<U>>();
  readonly idleTimeoutMs: number;
  readonly maxFlows: number;
  private readonly clock: Clock;

  constructor(opts: FlowTableOptions) {
    if (!(opts.idleTimeoutMs > 0)) throw new Error('idleTimeoutMs must be positive');
    if (!(opts.maxFlows >= 1)) throw new Error('maxFlows must be at least 1');
    this.idleTimeoutMs = opts.idleTimeoutMs;
    this.maxFlows = opts.maxFlows;
    this.clock = opts.clock;
  }

  get size(): number {
    return this.flows.size;
  }

  get isFull(): boolean {
    return this.flows.size >= this.maxFlows;
  }

  get(key: string): Flow<U> | undefined {
    return this.flows.get(key);
  }

  /** Adds a flow; undefined when the table is full. A key may hold one flow at a time. */
  open(init: FlowInit<U>): Flow<U> | undefined {
    const key = flowKey(init.clientAddress, init.clientPort);
    if (this.flows.has(key)) throw new Error(`flow ${key} is already open`);
    if (this.isFull) return undefined;
    const now = this.clock();
    // Spelled out rather than spread so every flow shares one hidden class.
    const flow: Flow<U> = {
      clientAddress: init.clientAddress,
      clientPort: init.clientPort,
      targetHost: init.targetHost,
      targetPort: init.targetPort,
      upstream: init.upstream,
      key,
      openedAt: now,
      lastSeen: now,
      packetsUp: 0,
      bytesUp: 0,
      packetsDown: 0,
      bytesDown: 0,
    };
    this.flows.set(key, flow);
    return flow;
  }

  touch(flow: Flow<U>, now: number = this.clock()): void {
    flow.lastSeen = now;
  }

  /** Removes this very flow (not a newer one under the same key); false if it was already gone. */
  remove(flow: Flow<U>): boolean {
    if (this.flows.get(flow.key) !== flow) return false;
    this.flows.delete(flow.key);
    return true;
  }

  /**
   * Removes and returns flows idle for idleTimeoutMs or longer. A full scan:
   * 100k flows take about a millisecond, and it runs a few times a second at
   * most, which is cheaper than reordering an index on every packet.
   */
  sweep(now: number = this.clock()): Flow<U>[] {
    const expired: Flow<U>[] = [];
    for (const flow of this.flows.values()) {
      if (now - flow.lastSeen >= this.idleTimeoutMs) expired.push(flow);
    }
    for (const flow of expired) this.flows.delete(flow.key);
    return expired;
  }

  /** Removes and returns every flow (relay shutdown). */
  clear(): Flow<U>[] {
    const all = [...this.flows.values()];
    this.flows.clear();
    return all;
  }

  values(): IterableIterator<Flow<U>> {
    return this.flows.values();
  }
}
