import { bestEffort } from '@parley/shared/lifecycle/with-deadline.js';
import type { Logger } from '@parley/shared/log.js';
import { encodeJson } from '@parley/shared/nats/codec.js';
import { connectNats } from '@parley/shared/nats/connect.js';
import type { SessionRevoked } from '@parley/shared/nats/schemas.js';
import { SESSION_REVOKED_SUBJECT } from '@parley/shared/nats/subjects.js';
import { srtpEngineFor } from '@parley/shared/srtp/srtp-engine.js';
import { routeIdOf } from '@parley/shared/token/routing-token.js';
import {
  sizeBufferPoolForLongLivedPeers,
  tuneWeriftForProcess,
} from '@parley/shared/webrtc/werift-tuning.js';
import type { AgentFactory } from './agent/agent.js';
import { buildAgentRegistry } from './agent/agent-registry.js';
import type { TransceiverConfig } from './config.js';
import { registerMediaMetrics } from './media/media-metrics.js';
import { opusBackendName } from './media/opus-codec.js';
import { preloadTurnDetection } from './media/turn/classifier-factory.js';
import { Announcer } from './nats/announcer.js';
import { serveSessions } from './nats/session-service.js';
import { OaiSidebandHub } from './realtime-events/oai-sideband-hub.js';
import { SessionManager } from './session/session-manager.js';
import { SetupAdmission } from './session/setup-admission.js';
import { registerTransceiverMetrics } from './transceiver-metrics.js';
import { bindMux } from './transport/bind-mux.js';
import type { UdpMux } from './transport/udp-mux.js';

/** Agents that are never interrupted (they echo the caller): the energy detector serves them. */
const ECHO_STYLE_AGENTS: ReadonlySet<string> = new Set(['echo', 'rtp-echo']);

export const TRANSCEIVER_VERSION = '0.1.0';

/** After the drain: sessions send session.ended and close their peers within this. */
const SESSION_CLOSE_MS = 2_000;
/** Flushing NATS on the way out; then the connection is closed regardless. */
const NATS_DRAIN_MS = 2_000;

export interface TransceiverProcess {
  id: string;
  routeId: string;
  sessions: SessionManager;
  /** The one UDP socket every session shares. */
  mux: UdpMux;
  /** Which engines the measured fast paths run on (native addons, or their JS fallbacks). */
  engines: TransceiverEngines;
  /** Announce draining, wait for sessions (up to the drain timeout), then disconnect. */
  drain(): Promise<void>;
  /** Close everything now. */
  close(): Promise<void>;
}

export interface TransceiverEngines {
  io: UdpMux['io'];
  srtpGcm: ReturnType<typeof srtpEngineFor>;
  opus: ReturnType<typeof opusBackendName>;
}

