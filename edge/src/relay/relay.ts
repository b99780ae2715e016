import type { RemoteInfo } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Logger } from '@parley/shared/log.js';
import type { TokenKeyring } from '@parley/shared/token/routing-token.js';
import DgramAsPromised, { type SocketAsPromised } from 'dgram-as-promised';
import { decideFirstPacket, normalizeIp, type RouteResolver } from './first-packet.js';
import { type Clock, type Flow, FlowTable, flowKey } from './flow-table.js';
import { NewFlowLimiter } from './new-flow-limiter.js';
import { RelayCounters } from './relay-counters.js';

export interface RelayOptions {
  /** Public address to bind (0.0.0.0, ::, or one IP). */
  host: string;
  /** The one public UDP port clients send everything to. */
  port: number;
  /** Local address for per-flow upstream sockets; its family is the family of reachable transceivers. */
  upstreamHost?: string;
  keyring: TokenKeyring;
  /** routeId -> transceiver; in production TransceiverTable.byRouteId. */
  resolveRoute: RouteResolver;
  /** Close a flow after this long without a packet either way. Consent checks (RFC 7675) come every ~5 s. */
  idleTimeoutMs?: number;
  maxFlows?: number;
  /** Wall-clock milliseconds: drives idle expiry and token expiry (unix seconds). */
  clock?: Clock;
  log: Logger;
  /** Token verifications per source IP per second; 0 disables. */
  newFlowsPerIpPerSecond?: number;
  /** SO_RCVBUF/SO_SNDBUF for the public socket; the kernel caps it at net.core.[rw]mem_max. */
  socketBufferBytes?: number;
  /** How often idle flows are swept; defaults to a quarter of the idle timeout, within 50 ms..5 s. */
  sweepIntervalMs?: number;
}

/**
 * Slow path for a reply whose source spells the target differently (IPv6
 * forms, e.g. the kernel's "::ffff:10.0.0.1" for "::ffff:a00:1"): compare
 * canonical forms once, then adopt the kernel's spelling so the fast string
 * compare matches from then on.
 */
function sameHost(flow: Flow<Upstream>, address: string): boolean {
  if (normalizeIp(address) !== normalizeIp(flow.targetHost)) return false;
  flow.targetHost = address;
  return true;
}

/**
 * Size of Linux's ephemeral port range, which bounds the flows one upstream
 * address can hold (one socket each); undefined where it cannot be read.
 */
export function ephemeralPortCount(): number | undefined {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    return lo !== undefined && hi !== undefined && hi >= lo ? hi - lo + 1 : undefined;
  } catch {
    return undefined;
  }
}

export interface Relay {
  address(): { address: string; port: number; family: string };
  readonly counters: RelayCounters;
  /** Open flows right now. */
  readonly flows: number;
  /** Closes idle flows now (the timer does this too); returns how many. */
  sweep(): number;
  close(): Promise<void>;
}

type Upstream = SocketAsPromised;

/**
 * One-port UDP relay in front of ice-lite transceivers, NAT style: each
 * client 5-tuple gets its own upstream socket, so the transceiver sees the
 * relay flow as a peer-reflexive candidate and needs no knowledge of the
 * relay. A flow is opened only by a Binding Request carrying a valid
 * routing token (first-packet.ts); after that every datagram is forwarded
 * without being looked at. There is no session state: after a restart the
 * client's next consent check rebuilds its flow.
 *
 * Hot path: one Map lookup, integer increments and the raw dgram socket's
 * callback send(), with one shared callback so no closure or promise is
 * allocated per packet. dgram-as-promised is used only for bind/close.
 */
