import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MsgHdrs } from '@nats-io/transport-node';
import { ClusterRttTable } from '@parley/shared/discovery/cluster-rtt.js';
import { probeClusterRtt } from '@parley/shared/discovery/probe-cluster-rtt.js';
import { TransceiverTable } from '@parley/shared/discovery/transceiver-table.js';
import { watchTransceivers } from '@parley/shared/discovery/watch-transceivers.js';
import { bestEffort } from '@parley/shared/lifecycle/with-deadline.js';
import { createLogger, type Logger } from '@parley/shared/log.js';
import { connectNats, type NatsConnection } from '@parley/shared/nats/connect.js';
import type { Hono, MiddlewareHandler } from 'hono';
import { mountRealtimeFrontDoor } from '../realtime/front-door.js';
import { createSignalingApp, type HealthStatus } from './app.js';
import { type Authenticator, createJwtAuthenticator, createNoAuth } from './auth.js';
import type { SignalingConfig } from './config.js';
import { countPlacements, httpMetrics, sessionEventMetrics, timeNatsRequests } from './edge-metrics.js';
import { connectionGuard, listenHttp } from './http-server.js';
import { NatsSessionBroker } from './nats-session-broker.js';
import { SessionEvents } from './session-events.js';
import { ownerBoundSessionIds } from './session-owner.js';
import { SessionRegistry } from './session-registry.js';

/** Shutdown steps, each bounded (the edge's whole stop stays under 5 s). */
const HTTP_CLOSE_MS = 2_000;
const NATS_DRAIN_MS = 2_000;

export interface SignalingServerDeps {
  log?: Logger;
  /** An existing connection; the caller then owns it and close() leaves it open. */
  nc?: NatsConnection;
  /** Overrides the authenticator the config describes. */
  auth?: Authenticator;
  /** Propagates trace context into NATS requests (wired by telemetry). */
  injectHeaders?: (h: MsgHdrs) => void;
  /** Wraps every request, outermost first (e.g. tracing). */
  middleware?: MiddlewareHandler[];
  /** Adds routes (e.g. the static web page at `/`) before the server starts listening. */
  mount?: (app: Hono) => void;
}