/** Wires a transceiver: NATS connection, session service, announcements. */
export async function startTransceiver(
  config: TransceiverConfig,
  log: Logger,
  /** Defaults to the agents the configuration enables (see buildAgentRegistry). */
  agentsOverride?: ReadonlyMap<string, AgentFactory>,
): Promise<TransceiverProcess> {
  const id = config.PARLEY_TRANSCEIVER_ID;
  const registry = agentsOverride ? undefined : buildAgentRegistry(config, log);
  const agents = agentsOverride ?? (registry?.agents as ReadonlyMap<string, AgentFactory>);
  const routeId = routeIdOf(id);
  // Native X25519 and memoized certificate fingerprints for werift's DTLS setups (see werift-tuning.ts).
  const tuning = await tuneWeriftForProcess();
  // A 2 KiB Buffer pool: werift's long-lived slices pinned whole 64 KiB chunks per session (werift-tuning.ts).
  sizeBufferPoolForLongLivedPeers();
  if (!tuning.nativeX25519.ok)
    log.warn(
      { reason: tuning.nativeX25519.reason },
      'native X25519 unavailable: DTLS key exchange stays in JavaScript',
    );
  const mux = await bindMux(config.PARLEY_PRIVATE_ADDRESS, config.PARLEY_ICE_PORT, config.PARLEY_UDP_IO);
  let nc: Awaited<ReturnType<typeof connectNats>>;
  try {
    nc = await connectNats(config.NATS_URL, `transceiver ${id}`, log);
  } catch (err) {
    mux.close();
    throw err;
  }
  // The turn detector's model loads here (synchronously: ~0.15 s, seconds on a loaded machine),
  // before the first announcement so no call's setup waits for it, and after the NATS connect so
  // a SIGTERM while NATS is unreachable is not stuck behind it. Only where an agent that can be
  // interrupted is configured: echo-style agents use the energy detector unless a session asks,
  // and the model costs ~55 MiB of RSS an echo-only transceiver should not carry idle.
  if ([...agents.keys()].some((name) => !ECHO_STYLE_AGENTS.has(name))) {
    const noSilero = preloadTurnDetection();
    if (noSilero) log.warn({ reason: noSilero }, 'Silero VAD unavailable: sessions use the energy VAD');
  }
  let announcer: Announcer | undefined;
  // The OpenAI-Realtime sideband: `oai-events` sessions publish events and take control events over NATS.
  const realtimeSideband = new OaiSidebandHub(nc, id, log);
  const sessions = new SessionManager({
    realtimeSideband,
    routeId,
    bindAddress: config.PARLEY_PRIVATE_ADDRESS,
    mux,
    capacity: config.PARLEY_CAPACITY,
    keyring: config.PARLEY_TOKEN_KEYS,
    agents,
    defaultAgent: config.PARLEY_DEFAULT_AGENT,
    maxSessionSeconds: config.PARLEY_MAX_SESSION_SECONDS,
    iceTimeoutMs: config.PARLEY_ICE_TIMEOUT_MS,
    consentTimeoutMs: config.PARLEY_CONSENT_TIMEOUT_MS,
    log,
    onLoadChange: () => announcer?.nudge(),
    // Relays revoke the ended session's token: it must not stay a UDP tunnel until it expires.
    // With `ended`, edges also learn the session is over (their session.ended streams, GET status).
    onSessionEnded: (token, sessionId, ended) =>
      nc.publish(
        SESSION_REVOKED_SUBJECT,
        encodeJson({ token, sessionId, ...(ended && { ended }) } satisfies SessionRevoked),
      ),
    setupAdmission: new SetupAdmission({
      maxConcurrent: config.PARLEY_SETUP_CONCURRENCY,
      maxQueue: config.PARLEY_SETUP_QUEUE,
      maxWaitMs: config.PARLEY_SETUP_QUEUE_TIMEOUT_MS,
      maxHoldMs: config.PARLEY_SETUP_HOLD_MS,
    }),
  });
  registerTransceiverMetrics(sessions, mux);
  registerMediaMetrics();
  const stopServing = serveSessions(nc, id, sessions, log);
  announcer = new Announcer(
    nc,
    () => ({
      id,
      routeId,
      cluster: config.PARLEY_CLUSTER,
      region: config.PARLEY_REGION,
      address: config.PARLEY_PRIVATE_ADDRESS,
      port: mux.port,
      sessions: sessions.count,
      capacity: sessions.capacity,
      draining: sessions.draining,
      version: TRANSCEIVER_VERSION,
      sentAt: Date.now(),
    }),
    config.PARLEY_ANNOUNCE_INTERVAL_MS,
  );
  announcer.start();
  await nc.flush();
  const engines: TransceiverEngines = {
    io: mux.io,
    srtpGcm: srtpEngineFor('AEAD_AES_128_GCM'),
    opus: opusBackendName(),
  };
  log.info(
    {
      id,
      routeId,
      address: config.PARLEY_PRIVATE_ADDRESS,
      port: mux.port,
      // Which engines the measured fast paths run on here (native addons, or their JS fallbacks).
      ...engines,
    },
    'transceiver ready',
  );

  let closing: Promise<void> | undefined;
  // Each step has its own limit, so one stuck peer, agent or NATS server cannot hold the rest.
  const warn = (err: unknown) => log.warn({ err: (err as Error).message }, 'shutdown step cut short');
  const shutdown = (drainMs: number): Promise<void> => {
    closing ??= stopAll(drainMs);
    return closing;
  };
  async function stopAll(drainMs: number): Promise<void> {
    // Sessions get the drain time, plus a moment to send session.ended and close their peers.
    await bestEffort('session drain', drainMs + SESSION_CLOSE_MS, sessions.drain(drainMs), warn);
    announcer?.publish();
    announcer?.stop();
    stopServing();
    realtimeSideband.stop();
    registry?.close();
    mux.close();
    // A drain needs the server; with NATS unreachable it would wait for ever.
    await bestEffort(
      'NATS drain',
      NATS_DRAIN_MS,
      () => nc.drain(),
      warn,
      () => void nc.close().catch(() => undefined),
    );
  }
  return {
    id,
    routeId,
    sessions,
    mux,
    engines,
    drain: () => shutdown(config.PARLEY_DRAIN_TIMEOUT_MS),
    close: () => shutdown(0),
  };
}
