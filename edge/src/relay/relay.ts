import type { RemoteInfo } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
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
  close(): Promise<void>;
}

/**
 * Per flow: the upstream UDP socket toward the transceiver, and for an
 * ICE-TCP flow the connection replies go back on (UDP flows reply from the
 * public socket).
 */
interface Upstream {
  udp: SocketAsPromised;
  stream: StreamConn | undefined;
}

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
 * Hot path: one Map lookup, integer increments, RTP header counters, and
 * the raw dgram socket's callback send(), with one shared callback so no
 * closure or promise is allocated per packet. dgram-as-promised is used
 * only for bind/close.
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

  const pub = DgramAsPromised.createSocket({
    type: isIP(opts.host) === 6 ? 'udp6' : 'udp4',
    recvBufferSize: bufferBytes,
    sendBufferSize: bufferBytes,
    reusePort: opts.reusePort ?? false,
  });
  const pubSocket = pub.socket;

  const onSendDone = (err: Error | null): void => {
    if (err) counters.sendErrors++;
  };

  const onSocketError = (where: string) => (err: Error) => {
    counters.socketErrors++;
    log.warn({ err: err.message, where }, 'relay socket error');
  };
  const onPublicError = onSocketError('public');

  const closeUpstream = (up: Upstream, closeStream = true): Promise<void> => {
    up.udp.socket.removeAllListeners('message');
    // An ICE-TCP flow's connection ends with its flow (not when the flow moves to a new token).
    if (closeStream && up.stream) up.stream.close('flow_closed');
    // Already closed (e.g. after a failed bind) is fine: we only want it gone.
    return up.udp.close().catch(() => undefined);
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
    if ((msg[0] as number) >= 128) observeRtp(flow.qualityDown, msg, arrivalUnits(micros()));
    const stream = flow.upstream.stream;
    if (stream !== undefined) stream.send(msg);
    else pubSocket.send(msg, flow.clientPort, flow.clientAddress, onSendDone);
  };

  /** Who sent a packet: a UDP source, or an ICE-TCP connection. */
  type Source = { address: string; port: number; stream?: StreamConn };

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
    const udp = DgramAsPromised.createSocket(upstreamType);
    const up: Upstream = { udp, stream: rinfo.stream };
    const opened = table.open({
      clientAddress: rinfo.address,
      clientPort: rinfo.port,
      targetHost: target.host,
      targetPort: target.port,
      token: target.token,
      tokenId: target.tokenId,
      upstream: up,
      transport: rinfo.stream ? 'tcp' : 'udp',
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
  const recoverFlow = (address: string, port: number, token: string): void => {
    if (closed || flowCache === undefined) return;
    const key = flowKey(address, port);
    if (table.get(key) !== undefined) {
      flowCache.counters.superseded++; // a consent check got there first
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
    if (createFlow(decision.forward, { address, port }) === undefined) {
      flowCache.rejected(key); // a flow limit (counted by createFlow): not worth a lookup per packet
      return;
    }
    flowCache.counters.recovered++;
    // Once per flow: how an operator sees a restart or a load-balancer switch absorbed.
    log.info({ client: key, session: decision.forward.tokenId }, 'relay flow recovered from the flow cache');
  };

  const onClientPacket = (msg: Buffer, rinfo: RemoteInfo): void => {
    if (closed) return;
    let flow = table.get(flowKey(rinfo.address, rinfo.port));
    if (flow === undefined) {
      flow = openFlow(msg, rinfo);
      if (flow === undefined) {
        // DTLS or SRTP/SRTCP (RFC 7983 first-byte ranges): a call this relay does not know, maybe one a
        // predecessor carried. Junk and STUN (already decided above) cost no lookup, nor does a full table.
        const b = msg[0] as number;
        if (flowCache !== undefined && ((b >= 20 && b <= 63) || (b >= 128 && b <= 191)) && !table.isFull) {
          const { address, port } = rinfo;
          flowCache.lookup(flowKey(address, port), (token) => recoverFlow(address, port, token));
        }
        return;
      }
    } else if (msg[0] === 0 && msg[1] === 1) {
      const token = bindingRequestToken(msg);
      if (token !== undefined && token !== flow.token) {
        flow = reroute(flow, msg, rinfo);
        if (flow === undefined) return;
      }
    }
    flow.lastSeen = clock();
    flow.packetsUp++;
    flow.bytesUp += msg.length;
    counters.packetsUp++;
    counters.bytesUp += msg.length;
    if ((msg[0] as number) >= 128) observeRtp(flow.qualityUp, msg, arrivalUnits(micros()));
    flow.upstream.udp.socket.send(msg, flow.targetPort, flow.targetHost, onSendDone);
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
    flow.lastSeen = clock();
    flow.packetsUp++;
    flow.bytesUp += frame.length;
    counters.packetsUp++;
    counters.bytesUp += frame.length;
    if ((frame[0] as number) >= 128) observeRtp(flow.qualityUp, frame, arrivalUnits(micros()));
    flow.upstream.udp.socket.send(frame, flow.targetPort, flow.targetHost, onSendDone);
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
    revoked.prune(Math.floor(clock() / 1000), 10_000);
    flowCache?.refresh();
    if (sweeping) return;
    sweeping = true;
    sweepLoop();
  };

  pubSocket.on('message', onClientPacket);
  pubSocket.on('error', onPublicError);
  try {
    await pub.bind(opts.port, opts.host);
  } catch (err) {
    await pub.close().catch(() => undefined);
    throw err;
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
      await pub.close().catch(() => undefined);
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
    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      // Entries stay: a successor on this address recovers these flows from them.
      flowCache?.close();
      const flows = table.clear();
      counters.flowsClosed += flows.length;
      pubSocket.removeListener('message', onClientPacket);
      await Promise.all([
        ...flows.map((f) => closeUpstream(f.upstream)),
        pub.close().catch(() => undefined),
        tcp?.close(),
      ]);
      log.info({ flowsClosed: flows.length }, 'relay closed');
    },
  };
}
