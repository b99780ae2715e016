import { randomBytes } from 'node:crypto';
import { loadTransceiverConfig } from '@parley/core/config.js';
import { startTransceiver, type TransceiverProcess } from '@parley/core/transceiver-process.js';
import { loadRelayConfig } from '@parley/edge/relay/config.js';
import { type RelayProcess, startRelayProcess } from '@parley/edge/relay/relay-process.js';
import { sleep } from '@parley/edge/relay/testing/udp-peer.js';
import { loadSignalingConfig } from '@parley/edge/signaling/config.js';
import { type SignalingServer, startSignalingServer } from '@parley/edge/signaling/server.js';
import { runCall } from '@parley/loadtest/call/call-client.js';
import { createLogger } from '@parley/shared/log.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 11 item 1 end to end with real parts: edge (answers carry the
 * relay's TCP candidate after the UDP one), a transceiver (UDP only), the
 * relay with its ICE-TCP port, and a werift client forced onto TCP (its
 * UDP candidates removed from the answer), as `parley call --tcp` does.
 */
const KEYS = `1:${randomBytes(32).toString('base64')}`;

describe('a werift call over ICE-TCP through the relay', () => {
  let nats: NatsServerProcess;
  let tx: TransceiverProcess;
  let relay: RelayProcess;
  let edge: SignalingServer;
  let udpPort: number;
  let tcpPort: number;

  beforeAll(async () => {
    nats = await NatsServerProcess.start();
    tx = await startTransceiver(
      loadTransceiverConfig({
        NATS_URL: nats.url,
        PARLEY_TRANSCEIVER_ID: `tx-tcp-${process.pid}`,
        PARLEY_TOKEN_KEYS: KEYS,
        PARLEY_PRIVATE_ADDRESS: '127.0.0.1',
        PARLEY_ICE_PORT: String(await freeUdpPort()),
        PARLEY_METRICS_PORT: '0',
      }),
      createLogger('tx', 'silent'),
    );
    udpPort = await freeUdpPort();
    tcpPort = await freeTcpPort();
    relay = await startRelayProcess(
      loadRelayConfig({
        NATS_URL: nats.url,
        PARLEY_TOKEN_KEYS: KEYS,
        PARLEY_RELAY_HOST: '127.0.0.1',
        PARLEY_RELAY_PORT: String(udpPort),
        PARLEY_RELAY_UPSTREAM_HOST: '127.0.0.1',
        PARLEY_RELAY_TCP_PORT: String(tcpPort),
      }),
      { log: createLogger('relay', 'silent') },
    );
    edge = await startSignalingServer(
      loadSignalingConfig({
        PARLEY_HTTP_HOST: '127.0.0.1',
        PARLEY_HTTP_PORT: String(await freeTcpPort()),
        PARLEY_RELAY_ADVERTISE: `127.0.0.1:${udpPort}`,
        PARLEY_RELAY_TCP_ADVERTISE: `127.0.0.1:${tcpPort}`,
        PARLEY_AUTH: 'off',
        NATS_URL: nats.url,
      }),
      { log: createLogger('edge', 'silent') },
    );
    await relay.natsReady;
    const deadline = Date.now() + 5_000;
    while (!relay.routes.resolve(tx.routeId) && Date.now() < deadline) await sleep(20);
    while ((await fetch(`${edge.url}/healthz`)).status !== 200 && Date.now() < deadline) await sleep(50);
  });
  afterAll(async () => {
    await edge?.close();
    await relay?.close();
    await tx?.close();
    await nats?.stop();
  });

  it('connects over TCP, echoes every packet, and names the relay TCP address', async () => {
    let answer = '';
    const r = await runCall({
      edgeUrl: edge.url,
      seconds: 1,
      tcp: true,
      onAnswer: (sdp) => {
        answer = sdp;
      },
    });
    // The answer: the UDP candidate first, then the TCP one (passive, lower priority).
    const candidates = answer.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
    expect(candidates[0]).toMatch(new RegExp(` udp \\d+ 127\\.0\\.0\\.1 ${udpPort} typ host`));
    expect(candidates[1]).toMatch(
      new RegExp(` tcp \\d+ 127\\.0\\.0\\.1 ${tcpPort} typ host tcptype passive`),
    );
    expect(r.transport).toBe('tcp');
    expect(r.remoteCandidate).toBe(`127.0.0.1:${tcpPort}`);
    expect(r.packets.sent).toBe(50);
    expect(r.packets.lost).toBe(0);
    expect(relay.relay.tcpCounters.established).toBeGreaterThanOrEqual(1);
    // Nothing went over the relay's UDP port: every flow it opened was TCP.
    expect(relay.relay.counters.flowsOpened).toBe(relay.relay.tcpCounters.established);
  });

  it('the same call without --tcp takes UDP (the higher-priority candidate)', async () => {
    const r = await runCall({ edgeUrl: edge.url, seconds: 0.4 });
    expect(r.transport).toBe('udp');
    expect(r.remoteCandidate).toBe(`127.0.0.1:${udpPort}`);
  });
});
