import type { RemoteInfo } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import {
  ipv4ToU32,
  loadNativeUdp,
  type NativeUdpGroup,
  type NativeUdpSocket,
  type UdpBatch,
  type UdpGroupBatch,
  u32ToIpv4,
} from '@parley/native/udp';
import type { Logger } from '@parley/shared/log.js';
import { type TokenKeyring, tokenId, verifyToken } from '@parley/shared/token/routing-token.js';
import DgramAsPromised, { type SocketAsPromised } from 'dgram-as-promised';
import {
  bindingRequestToken,
  decideFirstPacket,
  decideToken,
  type FirstPacketDecision,
  type ForwardTarget,
  normalizeIp,
  type RouteResolver,
} from './first-packet.js';
import type { FlowCache } from './flow-cache.js';
import { recordFlowQuality } from './flow-quality-metrics.js';
import { type Clock, type Flow, FlowTable, flowKey } from './flow-table.js';
import {
  createForwardHistogram,
  FORWARD_SAMPLE_MASK,
  recordForwardSeconds,
} from './forward-latency-metrics.js';
import type { HandoverFlow } from './handover.js';
import { NewFlowLimiter } from './new-flow-limiter.js';
import { RelayCounters } from './relay-counters.js';
import { RevocationSet } from './revocation-set.js';
import { arrivalUnits, observeRtp, type RtpQualitySummary, summarize } from './rtp-quality.js';
import {
  newTcpCounters,
  type StreamConn,
  startTcpListener,
  type TcpCloseReason,
  type TcpCounters,
  type TcpListener,
  type TcpListenerOptions,
} from './tcp-listener.js';

export interface RelayOptions {
  /** Public address to bind (0.0.0.0, ::, or one IP). */
  host: string;
  /** The one public UDP port clients send everything to. */
  port: number;
  /** Local address for per-flow upstream sockets; its family is the family of reachable transceivers. */
  upstreamHost?: string;
  keyring: TokenKeyring;
  /** routeId -> transceiver; in production the relay's RouteTable fed by NATS announcements. */
  resolveRoute: RouteResolver;
  /**
   * Asked per new flow whose route discovery does not know: true forwards
   * to the address signed into a version 3 token (discovery is not live yet,
   * e.g. NATS is down). Default: never.
   */
  useSignedTarget?: () => boolean;
  /** Close a flow after this long without a packet either way. Consent checks (RFC 7675) come every ~5 s. */
  idleTimeoutMs?: number;
  maxFlows?: number;
  /** Flows one session's token may hold (a replayed token cannot cost more). Default 8. */
  maxFlowsPerToken?: number;
  /** Flows one source IP may hold. Default 512. */
  maxFlowsPerIp?: number;
  /** Wall-clock milliseconds: drives idle expiry and token expiry (unix seconds). */
  clock?: Clock;
  /** Monotonic integer microseconds for RTP jitter; default performance.now(). */
  micros?: () => number;
  log: Logger;
  /** Token verifications per source IP per second; 0 disables. */
  newFlowsPerIpPerSecond?: number;
  /** SO_RCVBUF/SO_SNDBUF for the public socket; the kernel caps it at net.core.[rw]mem_max. */
  socketBufferBytes?: number;
  /** How often idle flows are swept; defaults to a quarter of the idle timeout, within 50 ms..5 s. */
  sweepIntervalMs?: number;
  /**
   * Most flows closed per turn of the event loop. Closing a socket costs
   * tens of microseconds, so 10k idle flows closed at once stalled
   * forwarding for ~200 ms; in batches, packets are forwarded in between.
   */
  expireBatch?: number;
  /** Called with each flow's summary when it ends (after it is logged). */
  onFlowEnd?: (summary: FlowSummary) => void;
  /**
   * ICE-TCP passive (RFC 6544) on one TCP port: each connection's first
   * RFC 4571 frame must be a Binding Request with a valid token, exactly
   * as on UDP; its frames then go to the transceiver as UDP datagrams.
   */
  tcp?: TcpListenerOptions;
  /**
   * The region's shared flow cache (flow-cache.ts): UDP flows are written to
   * it once when opened, and a non-STUN datagram from an unknown client
   * looks it up, so a restarted or sibling relay rebuilds the flow from the
   * cached token (re-verified) at once. Absent: no sharing.
   */
  flowCache?: FlowCache;
  /** SO_REUSEPORT on the public UDP socket (Linux): a sibling process may share the port. */
  reusePort?: boolean;
  /**
   * UDP I/O: `native` reads the public socket with recvmmsg and writes it
   * with sendmmsg, and the per-flow upstream sockets share one receive slab
   * and one callback per event-loop turn (the @parley/native UDP addon);
   * `dgram` is node:dgram, one system call and one callback per datagram,
   * which works everywhere; `auto` (default) is native when the addon loads
   * and both addresses are IPv4.
   */
  io?: RelayIo;
}

export type RelayIo = 'auto' | 'native' | 'dgram';

/** PARLEY_RELAY_IO=native where the addon cannot serve (not built, not Linux, IPv6). */
export class RelayIoError extends Error {
  override readonly name = 'RelayIoError';
}

