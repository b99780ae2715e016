import { createLogger, type Logger } from '@parley/shared/log.js';
import { decodeJson } from '@parley/shared/nats/codec.js';
import { connectNats, type NatsConnection } from '@parley/shared/nats/connect.js';
import { SessionRevoked, TransceiverAnnounce } from '@parley/shared/nats/schemas.js';
import { ANNOUNCE_SUBJECT, DISCOVER_SUBJECT, SESSION_REVOKED_SUBJECT } from '@parley/shared/nats/subjects.js';
import type { RelayConfig } from './config.js';
import { FlowCache, FlowCacheError, type FlowCacheStore } from './flow-cache.js';
import { openKvFlowCacheStore } from './flow-cache-kv.js';
import { registerFlowCacheMetrics } from './flow-cache-metrics.js';
import { JournalFlowCacheStore } from './flow-journal.js';
import { resetFlowQualityInstruments } from './flow-quality-metrics.js';
import type { Clock } from './flow-table.js';
import { recreateForwardHistogram } from './forward-latency-metrics.js';
import { type HandoverServer, handoverSocketName, serveHandover, takeOver } from './handover.js';
import { type Relay, type RelayOptions, startRelay } from './relay.js';
import { registerRelayMetrics } from './relay-metrics.js';
import { RouteTable } from './route-table.js';
import { TcpListenError } from './tcp-listener.js';

/** How long a successor waits for its predecessor's UDP socket to leave the port after the predecessor went. */
const PREDECESSOR_SOCKET_WAIT_MS = 2_000;

export interface RelayProcess {
  relay: Relay;
  /** The shared flow cache (PARLEY_RELAY_FLOW_CACHE=kv). */
  flowCache: FlowCache | undefined;
  /** Resolves once the flow cache's KV bucket is open (never with the cache off or JetStream missing). */
  flowCacheReady: Promise<void>;
  /** Live transceivers as learned from NATS announcements. */
  routes: RouteTable;
  /** True while connected to NATS. */
  readonly natsConnected: boolean;
  /** Resolves once the first NATS connection is up (for tests and readiness). */
  natsReady: Promise<void>;
  /**
   * PARLEY_RELAY_REUSE_PORT=handover: resolves once a successor took the
   * port over and this relay drained (the process should then stop).
   */
  handedOver: Promise<void>;
  /** Handover: flows taken over from a predecessor at start (undefined: there was none). */
  readonly takenOver: { flowsReceived: number; flowsOpened: number } | undefined;
  /**
   * With `metrics: false`: creates the relay's instruments (counters, flow
   * cache, forwarding and flow-quality histograms) from the meter provider
   * registered now. Once.
   */
  registerMetrics(): void;
  close(): Promise<void>;
}

export interface RelayProcessOptions {
  log?: Logger;
  clock?: Clock;
  /**
   * false: create no OpenTelemetry instruments yet; the caller calls
   * registerMetrics() once its meter provider is registered (a process that
   * starts forwarding before it loads its telemetry). Default true.
   */
  metrics?: boolean;
  /** Longest wait between NATS connection attempts while it is unreachable. */
  maxRetryMs?: number;
}

/**
 * The relay as deployed: discovery and revocations over NATS, and a data
 * path that never waits on NATS. The relay starts whether or not NATS is
 * up: until discovery has been live for one announcement TTL, a flow whose
 * route it does not know goes to the transceiver address signed into the
 * token (version 3), so a relay restarted during a NATS outage still
 * carries calls. NATS is retried with a capped backoff and joined when it
 * returns; announcements then take over, and a route discovery does not
 * know is dropped again (that transceiver stopped announcing).
 *
 * Revocations: each transceiver publishes the routing token of every
 * session that ends; the relay closes that token's flows and refuses it
 * until it expires. A revocation published while this relay is cut off
 * from NATS is missed (its flows still close 30 s after the client stops).
 */
