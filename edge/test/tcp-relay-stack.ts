import { randomBytes } from 'node:crypto';
import { loadTransceiverConfig } from '@parley/core/config.js';
import { startTransceiver, type TransceiverProcess } from '@parley/core/transceiver-process.js';
import { loadRelayConfig } from '@parley/edge/relay/config.js';
import { type RelayProcess, startRelayProcess } from '@parley/edge/relay/relay-process.js';
import { sleep } from '@parley/edge/relay/testing/udp-peer.js';
import { loadSignalingConfig } from '@parley/edge/signaling/config.js';
import { type SignalingServer, startSignalingServer } from '@parley/edge/signaling/server.js';
import { createLogger } from '@parley/shared/log.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';

/** The ICE-TCP tests' stack, in process: nats-server, a UDP-only transceiver, a relay with its TCP port, an edge. */
export interface TcpRelayStack {
  nats: NatsServerProcess;
  tx: TransceiverProcess;
  relay: RelayProcess;
  edge: SignalingServer;
  udpPort: number;
  tcpPort: number;
  /** Stops whatever started, in reverse order. */
  close(): Promise<void>;
}

export interface TcpRelayStackOptions {
  /** Where the relay and edge listen and what the answers advertise (127.0.0.1, or a veth address). */
  host: string;
  /** How long to wait for the edge's /healthz to say the transceiver is there. */
  readyWithinMs?: number;
  /** Extra edge settings (e.g. PARLEY_WEB_CLIENT). */
  edgeEnv?: Record<string, string>;
}

export async function startTcpRelayStack(o: TcpRelayStackOptions): Promise<TcpRelayStack> {
  const keys = `1:${randomBytes(32).toString('base64')}`;
  const started: { close(): Promise<unknown> }[] = [];
  const close = async () => {
    for (const s of started.reverse()) await s.close();
  };
  try {
    const nats = await NatsServerProcess.start();
    started.push({ close: () => nats.stop() });
    const tx = await startTransceiver(
      loadTransceiverConfig({
        NATS_URL: nats.url,
        PARLEY_TRANSCEIVER_ID: `tx-tcp-${process.pid}`,
        PARLEY_TOKEN_KEYS: keys,
        PARLEY_PRIVATE_ADDRESS: '127.0.0.1',
        PARLEY_ICE_PORT: String(await freeUdpPort()),
        PARLEY_METRICS_PORT: '0',
      }),
      createLogger('tx', 'silent'),
    );
    started.push(tx);
    const udpPort = await freeUdpPort();
    const tcpPort = await freeTcpPort();
    const relay = await startRelayProcess(
      loadRelayConfig({
        NATS_URL: nats.url,
        PARLEY_TOKEN_KEYS: keys,
        PARLEY_RELAY_HOST: o.host,
        PARLEY_RELAY_PORT: String(udpPort),
        PARLEY_RELAY_UPSTREAM_HOST: '127.0.0.1',
        PARLEY_RELAY_TCP_PORT: String(tcpPort),
      }),
      { log: createLogger('relay', 'silent') },
    );
    started.push(relay);
    const edge = await startSignalingServer(
      loadSignalingConfig({
        PARLEY_HTTP_HOST: o.host,
        PARLEY_HTTP_PORT: String(await freeTcpPort()),
        PARLEY_RELAY_ADVERTISE: `${o.host}:${udpPort}`,
        PARLEY_RELAY_TCP_ADVERTISE: `${o.host}:${tcpPort}`,
        PARLEY_AUTH: 'off',
        NATS_URL: nats.url,
        ...o.edgeEnv,
      }),
      { log: createLogger('edge', 'silent') },
    );
    started.push(edge);
    await relay.natsReady;
    const deadline = Date.now() + (o.readyWithinMs ?? 5_000);
    while (!relay.routes.resolve(tx.routeId) && Date.now() < deadline) await sleep(20);
    while ((await fetch(`${edge.url}/healthz`)).status !== 200 && Date.now() < deadline) await sleep(50);
    return { nats, tx, relay, edge, udpPort, tcpPort, close };
  } catch (err) {
    await close();
    throw err;
  }
}
