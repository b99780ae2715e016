/** Injected so idle expiry is testable without waiting (the shared Clock, re-exported for the relay's modules). */
import type { Clock } from '@parley/shared/time/clock.js';
import { newRtpQuality, type RtpQuality } from './rtp-quality.js';

export type { Clock };

export interface FlowInit<U> {
  clientAddress: string;
  clientPort: number;
  /** The transceiver the routing token named; the only source accepted on `upstream`. */
  targetHost: string;
  targetPort: number;
  /** The server ufrag (routing token) of the Binding Request that opened the flow. */
  token: string;
  /** Route id + nonce of that token: one session (see tokenId()). */
  tokenId: string;
  /** Whatever the I/O layer forwards through (a UDP socket); opaque here. */
  upstream: U;
  /** How the client reached the relay: UDP datagrams, or an ICE-TCP connection (RFC 6544). */
  transport?: 'udp' | 'tcp';
  /**
   * The client's IPv4 address (host order) × 65536 + port, for the batched
   * I/O path, which looks flows up by number instead of building an
   * "ip:port" string per datagram. Omitted (-1) on the node:dgram path.
   */
  wireKey?: number;
}

export interface Flow<U> extends FlowInit<U> {
  readonly key: string;
  readonly wireKey: number;
  readonly openedAt: number;
  lastSeen: number;
  packetsUp: number;
  bytesUp: number;
  packetsDown: number;
  bytesDown: number;
  /** RTP quality per direction, from clear headers (allocated once per flow). */
  readonly qualityUp: RtpQuality;
  readonly qualityDown: RtpQuality;
}

/** Flows are keyed by the client's public ip:port as the relay sees it. */
export function flowKey(address: string, port: number, transport: 'udp' | 'tcp' = 'udp'): string {
  return transport === 'tcp' ? `tcp:${address}:${port}` : `${address}:${port}`;
}

export interface FlowTableOptions {
  idleTimeoutMs: number;
  maxFlows: number;
  clock: Clock;
  /**
   * Flows one session's token may hold. A client has a few candidates (and
   * a relay restart or ICE restart adds one); a replayed token from
   * thousands of addresses must not cost thousands of sockets. Default 8.
   */
  maxFlowsPerToken?: number;
  /** Flows one source IP may hold (CGNAT shares an address, so keep it generous). Default 512. */
  maxFlowsPerIp?: number;
}

export type OpenRefusal = 'flow_table_full' | 'token_flow_limit' | 'ip_flow_limit';

export type OpenResult<U> =
  | { ok: true; flow: Flow<U>; evicted?: Flow<U> }
  | { ok: false; reason: OpenRefusal };

/**
 * The relay's only state: client address -> upstream socket and target.
 * Pure (no timers, no sockets): sweep() hands back expired flows and the
 * I/O layer closes their sockets. Bounded as a whole, per token and per
 * source IP, because every flow costs a file descriptor and a port: a limit
 * refuses one flow, never the relay.
 */
export class FlowTable<U> {
  private readonly flows = new Map<string, Flow<U>>();
  /** The same UDP flows by wireKey (only those opened with one). */
  private readonly byWire = new Map<number, Flow<U>>();
  private readonly byToken = new Map<string, Set<Flow<U>>>();
  private readonly perIp = new Map<string, number>();
  /** Where the incremental sweep stopped; Map iterators survive deletes and see inserts. */
  private cursor: IterableIterator<Flow<U>> | undefined;
  readonly idleTimeoutMs: number;
  readonly maxFlows: number;
  readonly maxFlowsPerToken: number;
  readonly maxFlowsPerIp: number;
  private readonly clock: Clock;