export interface FlowSummary {
  client: string;
  target: string;
  /** tokenId(): route id + nonce, the same for every flow of one session. */
  session: string;
  reason: FlowEndReason;
  durationMs: number;
  packets: { up: number; down: number };
  transport: 'udp' | 'tcp';
  /** Client -> relay leg (the user's network), from RTP headers. */
  rtpUp: RtpQualitySummary;
  /** Transceiver -> relay leg (our network). */
  rtpDown: RtpQualitySummary;
}

export type FlowEndReason =
  | 'idle'
  | 'revoked'
  | 'rerouted'
  | 'evicted'
  | 'bind_failed'
  | 'shutdown'
  | 'connection_closed';

/**
 * UDP sockets bound to host:port in this network namespace (/proc/net/udp):
 * the size of the port's SO_REUSEPORT group. IPv4 only (native I/O).
 */
export function udpSocketsOn(host: string, port: number, table?: string): number {
  let text = table;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/net/udp', 'utf8');
    } catch {
      return 1;
    }
  }
  const ip = ipv4ToU32(host);
  // /proc/net/udp spells the address as the in-memory (network order) u32 in hex, i.e. byte-swapped on little-endian.
  const b = Buffer.alloc(4);
  b.writeUInt32BE(ip >>> 0);
  const want = `${b.readUInt32LE().toString(16).toUpperCase().padStart(8, '0')}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const line of text.split('\n')) if (line.trim().split(/\s+/)[1] === want) n++;
  return n;
}

/** Datagrams per recvmmsg on the public socket and per delivery of the upstream group (bounds the send rows). */
const NATIVE_BATCH = 64;
/**
 * Largest datagram on native I/O, the same for the public socket and the
 * upstream group, so a reply the group delivered always fits the public
 * socket's send slots. Longer ones are dropped (datagram_too_large).
 */
const NATIVE_MAX_DATAGRAM = 2048;

/** Upstream sockets carry one flow's replies: small kernel buffers (fds × buffer is the memory bound). */
const UPSTREAM_BUFFERS = { recvBufferBytes: 0, sendBufferBytes: 0 };

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

/** The soft RLIMIT_NOFILE from /proc/self/limits text; undefined when unlimited or unreadable. */
export function openFileLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  return m && m[1] !== 'unlimited' ? Number(m[1]) : undefined;
}

/** File descriptors kept for everything that is not a flow (NATS, metrics, logs, the public socket). */
export const FD_RESERVE = 256;

export interface Relay {
  address(): { address: string; port: number; family: string };
  /** Which UDP I/O the relay runs on (RelayOptions.io resolved). */
  readonly io: 'native' | 'dgram';
  readonly counters: RelayCounters;
  /** Open flows right now. */
  readonly flows: number;
  /** The flow table's bound after the file-descriptor ceiling. */
  readonly maxFlows: number;
  /** Closes one batch of idle flows now (the timer does this too); returns how many. */
  sweep(): number;
  /** Runs the periodic housekeeping now: idle flows close in batches on later turns of the event loop. */
  tick(): void;
  /**
   * A session ended: its token opens nothing from now until it expires, and
   * its flows close now. Returns false for a token that does not verify.
   */
  revoke(token: string): boolean;
  readonly revocations: number;
  /** The ICE-TCP port, when enabled. */
  tcpAddress(): { address: string; port: number } | undefined;
  readonly tcpCounters: TcpCounters;
  /**
   * Native I/O with reusePort: the kernel hands every new datagram for the
   * port to this process's socket (a classic BPF program on the port's
   * SO_REUSEPORT group returning this socket's index). For planned restarts
   * (handover.ts). Returns the index steered to and the group's size then.
   */
  steerHere(): { index: number; members: number };
  /** Sockets in the public port's SO_REUSEPORT group now (this one included). */
  portMembers(): number;
  /** UDP flows now (client address, port, the token that opened each), for a successor. */
  exportFlows(): HandoverFlow[];
  /** Builds flows a predecessor handed over, each token verified as if from the wire; returns how many opened. */
  importFlows(flows: readonly HandoverFlow[]): number;
  /**
   * Resolves once no datagram has crossed the relay either way for quietMs,
   * or after maxMs: a relay that handed its port over forwards what is still
   * in flight first.
   */
  drain(opts: { quietMs: number; maxMs: number }): Promise<{ quiet: boolean }>;
  close(): Promise<void>;
}

/**
 * Per flow: the upstream UDP socket toward the transceiver, and for an
 * ICE-TCP flow the connection replies go back on (UDP flows reply from the
 * public socket).
 */
interface Upstream {
  /** node:dgram I/O: the flow's own socket. */
  udp: SocketAsPromised | undefined;
  /** Native I/O: the flow's member id in the upstream socket group; -1 for none. */
  member: number;
  /** Native I/O: the target's and the client's IPv4 address, host order (-1 when unknown). */
  targetIp4: number;
  clientIp4: number;
  stream: StreamConn | undefined;
}

/** Who sent a packet: a UDP source, or an ICE-TCP connection. */
type Source = { address: string; port: number; stream?: StreamConn; ip4?: number };

/**
 * One-port UDP relay in front of ice-lite transceivers, NAT style: each
 * client 5-tuple gets its own upstream socket, so the transceiver sees the
 * relay flow as a peer-reflexive candidate and needs no knowledge of the
 * relay. A flow is opened only by a Binding Request carrying a valid
 * routing token (first-packet.ts); after that every datagram is forwarded
 * without being looked at, except Binding Requests, whose token is compared
 * with the flow's: a new call from the same client port carries a new token
 * and moves the flow to its own transceiver. There is no session state:
 * after a restart the client's next consent check rebuilds its flow.
 *
 * Two UDP I/O paths (RelayOptions.io). Native (default where the addon
 * loads): the public socket is read with recvmmsg in batches and written
 * with sendmmsg; every flow's upstream socket is a member of one socket
 * group whose replies arrive in one callback per event-loop turn. The hot
 * path reads each datagram in place in the batch slab: one Map lookup by a
 * numeric key, integer increments, RTP header counters and one sendto, and
 * no string, Buffer or closure per datagram. node:dgram (portable): one
 * callback per datagram, a string key, and the raw socket's send() with one
 * shared callback; dgram-as-promised is used only for bind/close.
 */
export async function startRelay(opts: RelayOptions): Promise<Relay> {
  const clock = opts.clock ?? Date.now;
  const micros = opts.micros ?? (() => Math.round(performance.now() * 1000));
  const log = opts.log;
  const upstreamHost = opts.upstreamHost ?? '0.0.0.0';
  const upstreamFamily = isIP(upstreamHost) === 6 ? 6 : 4;
  const upstreamType = upstreamFamily === 6 ? 'udp6' : 'udp4';
  const idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
  // Every flow holds one socket: a table larger than the fd limit would hit
  // EMFILE, which fails the bind of whichever flow comes next, legitimate or not.
  const fdLimit = openFileLimit();
  const requestedMax = opts.maxFlows ?? 100_000;
  const maxFlows =
    fdLimit !== undefined ? Math.max(1, Math.min(requestedMax, fdLimit - FD_RESERVE)) : requestedMax;
  const table = new FlowTable<Upstream>({
    idleTimeoutMs,
    maxFlows,
    clock,
    maxFlowsPerToken: opts.maxFlowsPerToken,
    maxFlowsPerIp: opts.maxFlowsPerIp,
  });
  const counters = new RelayCounters();
  const limiter = new NewFlowLimiter({ perSecond: opts.newFlowsPerIpPerSecond ?? 200, clock });
  const revoked = new RevocationSet();
  const isRevoked = (id: string): boolean => revoked.has(id);
  const bufferBytes = opts.socketBufferBytes ?? 4 * 1024 * 1024;
  const expireBatch = opts.expireBatch ?? 256;
  let closed = false;

  // The addon is IPv4 only: an IPv6 public or upstream address keeps node:dgram.
  const ioWanted = opts.io ?? 'auto';
  const bothV4 = isIP(opts.host) === 4 && upstreamFamily === 4;
  const nativeUdp = ioWanted !== 'dgram' && bothV4 ? loadNativeUdp() : undefined;
  if (ioWanted === 'native' && nativeUdp === undefined)
    throw new RelayIoError(
      bothV4
        ? 'PARLEY_RELAY_IO=native, but the native UDP addon is not built or cannot load (npm run build:native -w @parley/native)'
        : 'PARLEY_RELAY_IO=native needs IPv4 public and upstream addresses',
    );
  const io: 'native' | 'dgram' = nativeUdp ? 'native' : 'dgram';

  let pub: SocketAsPromised | undefined;
  let pubNative: NativeUdpSocket | undefined;
  let group: NativeUdpGroup | undefined;
  /** Native I/O: one batch's sends, 5 (up) or 4 (down) Uint32 per datagram (see the addon's sendMany). */
  const upRows = new Uint32Array(NATIVE_BATCH * 5);
  const downRows = new Uint32Array(NATIVE_BATCH * 4);
  /** Native I/O: flow of each upstream group member id. */
  const byMember: (Flow<Upstream> | undefined)[] = [];

  const onSendDone = (err: Error | null): void => {
    if (err) counters.sendErrors++;
  };

  const onSocketError = (where: string) => (err: Error) => {
    counters.socketErrors++;
    log.warn({ err: err.message, where }, 'relay socket error');
  };
  const onPublicError = onSocketError('public');

  const closeUpstream = async (up: Upstream, closeStream = true): Promise<void> => {
    // An ICE-TCP flow's connection ends with its flow (not when the flow moves to a new token).
    if (closeStream && up.stream) up.stream.close('flow_closed');
    if (up.member >= 0) {
      byMember[up.member] = undefined;
      group?.closeMember(up.member);
      up.member = -1;
    }
    if (up.udp === undefined) return;
    up.udp.socket.removeAllListeners('message');
    // Already closed (e.g. after a failed bind) is fine: we only want it gone.
    await up.udp.close().catch(() => undefined);
  };

  /** The flow's per-session summary: its two legs' quality, for the operator and the histograms. */
  const endFlow = (flow: Flow<Upstream>, reason: FlowEndReason): void => {
    counters.flowsClosed++;
    uncache(flow, reason);
    void closeUpstream(flow.upstream, reason !== 'rerouted' && reason !== 'connection_closed');
    const summary: FlowSummary = {
      client: flow.key,
      target: `${flow.targetHost}:${flow.targetPort}`,
      session: flow.tokenId,
      reason,
      durationMs: clock() - flow.openedAt,
      packets: { up: flow.packetsUp, down: flow.packetsDown },
      transport: flow.transport ?? 'udp',
      rtpUp: summarize(flow.qualityUp),
      rtpDown: summarize(flow.qualityDown),
    };
    if (summary.rtpUp.packets > 0 || summary.rtpDown.packets > 0)
      recordFlowQuality(summary.rtpUp, summary.rtpDown);
    log.info(summary, 'relay flow ended');
    opts.onFlowEnd?.(summary);
  };

  const closeFlow = (flow: Flow<Upstream>, reason: FlowEndReason): void => {
    if (!table.remove(flow)) return;
    endFlow(flow, reason);
  };
  const flowCache = opts.flowCache;
  /** A UDP flow that ended for good leaves the cache; a rerouted one is overwritten by its successor. */
  const uncache = (flow: Flow<Upstream>, reason: FlowEndReason): void => {
    if (flowCache && flow.transport !== 'tcp' && reason !== 'rerouted') flowCache.flowClosed(flow.key);
  };

  /** Sampled datagrams (FORWARD_SAMPLE_MASK): the forwarding-latency histogram's counter. */
  let sampled = 0;
  createForwardHistogram();

  /** Counts a datagram going down a flow (transceiver -> client); the caller sends it. */
  const countDown = (flow: Flow<Upstream>, data: Uint8Array, off: number, len: number, now: number): void => {
    flow.lastSeen = now;
    flow.packetsDown++;
    flow.bytesDown += len;
    counters.packetsDown++;
    counters.bytesDown += len;
    if ((data[off] as number) >= 128) observeRtp(flow.qualityDown, data, arrivalUnits(micros()), off, len);
  };

  /** Counts a datagram going up a flow (client -> transceiver); the caller sends it. */
  const countUp = (flow: Flow<Upstream>, data: Uint8Array, off: number, len: number, now: number): void => {
    flow.lastSeen = now;
    flow.packetsUp++;
    flow.bytesUp += len;
    counters.packetsUp++;
    counters.bytesUp += len;
    if ((data[off] as number) >= 128) observeRtp(flow.qualityUp, data, arrivalUnits(micros()), off, len);
  };

  /** node:dgram I/O: one reply from a flow's own upstream socket. */
  const onUpstreamPacket = (flow: Flow<Upstream>, msg: Buffer, rinfo: RemoteInfo): void => {
    // Only the transceiver the token named may speak through this flow.
    if (
      rinfo.port !== flow.targetPort ||
      (rinfo.address !== flow.targetHost && !sameHost(flow, rinfo.address))
    ) {
      counters.drop('upstream_foreign_source');
      return;
    }
    const t0 = (++sampled & FORWARD_SAMPLE_MASK) === 0 ? performance.now() : -1;
    countDown(flow, msg, 0, msg.length, clock());
    const stream = flow.upstream.stream;
    if (stream !== undefined) stream.send(msg);
    else pub?.socket.send(msg, flow.clientPort, flow.clientAddress, onSendDone);
    if (t0 >= 0) recordForwardSeconds((performance.now() - t0) / 1000, 'down');
  };

  /**
   * Native I/O: the replies of every flow's upstream socket that arrived in
   * this turn of the event loop, in one call. UDP flows' replies are queued
   * on the public socket and flushed together at the end.
   */
  const onUpstreamBatch = (b: UdpGroupBatch): void => {
    if (closed) return;
    const { data, count, meta } = b;
    const now = clock();
    const t0 = performance.now();
    const out = pubNative as NativeUdpSocket;
    const rows = downRows;
    let n = 0;
    let samples = 0;
    for (let i = 0, m = 0; i < count; i++, m += 5) {
      const flow = byMember[meta[m + 4] as number];
      if (flow === undefined) continue; // closed while its datagram waited (id 0xffffffff)
      const up = flow.upstream;
      if (meta[m + 2] !== up.targetIp4 || meta[m + 3] !== flow.targetPort) {
        counters.drop('upstream_foreign_source');
        continue;
      }
      const off = meta[m] as number;
      const len = meta[m + 1] as number;
      countDown(flow, data, off, len, now);
      if ((++sampled & FORWARD_SAMPLE_MASK) === 0) samples++;
      // The slab is reused after this call: a stream queues its own copy.
      if (up.stream !== undefined) {
        up.stream.send(Buffer.from(data.subarray(off, off + len)));
        continue;
      }
      const r = n * 4;
      rows[r] = off;
      rows[r + 1] = len;
      rows[r + 2] = flow.clientPort;
      rows[r + 3] = up.clientIp4;
      n++;
    }
    // One call queues the batch; replies leave in this turn whatever order libuv runs the two sockets' checks in.
    if (n > 0) out.sendMany(data, rows, n);
    out.flush();
    for (; samples > 0; samples--) recordForwardSeconds((performance.now() - t0) / 1000, 'down');
  };

  const decide = (msg: Buffer, rinfo: Source): FirstPacketDecision =>
    decideFirstPacket(msg, {
      keyring: opts.keyring,
      nowMs: clock(),
      resolveRoute: opts.resolveRoute,
      family: upstreamFamily,
      admit: () => limiter.admit(rinfo.address),
      isRevoked,
      useSignedTarget: opts.useSignedTarget?.() ?? false,
    });

  const createFlow = (target: ForwardTarget, rinfo: Source): Flow<Upstream> | undefined => {
    const targetIp4 = group ? ipv4ToU32(target.host) : -1;
    if (group && targetIp4 < 0) {
      // Discovery and tokens give dotted quads for an IPv4 upstream; anything else cannot be sent to.
      counters.drop('route_bad_address');
      return undefined;
    }
    const clientIp4 = group && !rinfo.stream ? (rinfo.ip4 ?? ipv4ToU32(rinfo.address)) : -1;
    const udp = group ? undefined : DgramAsPromised.createSocket(upstreamType);
    const up: Upstream = { udp, member: -1, targetIp4, clientIp4, stream: rinfo.stream };
    const opened = table.open({
      clientAddress: rinfo.address,
      clientPort: rinfo.port,
      targetHost: target.host,
      targetPort: target.port,
      token: target.token,
      tokenId: target.tokenId,
      upstream: up,
      transport: rinfo.stream ? 'tcp' : 'udp',
      ...(clientIp4 >= 0 && { wireKey: clientIp4 * 65536 + rinfo.port }),
    });
    if (!opened.ok) {
      counters.drop(opened.reason);
      void closeUpstream(up, false);
      return undefined;
    }
    const flow = opened.flow;
    if (opened.evicted) {
      counters.flowsEvicted++;
      endFlow(opened.evicted, 'evicted');
    }
    counters.flowsOpened++;
    if (target.via === 'token') counters.flowsViaToken++;
    if (rinfo.stream) rinfo.stream.flow = flow;
    else flowCache?.flowOpened(flow.key, target.token);
    if (group) {
      try {
        up.member = group.open(upstreamHost, 0, UPSTREAM_BUFFERS).id;
      } catch (err) {
        // EMFILE, no free port: this flow only.
        counters.drop('upstream_bind_failed');
        log.warn({ err: (err as Error).message, client: flow.key }, 'relay upstream socket error');
        closeFlow(flow, 'bind_failed');
        return undefined;
      }
      byMember[up.member] = flow;
      log.debug(
        {
          client: flow.key,
          target: `${target.host}:${target.port}`,
          routeId: target.routeId,
          via: target.via,
        },
        'relay flow opened',
      );
      return flow;
    }
    if (udp === undefined) return undefined; // unreachable: no group means a dgram socket
    udp.socket.on('message', (m: Buffer, r: RemoteInfo) => onUpstreamPacket(flow, m, r));
    udp.socket.on('error', (err: Error) => {
      // A bind failure (EMFILE, no free port) costs this flow only.
      counters.drop('upstream_bind_failed');
      log.warn({ err: err.message, client: flow.key }, 'relay upstream socket error');
      closeFlow(flow, 'bind_failed');
    });
    // Sends issued before the bind completes are queued by node:dgram, so the
    // Binding Request that opened the flow goes out as soon as the port exists.
    udp.bind(0, upstreamHost).catch(() => closeFlow(flow, 'bind_failed'));
    log.debug(
      { client: flow.key, target: `${target.host}:${target.port}`, routeId: target.routeId, via: target.via },
      'relay flow opened',
    );
    return flow;
  };

  const openFlow = (msg: Buffer, rinfo: Source): Flow<Upstream> | undefined => {
    // Checked first: with the table full nothing can be opened, so skip parsing and the HMAC.
    if (table.isFull) {
      counters.drop('flow_table_full');
      return undefined;
    }
    const decision = decide(msg, rinfo);
    if ('drop' in decision) {
      counters.drop(decision.drop);
      return undefined;
    }
    return createFlow(decision.forward, rinfo);
  };

  /**
   * A Binding Request on a known flow that names another token: the client
   * started a new session from the same ip:port (or restarted ICE). If the
   * new token verifies, the old flow ends and a new one (new upstream port,
   * so the transceiver sees a fresh address) goes where the new token says.
   */
  const reroute = (old: Flow<Upstream>, msg: Buffer, rinfo: Source): Flow<Upstream> | undefined => {
    const decision = decide(msg, rinfo);
    if ('drop' in decision) {
      counters.drop('reroute_rejected');
      return undefined;
    }
    closeFlow(old, 'rerouted');
    counters.flowsRerouted++;
    return createFlow(decision.forward, rinfo);
  };

  /**
   * A token read back from the flow cache for a client with no flow: checked
   * like one from the wire (signature, expiry, revocation, route, rate limit)
   * before a flow is built; the transceiver then moves the session to the
   * new upstream port once the client's next SRTP packet authenticates.
   */
  const recoverFlow = (address: string, port: number, token: string, held: Buffer | undefined): void => {
    if (closed || flowCache === undefined) return;
    const key = flowKey(address, port);
    const existing = table.get(key);
    if (existing !== undefined) {
      // A consent check or a handover's flow table got there first: the held datagram goes up that flow.
      flowCache.counters.superseded++;
      if (held !== undefined) {
        countUp(existing, held, 0, held.length, clock());
        sendUp(existing, held);
      }
      return;
    }
    if (table.isFull) {
      counters.drop('flow_table_full');
      return;
    }
    const decision = decideToken(token, {
      keyring: opts.keyring,
      nowMs: clock(),
      resolveRoute: opts.resolveRoute,
      family: upstreamFamily,
      admit: () => limiter.admit(address),
      isRevoked,
      useSignedTarget: opts.useSignedTarget?.() ?? false,
    });
    if ('drop' in decision) {
      counters.drop(decision.drop);
      flowCache.rejected(key);
      log.debug({ client: key, reason: decision.drop }, 'relay flow cache entry rejected');
      return;
    }
    const flow = createFlow(decision.forward, { address, port });
    if (flow === undefined) {
      flowCache.rejected(key); // a flow limit (counted by createFlow): not worth a lookup per packet
      return;
    }
    flowCache.counters.recovered++;
    // The datagram that started the lookup goes up now rather than being lost: with one packet per
    // 20 ms that is up to 20 ms less gap, and the transceiver moves the session on it.
    if (held !== undefined) {
      countUp(flow, held, 0, held.length, clock());
      sendUp(flow, held);
    }
    // Once per flow: how an operator sees a restart or a load-balancer switch absorbed.
    log.info({ client: key, session: decision.forward.tokenId }, 'relay flow recovered from the flow cache');
  };

  /**
   * Slow path of a client datagram: no flow yet (only a Binding Request
   * with a valid token opens one), or a Binding Request on a flow, which
   * re-routes it when it names another token. The flow to forward on, or
   * undefined when the datagram is dropped.
   */
  const admitUp = (
    msg: Buffer,
    src: Source,
    flow: Flow<Upstream> | undefined,
  ): Flow<Upstream> | undefined => {
    if (flow === undefined) {
      const opened = openFlow(msg, src);
      if (opened === undefined) {
        // DTLS or SRTP/SRTCP (RFC 7983 first-byte ranges): a call this relay does not know, maybe one a
        // predecessor carried. Junk and STUN (already decided above) cost no lookup, nor does a full table.
        const b = msg[0] as number;
        if (flowCache !== undefined && ((b >= 20 && b <= 63) || (b >= 128 && b <= 191)) && !table.isFull) {
          const { address, port } = src;
          let held: Buffer | undefined;
          // A copy: a native batch's slab is reused once this call returns. Only one per lookup.
          if (flowCache.lookup(flowKey(address, port), (token) => recoverFlow(address, port, token, held)))
            held = Buffer.from(msg);
        }
      }
      return opened;
    }
    const token = bindingRequestToken(msg);
    return token !== undefined && token !== flow.token ? reroute(flow, msg, src) : flow;
  };

  /** node:dgram I/O: one client datagram. */
  const onClientPacket = (msg: Buffer, rinfo: RemoteInfo): void => {
    if (closed) return;
    const t0 = (++sampled & FORWARD_SAMPLE_MASK) === 0 ? performance.now() : -1;
    let flow = table.get(flowKey(rinfo.address, rinfo.port));
    if (flow === undefined || (msg[0] === 0 && msg[1] === 1)) {
      flow = admitUp(msg, rinfo, flow);
      if (flow === undefined) return;
    }
    countUp(flow, msg, 0, msg.length, clock());
    flow.upstream.udp?.socket.send(msg, flow.targetPort, flow.targetHost, onSendDone);
    if (t0 >= 0) recordForwardSeconds((performance.now() - t0) / 1000, 'up');
  };

  /**
   * Native I/O: one recvmmsg batch of client datagrams. The hot path reads
   * each datagram in place in the batch slab: a numeric flow key, integer
   * counters, and one sendto on the flow's upstream socket; no string, no
   * Buffer, no closure per datagram.
   */
  const onPublicBatch = (b: UdpBatch): void => {
    if (closed) return;
    const { data, count, meta } = b;
    const now = clock();
    const t0 = performance.now();
    const g = group as NativeUdpGroup;
    const rows = upRows;
    let n = 0;
    let samples = 0;
    for (let i = 0, m = 0; i < count; i++, m += 4) {
      const off = meta[m] as number;
      const len = meta[m + 1] as number;
      const ip4 = meta[m + 2] as number;
      const port = meta[m + 3] as number;
      let flow = table.getWire(ip4 * 65536 + port);
      if (flow === undefined || (data[off] === 0 && data[off + 1] === 1)) {
        // The slow path may close a flow and reuse its member id: send what is queued first.
        if (n > 0) g.sendMany(data, rows, n);
        n = 0;
        // A view, not a copy: the slow path only reads it before this call returns.
        flow = admitUp(data.subarray(off, off + len), { address: u32ToIpv4(ip4), port, ip4 }, flow);
        if (flow === undefined) continue;
      }
      countUp(flow, data, off, len, now);
      const up = flow.upstream;
      if (up.member < 0) continue;
      const r = n * 5;
      rows[r] = up.member;
      rows[r + 1] = off;
      rows[r + 2] = len;
      rows[r + 3] = flow.targetPort;
      rows[r + 4] = up.targetIp4;
      n++;
      if ((++sampled & FORWARD_SAMPLE_MASK) === 0) samples++;
    }
    // One call for the batch's sendto()s instead of one per datagram.
    if (n > 0) g.sendMany(data, rows, n);
    for (; samples > 0; samples--) recordForwardSeconds((performance.now() - t0) / 1000, 'up');
  };

  /** Sends one datagram up a flow, whichever I/O it runs on. */
  const sendUp = (flow: Flow<Upstream>, data: Buffer): void => {
    const up = flow.upstream;
    if (up.member >= 0) group?.send(up.member, data, 0, data.length, flow.targetPort, up.targetIp4);
    else up.udp?.socket.send(data, flow.targetPort, flow.targetHost, onSendDone);
  };

  const tcpCounters = newTcpCounters();
  /**
   * One RFC 4571 frame from an ICE-TCP connection: the same rules as a UDP
   * datagram (the first must be a Binding Request with a valid token, a new
   * token re-routes), then forwarded to the transceiver as one datagram.
   */
  const onStreamFrame = (conn: StreamConn, frame: Buffer): void => {
    if (closed) return;
    let flow = conn.flow as Flow<Upstream> | undefined;
    if (flow === undefined) {
      flow = openFlow(frame, { address: conn.address, port: conn.port, stream: conn });
      if (flow === undefined) {
        conn.close('first_frame_rejected');
        return;
      }
      conn.established();
    } else if (table.get(flow.key) !== flow) {
      conn.close('flow_closed');
      return;
    } else if (frame[0] === 0 && frame[1] === 1) {
      const token = bindingRequestToken(frame);
      if (token !== undefined && token !== flow.token) {
        const next = reroute(flow, frame, { address: conn.address, port: conn.port, stream: conn });
        if (next === undefined) return;
        flow = next;
      }
    }
    countUp(flow, frame, 0, frame.length, clock());
    sendUp(flow, frame);
  };
  const onStreamClosed = (conn: StreamConn, _reason: TcpCloseReason): void => {
    const flow = conn.flow as Flow<Upstream> | undefined;
    if (flow !== undefined) closeFlow(flow, 'connection_closed');
  };

  /** One bounded batch; returns how many flows it closed and whether more may be due. */
  const sweepBatch = (): { closed: number; more: boolean } => {
    const { expired, more } = table.sweep(clock(), expireBatch, expireBatch * 64);
    for (const flow of expired) endFlow(flow, 'idle');
    return { closed: expired.length, more };
  };

  let sweeping = false;
  /** Keeps sweeping in batches on later turns of the event loop, so I/O runs in between. */
  const sweepLoop = (): void => {
    if (closed) {
      sweeping = false;
      return;
    }
    const { closed: n, more } = sweepBatch();
    if (n > 0) log.debug({ closed: n, open: table.size }, 'relay flows expired');
    if (more) setImmediate(sweepLoop);
    else sweeping = false;
  };
  const tick = (): void => {
    // The addon counts refused sends itself; mirrored here for the metrics.
    if (pubNative && group) {
      counters.sendErrors = pubNative.stats.sendErrors + group.stats.sendErrors;
      counters.drops.datagram_too_large = pubNative.stats.truncated + group.stats.truncated;
    }
    revoked.prune(Math.floor(clock() / 1000), 10_000);
    flowCache?.refresh();
    if (sweeping) return;
    sweeping = true;
    sweepLoop();
  };

  const closePublic = async (): Promise<void> => {
    group?.close();
    pubNative?.close();
    if (pub) {
      pub.socket.removeListener('message', onClientPacket);
      await pub.close().catch(() => undefined);
    }
  };

  if (nativeUdp) {
    pubNative = new nativeUdp.NativeUdpSocket({
      address: opts.host,
      port: opts.port,
      batch: NATIVE_BATCH,
      maxDatagram: NATIVE_MAX_DATAGRAM,
      recvBufferBytes: bufferBytes,
      sendBufferBytes: bufferBytes,
      reusePort: opts.reusePort ?? false,
    });
    group = new nativeUdp.NativeUdpGroup({
      batch: NATIVE_BATCH,
      maxDatagram: NATIVE_MAX_DATAGRAM,
      maxMembers: maxFlows + 1,
    });
    group.onBatch = onUpstreamBatch;
    pubNative.onBatch = onPublicBatch;
  } else {
    pub = DgramAsPromised.createSocket({
      type: isIP(opts.host) === 6 ? 'udp6' : 'udp4',
      recvBufferSize: bufferBytes,
      sendBufferSize: bufferBytes,
      reusePort: opts.reusePort ?? false,
    });
    pub.socket.on('message', onClientPacket);
    pub.socket.on('error', onPublicError);
    try {
      await pub.bind(opts.port, opts.host);
    } catch (err) {
      await pub.close().catch(() => undefined);
      throw err;
    }
  }

  let tcp: TcpListener | undefined;
  if (opts.tcp) {
    try {
      tcp = await startTcpListener(
        { idleTimeoutMs, ...opts.tcp },
        tcpCounters,
        onStreamFrame,
        onStreamClosed,
      );
    } catch (err) {
      await closePublic();
      throw err;
    }
  }

  const sweepEvery = opts.sweepIntervalMs ?? Math.min(5_000, Math.max(50, Math.floor(idleTimeoutMs / 4)));
  const timer = setInterval(tick, sweepEvery);
  timer.unref();

  const ports = ephemeralPortCount();
  if (ports !== undefined && table.maxFlows > ports) {
    log.warn(
      { maxFlows: table.maxFlows, ephemeralPorts: ports },
      'maxFlows exceeds the ephemeral port range: each flow holds one upstream port, so binds will fail first',
    );
  }
  if (maxFlows < requestedMax) {
    log.warn(
      { requested: requestedMax, maxFlows, openFileLimit: fdLimit },
      'maxFlows lowered to the open-file limit: each flow holds one socket',
    );
  }

  const address = (): { address: string; port: number; family: string } => {
    if (pubNative) return { address: opts.host, port: pubNative.port, family: 'IPv4' };
    const a = (pub as SocketAsPromised).address();
    return { address: a.address, port: a.port, family: a.family };
  };
  const bound = address();
  log.info(
    { address: bound.address, port: bound.port, upstreamHost, idleTimeoutMs, maxFlows: table.maxFlows, io },
    'relay listening',
  );
  if (ioWanted === 'auto' && io === 'dgram' && bothV4)
    log.info(
      'relay UDP on node:dgram: the native UDP addon is not built (npm run build:native -w @parley/native)',
    );

  return {
    address,
    io,
    counters,
    get flows() {
      return table.size;
    },
    maxFlows: table.maxFlows,
    sweep: () => sweepBatch().closed,
    tick,
    revoke: (token: string) => {
      const nowSeconds = Math.floor(clock() / 1000);
      const v = verifyToken(opts.keyring, token, nowSeconds);
      if (!v.ok) return false;
      const id = tokenId(token);
      revoked.add(id, v.claims.expiresAt, nowSeconds);
      for (const flow of [...table.forToken(id)]) {
        counters.flowsRevoked++;
        closeFlow(flow, 'revoked');
      }
      return true;
    },
    get revocations() {
      return revoked.size;
    },
    tcpAddress: () => tcp?.address(),
    tcpCounters,
    steerHere: () => {
      if (!pubNative || !opts.reusePort)
        throw new RelayIoError('steering the port needs native I/O and reusePort (PARLEY_RELAY_IO=native)');
      // The newest member of the group is the last: right after a takeover that is this socket, and
      // index 0 once it is alone. The kernel moves the last member into a leaver's slot, so the index
      // is only right while no other socket leaves (relay-process re-steers once the predecessor's has).
      const members = udpSocketsOn(address().address, address().port);
      const index = Math.max(0, members - 1);
      pubNative.steer(index);
      return { index, members };
    },
    portMembers: () => udpSocketsOn(address().address, address().port),
    exportFlows: () => {
      const out: HandoverFlow[] = [];
      for (const f of table.values())
        if (f.transport !== 'tcp') out.push({ address: f.clientAddress, port: f.clientPort, token: f.token });
      return out;
    },
    importFlows: (flows) => {
      let opened = 0;
      for (const f of flows) {
        if (closed || table.isFull) break;
        if (table.get(flowKey(f.address, f.port)) !== undefined) continue;
        const decision = decideToken(f.token, {
          keyring: opts.keyring,
          nowMs: clock(),
          resolveRoute: opts.resolveRoute,
          family: upstreamFamily,
          // Not a stranger's flood: the predecessor's own table, already rate-limited when it was built.
          admit: () => true,
          isRevoked,
          useSignedTarget: opts.useSignedTarget?.() ?? false,
        });
        if ('drop' in decision) {
          counters.drop(decision.drop);
          continue;
        }
        if (createFlow(decision.forward, { address: f.address, port: f.port }) !== undefined) opened++;
      }
      log.info({ received: flows.length, opened }, 'relay handover: flows rebuilt from the predecessor');
      return opened;
    },
    drain: async ({ quietMs, maxMs }) => {
      const start = Date.now();
      let last = counters.packetsUp + counters.packetsDown;
      let lastChange = start;
      for (;;) {
        await new Promise((r) => setTimeout(r, Math.min(50, quietMs)));
        const now = Date.now();
        const seen = counters.packetsUp + counters.packetsDown;
        if (seen !== last) {
          last = seen;
          lastChange = now;
        }
        if (now - lastChange >= quietMs) return { quiet: true };
        if (now - start >= maxMs) return { quiet: false };
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      // Entries stay: a successor on this address recovers these flows from them.
      flowCache?.close();
      const flows = table.clear();
      counters.flowsClosed += flows.length;
      await Promise.all([...flows.map((f) => closeUpstream(f.upstream)), closePublic(), tcp?.close()]);
      log.info({ flowsClosed: flows.length }, 'relay closed');
    },
  };
}
