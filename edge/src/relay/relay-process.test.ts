import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '@parley/shared/log.js';
import { encodeJson } from '@parley/shared/nats/codec.js';
import type { TransceiverAnnounce } from '@parley/shared/nats/schemas.js';
import { ANNOUNCE_SUBJECT, DISCOVER_SUBJECT } from '@parley/shared/nats/subjects.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { encodeToken, parseKeyring, routeIdOf } from '@parley/shared/token/routing-token.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRelayConfig } from './config.js';
import { type RelayProcess, startRelayProcess } from './relay-process.js';
import { sleep, UdpPeer } from './testing/udp-peer.js';

const KEYS = `1:${randomBytes(32).toString('base64')}`;

describe('startRelayProcess with a real nats-server', () => {
  let srv: NatsServerProcess;
  let nc: NatsConnection;
  let proc: RelayProcess | undefined;
  const peers: UdpPeer[] = [];

  beforeAll(async () => {
    srv = await NatsServerProcess.start();
    nc = await connect({ servers: srv.url });
  });
  afterAll(async () => {
    await proc?.close();
    for (const p of peers) await p.close();
    await nc?.close();
    await srv?.stop();
  });

  it('asks transceivers to announce, learns one from ANNOUNCE_SUBJECT, and routes a token for it', async () => {
    const discovers: number[] = [];
    nc.subscribe(DISCOVER_SUBJECT, {
      callback: () => {
        discovers.push(Date.now());
      },
    });
    await nc.flush();

    const port = await freeUdpPort();
    const tcpPort = await freeTcpPort();
    const config = loadRelayConfig({
      PARLEY_TOKEN_KEYS: KEYS,
      NATS_URL: srv.url,
      PARLEY_RELAY_HOST: '127.0.0.1',
      PARLEY_RELAY_PORT: String(port),
      PARLEY_RELAY_UPSTREAM_HOST: '127.0.0.1',
      PARLEY_RELAY_TCP_PORT: String(tcpPort),
    });
    proc = await startRelayProcess(config, { log: createLogger('relay-process-test', 'silent') });
    expect(proc.relay.tcpAddress()).toEqual({ address: '127.0.0.1', port: tcpPort });
    expect(proc.relay.address()).toMatchObject({ address: '127.0.0.1', port });
    await proc.natsReady;

    const tx = await UdpPeer.bind();
    const client = await UdpPeer.bind();
    peers.push(tx, client);
    tx.onMessage = (msg, rinfo, self) => self.socket.send(msg, rinfo.port, rinfo.address);

    const id = 'tx-nats-1';
    const token = encodeToken(parseKeyring(KEYS), {
      routeId: routeIdOf(id),
      expiresAt: Math.floor(Date.now() / 1000) + 600,
    });
    const check = buildBindingRequest({ username: `${token}:Cli1`, password: 'p'.repeat(22) });

    // Before any announcement the route is unknown: dropped, nothing forwarded.
    await client.send(check, port);
    await sleep(150);
    expect(tx.received).toHaveLength(0);
    expect(proc.relay.counters.drops.route_unknown).toBe(1);

    const announce: TransceiverAnnounce = {
      id,
      routeId: routeIdOf(id),
      cluster: 'local',
      region: 'local',
      address: '127.0.0.1',
      port: tx.port,
      sessions: 0,
      capacity: 10,
      draining: false,
      version: 'test',
      sentAt: Date.now(),
    };
    nc.publish(ANNOUNCE_SUBJECT, encodeJson(announce));
    await nc.flush();
    const deadline = Date.now() + 5_000;
    while (!proc.routes.resolve(routeIdOf(id)) && Date.now() < deadline) await sleep(10);
    expect(proc.routes.resolve(routeIdOf(id))).toEqual({ address: '127.0.0.1', port: tx.port });

    await client.send(check, port);
    const [atTx] = await tx.waitFor(1);
    expect(atTx?.msg.equals(check)).toBe(true);
    const [atClient] = await client.waitFor(1);
    expect(atClient?.port).toBe(port);
    expect(proc.relay.counters.snapshot()).toMatchObject({ flowsOpened: 1, packetsUp: 1, packetsDown: 1 });
    expect(discovers.length).toBeGreaterThanOrEqual(1);

    await proc.close();
    proc = undefined;
    // Closed means the port is free again.
    const again = await UdpPeer.bind('127.0.0.1', port);
    peers.push(again);
    expect(again.port).toBe(port);
  });

  it('starts while NATS is down, forwards by the address signed in the token, and joins NATS when it returns', async () => {
    const down = await NatsServerProcess.start();
    await down.stop();
    const port = await freeUdpPort();
    const config = loadRelayConfig({
      PARLEY_TOKEN_KEYS: KEYS,
      NATS_URL: down.url,
      PARLEY_RELAY_HOST: '127.0.0.1',
      PARLEY_RELAY_PORT: String(port),
      PARLEY_RELAY_UPSTREAM_HOST: '127.0.0.1',
      PARLEY_RELAY_TCP_PORT: '0',
    });
    const p = await startRelayProcess(config, {
      log: createLogger('relay-process-test', 'silent'),
      maxRetryMs: 300,
    });
    try {
      expect(p.natsConnected).toBe(false);
      const tx = await UdpPeer.bind();
      const client = await UdpPeer.bind();
      peers.push(tx, client);
      tx.onMessage = (msg, rinfo, self) => self.socket.send(msg, rinfo.port, rinfo.address);
      const expiresAt = Math.floor(Date.now() / 1000) + 600;
      const signed = encodeToken(parseKeyring(KEYS), {
        routeId: routeIdOf('tx-offline'),
        expiresAt,
        target: { address: '127.0.0.1', port: tx.port },
      });
      const check = buildBindingRequest({ username: `${signed}:Cli1`, password: 'p'.repeat(22) });
      await client.send(check, port);
      const [echo] = await client.waitFor(1);
      expect(echo?.msg.equals(check)).toBe(true);
      expect(p.relay.counters.flowsViaToken).toBe(1);
      // A version 2 token names no address: without discovery it cannot be routed.
      const unsigned = encodeToken(parseKeyring(KEYS), { routeId: routeIdOf('tx-offline'), expiresAt });
      const other = await UdpPeer.bind();
      peers.push(other);
      await other.send(buildBindingRequest({ username: `${unsigned}:Cli2`, password: 'p'.repeat(22) }), port);
      await sleep(150);
      expect(other.received).toHaveLength(0);
      expect(p.relay.counters.drops.route_unknown).toBe(1);

      // NATS comes back on the same port: the relay joins it (retries are capped at 300 ms here).
      await down.restart();
      await p.natsReady;
      expect(p.natsConnected).toBe(true);
      // Media on the open flow never stopped.
      await client.send(Buffer.from([0x80, 111, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1]), port);
      await client.waitFor(2);
    } finally {
      await p.close();
      await down.stop();
    }
  });

  it('serves UDP when the ICE-TCP port cannot be bound, and says so', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const tcpPort = (taken.address() as { port: number }).port;
    const port = await freeUdpPort();
    const p = await startRelayProcess(
      loadRelayConfig({
        PARLEY_TOKEN_KEYS: KEYS,
        NATS_URL: srv.url,
        PARLEY_RELAY_HOST: '127.0.0.1',
        PARLEY_RELAY_PORT: String(port),
        PARLEY_RELAY_TCP_PORT: String(tcpPort),
      }),
      { log: createLogger('relay-process-test', 'silent') },
    );
    try {
      expect(p.relay.address().port).toBe(port);
      expect(p.relay.tcpAddress()).toBeUndefined();
    } finally {
      await p.close();
      await new Promise((r) => taken.close(r));
    }
  });

  it('fails with the bind error when the relay port is taken', async () => {
    const squatter = await UdpPeer.bind();
    peers.push(squatter);
    const config = loadRelayConfig({
      PARLEY_TOKEN_KEYS: KEYS,
      NATS_URL: srv.url,
      PARLEY_RELAY_HOST: '127.0.0.1',
      PARLEY_RELAY_PORT: String(squatter.port),
      PARLEY_RELAY_TCP_PORT: '0',
    });
    await expect(
      startRelayProcess(config, { log: createLogger('relay-process-test', 'silent') }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