  constructor(opts: FlowTableOptions) {
    if (!(opts.idleTimeoutMs > 0)) throw new Error('idleTimeoutMs must be positive');
    if (!(opts.maxFlows >= 1)) throw new Error('maxFlows must be at least 1');
    this.idleTimeoutMs = opts.idleTimeoutMs;
    this.maxFlows = opts.maxFlows;
    this.maxFlowsPerToken = opts.maxFlowsPerToken ?? 8;
    this.maxFlowsPerIp = opts.maxFlowsPerIp ?? 512;
    if (!(this.maxFlowsPerToken >= 1) || !(this.maxFlowsPerIp >= 1))
      throw new Error('per-token and per-IP flow limits must be at least 1');
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

  /** By the numeric key of FlowInit.wireKey (no string per lookup). */
  getWire(wireKey: number): Flow<U> | undefined {
    return this.byWire.get(wireKey);
  }

  /** Open flows of one session's token (empty when none). */
  forToken(tokenId: string): ReadonlySet<Flow<U>> {
    return this.byToken.get(tokenId) ?? EMPTY;
  }

  flowsFromIp(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }

  /**
   * Adds a flow. At a token's limit, a flow of that token the transceiver
   * never answered (a replay from a stranger's address, or a candidate the
   * client gave up on) makes room, oldest first, and is returned as
   * `evicted` for the caller to close; if every one was answered, the new
   * flow is refused. A key holds one flow at a time: remove the old one first.
   */
  open(init: FlowInit<U>): OpenResult<U> {
    const key = flowKey(init.clientAddress, init.clientPort, init.transport);
    if (this.flows.has(key)) throw new Error(`flow ${key} is already open`);
    if (this.isFull) return { ok: false, reason: 'flow_table_full' };
    if (this.flowsFromIp(init.clientAddress) >= this.maxFlowsPerIp)
      return { ok: false, reason: 'ip_flow_limit' };
    let evicted: Flow<U> | undefined;
    const siblings = this.byToken.get(init.tokenId);
    if (siblings && siblings.size >= this.maxFlowsPerToken) {
      for (const f of siblings) {
        if (f.packetsDown === 0 && (evicted === undefined || f.lastSeen < evicted.lastSeen)) evicted = f;
      }
      if (evicted === undefined) return { ok: false, reason: 'token_flow_limit' };
      this.remove(evicted);
    }
    const now = this.clock();
    // Spelled out rather than spread so every flow shares one hidden class.
    const flow: Flow<U> = {
      clientAddress: init.clientAddress,
      clientPort: init.clientPort,
      targetHost: init.targetHost,
      targetPort: init.targetPort,
      token: init.token,
      tokenId: init.tokenId,
      upstream: init.upstream,
      transport: init.transport ?? 'udp',
      key,
      wireKey: init.wireKey ?? -1,
      openedAt: now,
      lastSeen: now,
      packetsUp: 0,
      bytesUp: 0,
      packetsDown: 0,
      bytesDown: 0,
      qualityUp: newRtpQuality(),
      qualityDown: newRtpQuality(),
    };
    this.flows.set(key, flow);
    if (flow.wireKey >= 0) this.byWire.set(flow.wireKey, flow);
    let set = this.byToken.get(init.tokenId);
    if (!set) {
      set = new Set();
      this.byToken.set(init.tokenId, set);
    }
    set.add(flow);
    this.perIp.set(init.clientAddress, this.flowsFromIp(init.clientAddress) + 1);
    return evicted ? { ok: true, flow, evicted } : { ok: true, flow };
  }

  touch(flow: Flow<U>, now: number = this.clock()): void {
    flow.lastSeen = now;
  }

  /** Removes this very flow (not a newer one under the same key); false if it was already gone. */
  remove(flow: Flow<U>): boolean {
    if (this.flows.get(flow.key) !== flow) return false;
    this.flows.delete(flow.key);
    if (flow.wireKey >= 0) this.byWire.delete(flow.wireKey);
    const set = this.byToken.get(flow.tokenId);
    if (set) {
      set.delete(flow);
      if (set.size === 0) this.byToken.delete(flow.tokenId);
    }
    const n = this.flowsFromIp(flow.clientAddress) - 1;
    if (n > 0) this.perIp.set(flow.clientAddress, n);
    else this.perIp.delete(flow.clientAddress);
    return true;
  }

  /**
   * Removes and returns flows idle for idleTimeoutMs or longer, doing a
   * bounded amount of work: it looks at most `maxScan` flows, continuing
   * where the last call stopped, and returns at most `maxExpire`. Closing
   * sockets is what costs (10k at once stalled the relay ~200 ms), so the
   * caller closes a bounded batch and calls again on the next turn of the
   * event loop while `more` says there is work left.
   */
  sweep(
    now: number = this.clock(),
    maxExpire = Number.POSITIVE_INFINITY,
    maxScan = Number.POSITIVE_INFINITY,
  ): { expired: Flow<U>[]; more: boolean } {
    const expired: Flow<U>[] = [];
    let scanned = 0;
    if (this.cursor === undefined) this.cursor = this.flows.values();
    while (expired.length < maxExpire && scanned < maxScan) {
      const next = this.cursor.next();
      if (next.done) {
        this.cursor = undefined;
        return { expired, more: false };
      }
      scanned++;
      const flow = next.value;
      if (now - flow.lastSeen >= this.idleTimeoutMs) {
        this.remove(flow);
        expired.push(flow);
      }
    }
    return { expired, more: true };
  }

  /** Removes and returns every flow (relay shutdown). */
  clear(): Flow<U>[] {
    const all = [...this.flows.values()];
    this.flows.clear();
    this.byWire.clear();
    this.byToken.clear();
    this.perIp.clear();
    this.cursor = undefined;
    return all;
  }

  values(): IterableIterator<Flow<U>> {
    return this.flows.values();
  }
}

const EMPTY: ReadonlySet<never> = new Set();
