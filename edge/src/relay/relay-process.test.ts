import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '@parley/shared/log.js';
import { encodeJson } from '@parley/shared/nats/codec.js';
import type { TransceiverAnnounce } from '@parley/shared/nats/schemas.js';
import { ANNOUNCE_SUBJECT, DISCOVER_SUBJECT } from '@parley/shared/nats/subjects.js';
import { freeUdpPort } from '@parley/shared/net/free-port.js';
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
    const config = loadRelayConfig({
      PARLEY_TOKEN_KEYS: KEYS,
      NATS_URL: srv.url,
      PARLEY_RELAY_HOST: '127.0.0.1',
      PARLEY_RELAY_PORT: String(port),
      PARLEY_RELAY_UPSTREAM_HOST: '127.0.0.1',
    });
    proc = await startRelayProcess(config, { log: createLogger('relay-process-test', 'silent') });
    expect(proc.relay.address()).toMatchObject({ address: '127.0.0.1', port });

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
    while (!proc.table.byRouteId(routeIdOf(id)) && Date.now() < deadline) await sleep(10);
    expect(proc.table.byRouteId(routeIdOf(id))?.id).toBe(id);

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

  it('fails with the bind error when the relay port is taken', async () => {
    const squatter = await UdpPeer.bind();
    peers.push(squatter);
    const config = loadRelayConfig({
      PARLEY_TOKEN_KEYS: KEYS,
      NATS_URL: srv.url,
      PARLEY_RELAY_HOST: '127.0.0.1',
      PARLEY_RELAY_PORT: String(squatter.port),
    });
    await expect(
      startRelayProcess(config, { log: createLogger('relay-process-test', 'silent') }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