export async function startRelayProcess(
  config: RelayConfig,
  opts: RelayProcessOptions = {},
): Promise<RelayProcess> {
  const log = opts.log ?? createLogger('relay', config.PARLEY_LOG_LEVEL);
  const clock = opts.clock ?? Date.now;
  const routes = new RouteTable(clock);
  let nc: NatsConnection | undefined;
  let connectedAt: number | undefined;
  let closed = false;

  // Discovery is trusted to be complete once it has heard a full TTL's worth of announcements.
  const discoveryLive = (): boolean => connectedAt !== undefined && clock() - connectedAt >= routes.ttlMs;

  // The KV bucket opens once NATS is up; until then the cache's calls fail fast and are counted.
  let kvStore: FlowCacheStore | undefined;
  let resolveCacheReady: () => void = () => undefined;
  const flowCacheReady = new Promise<void>((r) => {
    resolveCacheReady = r;
  });
  const notReady = (): Promise<never> => Promise.reject(new FlowCacheError('flow cache KV not open yet'));
  const cacheTtlMs = config.PARLEY_RELAY_FLOW_CACHE_TTL_MS ?? config.PARLEY_RELAY_IDLE_TIMEOUT_MS;
  const journal =
    config.PARLEY_RELAY_FLOW_CACHE === 'kv' ? openFlowJournal(config, cacheTtlMs, clock, log) : undefined;
  const flowCache =
    config.PARLEY_RELAY_FLOW_CACHE === 'kv'
      ? new FlowCache({
          ttlMs: cacheTtlMs,
          clock,
          store: {
            // The local journal (if any) first: written at once, read before NATS is up.
            put: (c, t) => {
              void journal?.put(c, t);
              return kvStore ? kvStore.put(c, t) : notReady();
            },
            touch: (c, t) => {
              journal?.touch(c, t);
              if (kvStore === undefined) throw new FlowCacheError('flow cache KV not open yet');
              kvStore.touch(c, t);
            },
            delete: (c) => {
              void journal?.delete(c);
              return kvStore ? kvStore.delete(c) : notReady();
            },
            // A lookup waits for the bucket (bounded by the cache's lookup timeout, 1 s): a restarted
            // relay's first packets arrive before NATS is joined, and the one that starts the lookup is
            // forwarded once the flow is recovered, instead of failing and waiting for the next one.
            get: (c) => {
              const local = journal?.peek(c);
              if (local !== undefined) return Promise.resolve(local);
              return kvStore ? kvStore.get(c) : flowCacheReady.then(() => (kvStore as FlowCacheStore).get(c));
            },
            close: async () => {
              await journal?.close();
            },
          },
        })
      : undefined;
  const withMetrics = opts.metrics !== false;
  if (flowCache && withMetrics) registerFlowCacheMetrics(flowCache);
  const openFlowCache = async (conn: NatsConnection): Promise<void> => {
    if (flowCache === undefined || kvStore !== undefined) return;
    try {
      kvStore = await openKvFlowCacheStore(conn, config.PARLEY_RELAY_FLOW_CACHE_BUCKET, cacheTtlMs);
      log.info({ bucket: config.PARLEY_RELAY_FLOW_CACHE_BUCKET, ttlMs: cacheTtlMs }, 'relay flow cache open');
      resolveCacheReady();
    } catch (err) {
      log.warn(
        { err: (err as Error).message, cause: ((err as Error).cause as Error | undefined)?.message },
        'relay flow cache unavailable: a restarted relay waits for consent checks',
      );
    }
  };

  const relayOptions: RelayOptions = {
    host: config.PARLEY_RELAY_HOST,
    port: config.PARLEY_RELAY_PORT,
    upstreamHost: config.PARLEY_RELAY_UPSTREAM_HOST,
    keyring: config.PARLEY_TOKEN_KEYS,
    resolveRoute: (routeId) => routes.resolve(routeId),
    useSignedTarget: () => !discoveryLive(),
    idleTimeoutMs: config.PARLEY_RELAY_IDLE_TIMEOUT_MS,
    maxFlows: config.PARLEY_RELAY_MAX_FLOWS,
    maxFlowsPerToken: config.PARLEY_RELAY_MAX_FLOWS_PER_TOKEN,
    maxFlowsPerIp: config.PARLEY_RELAY_MAX_FLOWS_PER_IP,
    newFlowsPerIpPerSecond: config.PARLEY_RELAY_NEW_FLOWS_PER_IP_PER_SECOND,
    clock,
    log,
    flowCache,
    reusePort: config.PARLEY_RELAY_REUSE_PORT !== '0',
    // Steering the port takes the addon's setsockopt: handover mode insists on native I/O.
    io:
      config.PARLEY_RELAY_REUSE_PORT === 'handover' && config.PARLEY_RELAY_IO === 'auto'
        ? 'native'
        : config.PARLEY_RELAY_IO,
    tcp:
      config.PARLEY_RELAY_TCP_PORT === 0
        ? undefined
        : {
            host: config.PARLEY_RELAY_TCP_HOST ?? config.PARLEY_RELAY_HOST,
            port: config.PARLEY_RELAY_TCP_PORT,
            handshakeTimeoutMs: config.PARLEY_RELAY_TCP_HANDSHAKE_TIMEOUT_MS,
            maxConnections: config.PARLEY_RELAY_TCP_MAX_CONNECTIONS,
            maxConnectionsPerIp: config.PARLEY_RELAY_TCP_MAX_CONNECTIONS_PER_IP,
          },
  };
  let relay: Relay;
  try {
    relay = await startRelay(relayOptions);
  } catch (err) {
    // UDP is the service; ICE-TCP is the fallback for UDP-blocked clients. A
    // TCP port we may not bind (443 without CAP_NET_BIND_SERVICE, or taken)
    // is logged loudly and the relay serves UDP rather than nothing.
    if (!(err instanceof TcpListenError)) throw err;
    log.error(
      { err: err.message },
      'ICE-TCP disabled: set PARLEY_RELAY_TCP_PORT to a port this process may bind, or 0',
    );
    relay = await startRelay({ ...relayOptions, tcp: undefined });
  }
  let resolveHandedOver: () => void = () => undefined;
  const handedOver = new Promise<void>((r) => {
    resolveHandedOver = r;
  });
  let handover: HandoverServer | undefined;
  let takenOver: RelayProcess['takenOver'];
  let listenTimer: NodeJS.Timeout | undefined;
  let releaseTakeover: (() => void) | undefined;
  if (config.PARLEY_RELAY_REUSE_PORT === 'handover') {
    const r = relay;
    const name = handoverSocketName(config.PARLEY_RELAY_HOST, r.address().port);
    const secret = config.PARLEY_TOKEN_KEYS.signing.secret;
    let took: Awaited<ReturnType<typeof takeOver>>;
    let steeredAt = { index: 0, members: 1 };
    try {
      took = await takeOver(name, secret, {
        importFlows: (f) => r.importFlows(f),
        steer: () => {
          steeredAt = r.steerHere();
        },
      });
    } catch (err) {
      await r.close();
      throw err;
    }
    /**
     * The predecessor's handover connection closed. Its UDP socket may still
     * be in the port's group for a moment (it closes it first, but a killed
     * process's descriptors, or a slow one, may lag): steering now would aim
     * at this socket's index with the predecessor still in place, and once
     * its socket left the kernel moves this one to index 0 while the program
     * still names index 1, where the next successor joins, so that one would
     * receive clients' datagrams before it has their flows. Wait (bounded)
     * until the group shrank, then steer.
     */
    const resteerWhenAlone = async (membersAtTakeover: number): Promise<void> => {
      const deadline = Date.now() + PREDECESSOR_SOCKET_WAIT_MS;
      let members = r.portMembers();
      while (!closed && members >= membersAtTakeover && membersAtTakeover > 1 && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 5));
        members = r.portMembers();
      }
      if (closed) return;
      const steered = r.steerHere();
      const level = members >= membersAtTakeover && membersAtTakeover > 1 ? 'warn' : 'info';
      log[level](
        { ...steered, membersAtTakeover },
        level === 'warn'
          ? "relay handover: the predecessor's socket is still on the port; steered anyway"
          : 'relay handover: the predecessor is gone; the port is steered to this process',
      );
    };
    if (took === undefined) {
      // First of its line: steer the port here, so a successor that binds it receives nothing until it has our flows.
      const steered = r.steerHere();
      log.info(steered, 'relay handover: no predecessor; the port is steered to this process');
    } else {
      takenOver = { flowsReceived: took.flowsReceived, flowsOpened: took.flowsOpened };
      releaseTakeover = took.release;
      log.info(
        { ...takenOver, steered: steeredAt },
        'relay handover: took the port over; the predecessor drains',
      );
      // Once it is gone this socket is the group's only member: steer to its index again (0) for the next successor.
      const atTakeover = steeredAt.members;
      void took.predecessorGone.then(() => resteerWhenAlone(atTakeover));
    }
    /** Bumped when a successor is lost: a drain started for it must not end this process. */
    let handoverEpoch = 0;
    const onSteered = (): void => {
      log.info('relay handover: successor steered the port; draining');
      const epoch = handoverEpoch;
      void r
        .drain({ quietMs: config.PARLEY_RELAY_HANDOVER_QUIET_MS, maxMs: config.PARLEY_RELAY_HANDOVER_MAX_MS })
        .then(({ quiet }) => {
          if (epoch !== handoverEpoch || closed) return;
          log.info({ quiet }, 'relay handover: drained');
          resolveHandedOver();
        });
    };
    const onSuccessorLost = (): void => {
      if (closed) return;
      handoverEpoch++;
      // Its socket left the group (it closes it before its handover connection), so this one is the
      // last member again: every datagram comes back here.
      r.steerHere();
      log.warn('relay handover: the successor went away before this relay stopped; serving the port again');
      listen(0);
    };
    // Serve the next handover; the predecessor frees the name right after it was steered away.
    const listen = (attempt: number): void => {
      if (closed) return;
      serveHandover(
        name,
        secret,
        { flows: () => r.exportFlows(), steered: onSteered, successorLost: onSuccessorLost },
        log,
      ).then(
        (server) => {
          if (closed) void server.close();
          else handover = server;
        },
        (err: Error) => {
          if (attempt >= 300) {
            log.error({ err: err.message }, 'relay handover: cannot listen for a successor');
            return;
          }
          listenTimer = setTimeout(() => listen(attempt + 1), 100);
          listenTimer.unref();
        },
      );
    };
    listen(0);
  }
  const pruneTimer = setInterval(() => routes.prune(), 1_000);
  pruneTimer.unref();

  let invalid = 0;
  const attach = (conn: NatsConnection): void => {
    conn.subscribe(ANNOUNCE_SUBJECT, {
      callback: (err, msg) => {
        if (err) return;
        try {
          routes.upsert(decodeJson(TransceiverAnnounce, msg.data));
        } catch (e) {
          invalid++;
          log.debug({ err: (e as Error).message, invalid }, 'dropped invalid announcement');
        }
      },
    });
    conn.subscribe(SESSION_REVOKED_SUBJECT, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const { token } = decodeJson(SessionRevoked, msg.data);
          if (!relay.revoke(token))
            log.debug('revocation for a token that does not verify (expired or foreign)');
        } catch (e) {
          log.debug({ err: (e as Error).message }, 'dropped invalid revocation');
        }
      },
    });
    conn.publish(DISCOVER_SUBJECT);
    connectedAt = clock();
    void (async () => {
      for await (const s of conn.status()) {
        if (s.type === 'disconnect') connectedAt = undefined;
        if (s.type === 'reconnect') {
          connectedAt = clock();
          void openFlowCache(conn);
          conn.publish(DISCOVER_SUBJECT);
        }
      }
    })();
  };

  let resolveReady: () => void = () => undefined;
  const natsReady = new Promise<void>((r) => {
    resolveReady = r;
  });
  let retryTimer: NodeJS.Timeout | undefined;
  const maxRetryMs = opts.maxRetryMs ?? 5_000;
  // Bounded in time per attempt (the client's connect timeout) and in rate (capped backoff).
  const connectLoop = async (delayMs: number): Promise<void> => {
    if (closed) return;
    try {
      const conn = await connectNats(config.NATS_URL, 'parley-relay', log);
      if (closed) {
        await conn.close().catch(() => undefined);
        return;
      }
      nc = conn;
      attach(conn);
      log.info('relay joined NATS');
      resolveReady();
      void openFlowCache(conn);
    } catch (err) {
      if (closed) return;
      log.warn(
        { err: (err as Error).message, retryMs: delayMs },
        'NATS unreachable; relay forwards by signed token address',
      );
      retryTimer = setTimeout(() => void connectLoop(Math.min(maxRetryMs, delayMs * 2)), delayMs);
      retryTimer.unref();
    }
  };
  void connectLoop(250);
  let metricsRegistered = withMetrics;

  return {
    relay,
    flowCache,
    flowCacheReady,
    routes,
    get natsConnected() {
      return connectedAt !== undefined;
    },
    natsReady,
    handedOver,
    get takenOver() {
      return takenOver;
    },
    registerMetrics: () => {
      if (metricsRegistered) return;
      metricsRegistered = true;
      recreateForwardHistogram();
      resetFlowQualityInstruments();
      if (flowCache) registerFlowCacheMetrics(flowCache);
      registerRelayMetrics(relay.counters, () => relay.flows);
    },
    close: async () => {
      closed = true;
      clearTimeout(listenTimer);
      clearTimeout(retryTimer);
      clearInterval(pruneTimer);
      // The UDP socket leaves the port's group before the handover connections close: a successor (or a
      // predecessor taking the port back) re-steers when its connection closes, and must find this
      // socket gone by then, or it steers to an index that goes stale as soon as this socket leaves.
      await relay.close();
      await handover?.close();
      releaseTakeover?.();
      // Bounded: a NATS server that went away must not hold shutdown.
      if (nc)
        await Promise.race([nc.close().catch(() => undefined), new Promise((r) => setTimeout(r, 2_000))]);
    },
  };
}

/** PARLEY_RELAY_FLOW_JOURNAL opened, or undefined (unset, or unusable: logged, and the relay runs without it). */
function openFlowJournal(
  config: RelayConfig,
  ttlMs: number,
  clock: Clock,
  log: Logger,
): JournalFlowCacheStore | undefined {
  const path = config.PARLEY_RELAY_FLOW_JOURNAL;
  if (path === undefined) return undefined;
  try {
    const journal = new JournalFlowCacheStore(path, ttlMs, clock);
    log.info(
      { path, recovered: journal.recoveredAtOpen, malformed: journal.malformedAtOpen },
      'relay flow journal open',
    );
    return journal;
  } catch (err) {
    log.warn(
      { err: (err as Error).message, path },
      'relay flow journal unavailable: flows recover from the KV only',
    );
    return undefined;
  }
}