export async function startRelay(opts: RelayOptions): Promise<Relay> {
  const clock = opts.clock ?? Date.now;
  const log = opts.log;
  const upstreamHost = opts.upstreamHost ?? '0.0.0.0';
  const upstreamFamily = isIP(upstreamHost) === 6 ? 6 : 4;
  const upstreamType = upstreamFamily === 6 ? 'udp6' : 'udp4';
  const idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
  const table = new FlowTable<Upstream>({ idleTimeoutMs, maxFlows: opts.maxFlows ?? 100_000, clock });
  const counters = new RelayCounters();
  const limiter = new NewFlowLimiter({ perSecond: opts.newFlowsPerIpPerSecond ?? 200, clock });
  const bufferBytes = opts.socketBufferBytes ?? 4 * 1024 * 1024;
  let closed = false;

  const pub = DgramAsPromised.createSocket({
    type: isIP(opts.host) === 6 ? 'udp6' : 'udp4',
    recvBufferSize: bufferBytes,
    sendBufferSize: bufferBytes,
  });
  const pubSocket = pub.socket;

  const onSendDone = (err: Error | null): void => {
    if (err) counters.sendErrors++;
  };

  const onSocketError = (where: string) => (err: Error) => {
    counters.socketErrors++;
    log.warn({ err: err.message, where }, 'relay socket error');
  };
  const onUpstreamError = onSocketError('upstream');

  const closeUpstream = (up: Upstream): Promise<void> => {
    up.socket.removeAllListeners('message');
    // Already closed (e.g. after a failed bind) is fine: we only want it gone.
    return up.close().catch(() => undefined);
  };

  const closeFlow = (flow: Flow<Upstream>): void => {
    if (!table.remove(flow)) return;
    counters.flowsClosed++;
    void closeUpstream(flow.upstream);
  };

  const onUpstreamPacket = (flow: Flow<Upstream>, msg: Buffer, rinfo: RemoteInfo): void => {
    // Only the transceiver the token named may speak through this flow.
    if (
      rinfo.port !== flow.targetPort ||
      (rinfo.address !== flow.targetHost && !sameHost(flow, rinfo.address))
    ) {
      counters.drop('upstream_foreign_source');
      return;
    }
    flow.lastSeen = clock();
    flow.packetsDown++;
    flow.bytesDown += msg.length;
    counters.packetsDown++;
    counters.bytesDown += msg.length;
    pubSocket.send(msg, flow.clientPort, flow.clientAddress, onSendDone);
  };

  const openFlow = (msg: Buffer, rinfo: RemoteInfo): Flow<Upstream> | undefined => {
    // Checked first: with the table full nothing can be opened, so skip parsing and the HMAC.
    if (table.isFull) {
      counters.drop('flow_table_full');
      return undefined;
    }
    const decision = decideFirstPacket(msg, {
      keyring: opts.keyring,
      nowMs: clock(),
      resolveRoute: opts.resolveRoute,
      family: upstreamFamily,
      admit: () => limiter.admit(rinfo.address),
    });
    if ('drop' in decision) {
      counters.drop(decision.drop);
      return undefined;
    }
    const { host, port } = decision.forward;
    const up = DgramAsPromised.createSocket(upstreamType);
    const flow = table.open({
      clientAddress: rinfo.address,
      clientPort: rinfo.port,
      targetHost: host,
      targetPort: port,
      upstream: up,
    });
    if (!flow) {
      // Unreachable (isFull was checked above), kept so a socket can never leak.
      counters.drop('flow_table_full');
      void closeUpstream(up);
      return undefined;
    }
    counters.flowsOpened++;
    up.socket.on('message', (m: Buffer, r: RemoteInfo) => onUpstreamPacket(flow, m, r));
    up.socket.on('error', onUpstreamError);
    // Sends issued before the bind completes are queued by node:dgram, so the
    // Binding Request that opened the flow goes out as soon as the port exists.
    up.bind(0, upstreamHost).catch(() => {
      // Already counted and logged by the socket's 'error' listener, which sees bind failures too.
      closeFlow(flow);
    });
    log.debug(
      { client: flow.key, target: `${host}:${port}`, routeId: decision.forward.routeId },
      'relay flow opened',
    );
    return flow;
  };

  const onClientPacket = (msg: Buffer, rinfo: RemoteInfo): void => {
    if (closed) return;
    let flow = table.get(flowKey(rinfo.address, rinfo.port));
    if (flow === undefined) {
      flow = openFlow(msg, rinfo);
      if (flow === undefined) return;
    }
    flow.lastSeen = clock();
    flow.packetsUp++;
    flow.bytesUp += msg.length;
    counters.packetsUp++;
    counters.bytesUp += msg.length;
    flow.upstream.socket.send(msg, flow.targetPort, flow.targetHost, onSendDone);
  };

  const sweep = (): number => {
    const expired = table.sweep(clock());
    for (const flow of expired) {
      counters.flowsClosed++;
      void closeUpstream(flow.upstream);
    }
    if (expired.length > 0) log.debug({ closed: expired.length, open: table.size }, 'relay flows expired');
    return expired.length;
  };

  pubSocket.on('message', onClientPacket);
  pubSocket.on('error', onSocketError('public'));
  try {
    await pub.bind(opts.port, opts.host);
  } catch (err) {
    await pub.close().catch(() => undefined);
    throw err;
  }

  const sweepEvery = opts.sweepIntervalMs ?? Math.min(5_000, Math.max(50, Math.floor(idleTimeoutMs / 4)));
  const timer = setInterval(sweep, sweepEvery);
  timer.unref();

  const ports = ephemeralPortCount();
  if (ports !== undefined && table.maxFlows > ports) {
    log.warn(
      { maxFlows: table.maxFlows, ephemeralPorts: ports },
      'maxFlows exceeds the ephemeral port range: each flow holds one upstream port, so binds will fail first',
    );
  }

  const bound = pub.address();
  log.info(
    { address: bound.address, port: bound.port, upstreamHost, idleTimeoutMs, maxFlows: table.maxFlows },
    'relay listening',
  );

  return {
    address: () => {
      const a = pub.address();
      return { address: a.address, port: a.port, family: a.family };
    },
    counters,
    get flows() {
      return table.size;
    },
    sweep,
    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      const flows = table.clear();
      counters.flowsClosed += flows.length;
      pubSocket.removeListener('message', onClientPacket);
      await Promise.all([...flows.map((f) => closeUpstream(f.upstream)), pub.close().catch(() => undefined)]);
      log.info({ flowsClosed: flows.length }, 'relay closed');
    },
  };
}