export interface SignalingServer {
  /** Base URL to reach the server, e.g. http://127.0.0.1:8080. */
  url: string;
  /** The bound port (the real one when configured as 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * Runs the signaling service: discovery from NATS announcements, the HTTP
 * API, and session placement over NATS request/reply.
 */
export async function startSignalingServer(
  config: SignalingConfig,
  deps: SignalingServerDeps = {},
): Promise<SignalingServer> {
  const log = deps.log ?? createLogger('edge-signaling');
  const ownsNats = deps.nc === undefined;
  const nc =
    deps.nc ?? (await connectNats(config.natsServers, `parley-edge-signaling-${config.region}`, log));

  // Track connectivity for health: a disconnected edge cannot place sessions.
  let natsUp = true;
  // Since when the connection is up: discovery is complete only one announcement TTL later.
  let natsUpSince = performance.now();
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') natsUp = false;
      else if (s.type === 'reconnect') {
        natsUp = true;
        natsUpSince = performance.now();
      }
    }
  })();

  // Monotonic clock: entry expiry must not jump with wall-clock corrections.
  const table = new TransceiverTable(() => performance.now());
  const watch = watchTransceivers(nc, table, log);

  // Sessions placed here, so their clients hear session.ended even when the transceiver (or its region) dies.
  // Ends counted by reason (parley_edge_sessions_ended_total); the gauges read the registry at scrape time.
  const registry = new SessionRegistry(() => performance.now(), { onEnded: (r) => countEnd(r) });
  const countEnd = sessionEventMetrics(registry);
  const sessionEvents = new SessionEvents({
    nc,
    table,
    registry,
    clock: () => performance.now(),
    log,
    isDiscoveryLive: () => natsUp && !nc.isClosed() && performance.now() - natsUpSince >= table.ttlMs,
  });
  sessionEvents.start();

  let auth = deps.auth;
  if (!auth) {
    if (config.auth.mode === 'off') {
      log.warn('AUTHENTICATION IS OFF (PARLEY_AUTH=off): anyone who can reach this port can start sessions');
      auth = createNoAuth();
    } else {
      auth = createJwtAuthenticator(config.auth);
    }
  }

  // Distance to each cluster over the mesh; placement falls back to PARLEY_CLUSTERS' RTTs without it.
  const clusterNames = config.placement.clusters.map((c) => c.name);
  const probeMs = config.placement.rttProbeMs;
  const rtt = new ClusterRttTable(() => performance.now(), 5, Math.max(10_000, 5 * probeMs));
  const probe =
    probeMs > 0
      ? probeClusterRtt({ nc, table, rtt, clusters: clusterNames, log, intervalMs: probeMs })
      : undefined;

  const broker = new NatsSessionBroker({
    // Request round trips timed for parley_edge_nats_request_duration_seconds.
    nc: timeNatsRequests(nc),
    table,
    cluster: config.cluster,
    clusters: config.placement.clusters,
    rtt,
    ...(config.placement.geoHints && { geoHints: config.placement.geoHints }),
    isConnected: () => natsUp && !nc.isClosed(),
    relay: config.relayAdvertise,
    ...(config.relayTcpAdvertise && { relayTcp: config.relayTcpAdvertise }),
    log,
    timeoutMs: config.offerTimeoutMs,
    ...(deps.injectHeaders && { injectHeaders: deps.injectHeaders }),
    onPlaced: (p) => sessionEvents.placed(p),
  });

  const isHealthy = (): HealthStatus => {
    const known = table.live().filter((t) => clusterNames.includes(t.cluster));
    // A draining transceiver refuses offers: it does not make this edge ready.
    const transceivers = known.filter((t) => !t.draining).length;
    if (!natsUp || nc.isClosed()) return { ok: false, transceivers, detail: 'NATS disconnected' };
    if (transceivers === 0 && known.length > 0)
      return { ok: false, transceivers, detail: 'every transceiver is draining' };
    if (transceivers === 0)
      return { ok: false, transceivers, detail: `no transceivers in cluster "${clusterNames.join('", "')}"` };
    return { ok: true, transceivers };
  };

  const app = createSignalingApp({
    auth,
    // Placement and hangup outcomes counted for parley_edge_placements_total.
    broker: countPlacements(broker),
    log,
    maxOfferBytes: config.maxOfferBytes,
    corsOrigins: config.corsOrigins,
    isHealthy,
    sessionStatus: sessionEvents,
    // Session URLs only work for the subject that created them (any edge replica can check).
    ...(config.auth.mode === 'jwt' && { sessionIds: ownerBoundSessionIds(config.auth.secret) }),
    ...(config.placement.geoHeader && { geoHintHeader: config.placement.geoHeader }),
    // The connection guard runs outermost, so it sees every response and the in-flight count is exact.
    middleware: [
      httpMetrics(),
      connectionGuard(config.http.limits) as MiddlewareHandler,
      ...(deps.middleware ?? []),
    ],
  });
  // The OpenAI-Realtime-compatible front door (edge/src/realtime), when PARLEY_REALTIME_API_KEYS is set.
  const realtime = mountRealtimeFrontDoor(app, {
    broker,
    nc,
    table,
    log,
    maxOfferBytes: config.maxOfferBytes,
  });
  deps.mount?.(app as unknown as Hono);

  const stopNats = async () => {
    sessionEvents.stop();
    probe?.stop();
    watch.stop();
    // A drain needs the server: with NATS unreachable it would wait forever, so it gets 2 s, then close.
    if (ownsNats && !nc.isClosed())
      await bestEffort(
        'NATS drain',
        NATS_DRAIN_MS,
        () => nc.drain(),
        (err) => log.warn({ err: (err as Error).message }, 'NATS drain cut short'),
        () => void nc.close().catch(() => undefined),
      );
  };

  let server: Server;
  let address: AddressInfo;
  try {
    ({ server, address } = await listenHttp(
      app.fetch,
      config.http.host,
      config.http.port,
      config.http.limits,
      log,
    ));
  } catch (e) {
    await stopNats();
    throw e;
  }

  realtime?.attach(server);
  const url = `http://${urlHost(address)}:${address.port}`;
  log.info(
    { url, cluster: config.cluster, region: config.region, auth: config.auth.mode },
    'signaling listening',
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    close() {
      closing ??= (async () => {
        realtime?.close();
        // Stop taking requests first; in-flight ones still need NATS to finish.
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          // Keep-alive connections that go idle later (browsers hold them) would
          // keep close() waiting for the socket timeout; give requests 2 s, then cut.
          setTimeout(() => server.closeAllConnections(), HTTP_CLOSE_MS).unref();
        });
        await stopNats();
      })();
      return closing;
    },
  };
}

/** A host a client can connect to: a wildcard bind is reachable on loopback. */
function urlHost(address: AddressInfo): string {
  if (address.address === '0.0.0.0') return '127.0.0.1';
  if (address.address === '::') return '[::1]';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}
