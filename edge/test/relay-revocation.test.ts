import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { loadTransceiverConfig } from '@parley/core/config.js';
import { startTransceiver, type TransceiverProcess } from '@parley/core/transceiver-process.js';
import { loadRelayConfig } from '@parley/edge/relay/config.js';
import { type RelayProcess, startRelayProcess } from '@parley/edge/relay/relay-process.js';
import { sleep, UdpPeer } from '@parley/edge/relay/testing/udp-peer.js';
import { createLogger } from '@parley/shared/log.js';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import { CloseReply, OfferReply } from '@parley/shared/nats/schemas.js';
import { closeSubject, offerSubject } from '@parley/shared/nats/subjects.js';
import { freeUdpPort } from '@parley/shared/net/free-port.js';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { NatsServerProcess } from '@parley/shared/testing/nats-server.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 12: "with an ended session's token, arbitrary datagrams reached the
 * signed transceiver address and replies came back, for up to 2 h". A real
 * transceiver creates a real session; a Binding Request that verifies with
 * the session's ICE password gets an answer through a real relay process;
 * the session is ended the way DELETE ends it; the transceiver publishes the
 * revocation on NATS, and the relay closes the flow and refuses the token.
 */
const KEYS = `1:${randomBytes(32).toString('base64')}`;
const OFFER = readFileSync(
  new URL('../src/signaling/__fixtures__/werift-offer.sdp', import.meta.url),
  'utf8',
);

describe('relay revocation from a real ended session', () => {
  let nats: NatsServerProcess;
  let nc: NatsConnection;
  let tx: TransceiverProcess;
  let relay: RelayProcess;
  let relayPort: number;
  const peers: UdpPeer[] = [];

  beforeAll(async () => {
    nats = await NatsServerProcess.start();
    nc = await connect({ servers: nats.url });
    tx = await startTransceiver(
      loadTransceiverConfig({
        NATS_URL: nats.url,
        PARLEY_TRANSCEIVER_ID: `tx-revoke-${process.pid}`,
        PARLEY_TOKEN_KEYS: KEYS,
        PARLEY_PRIVATE_ADDRESS: '127.0.0.1',
        PARLEY_ICE_PORT: String(await freeUdpPort()),
        PARLEY_METRICS_PORT: '0',
      }),
      createLogger('tx', 'silent'),
    );
    relayPort = await freeUdpPort();
    relay = await startRelayProcess(
      loadRelayConfig({
        NATS_URL: nats.url,
        PARLEY_TOKEN_KEYS: KEYS,
        PARLEY_RELAY_HOST: '127.0.0.1',
        PARLEY_RELAY_PORT: String(relayPort),
        PARLEY_RELAY_UPSTREAM_HOST: '127.0.0.1',
        PARLEY_RELAY_TCP_PORT: '0',
      }),
      { log: createLogger('relay', 'silent') },
    );
    await relay.natsReady;
    const deadline = Date.now() + 5_000;
    while (!relay.routes.resolve(tx.routeId) && Date.now() < deadline) await sleep(20);
  });
  afterAll(async () => {
    for (const p of peers) await p.close();
    await relay?.close();
    await tx?.close();
    await nc?.close();
    await nats?.stop();
  });

  it('closes the flow and refuses the token once the session ends', async () => {
    const sessionId = `s-${randomBytes(8).toString('hex')}`;
    const reply = decodeJson(
      OfferReply,
      (
        await nc.request(
          offerSubject(tx.id),
          encodeJson({ sessionId, offer: OFFER, relay: { ip: '127.0.0.1', port: relayPort } }),
          { timeout: 10_000 },
        )
      ).data,
    );
    if (!reply.ok) throw new Error(`offer refused: ${reply.message}`);
    const token = /a=ice-ufrag:(\S+)/.exec(reply.answer)?.[1] ?? '';
    const password = /a=ice-pwd:(\S+)/.exec(reply.answer)?.[1] ?? '';
    const clientUfrag = /a=ice-ufrag:(\S+)/.exec(OFFER)?.[1] ?? '';
    // Version 3: the transceiver's address is signed in (47 ice-chars for IPv4).
    expect(token).toHaveLength(47);
    const check = () => buildBindingRequest({ username: `${token}:${clientUfrag}`, password });

    const client = await UdpPeer.bind('127.0.0.1');
    peers.push(client);
    await client.send(check(), relayPort);
    const [answer] = await client.waitFor(1, 5_000);
    // A Binding success response (0x0101) from the real transceiver, through the relay.
    expect(answer?.msg.readUInt16BE(0)).toBe(0x0101);
    expect(relay.relay.flows).toBe(1);

    const closed = decodeJson(
      CloseReply,
      (await nc.request(closeSubject(tx.id), encodeJson({ sessionId }), { timeout: 5_000 })).data,
    );
    expect(closed.ok).toBe(true);
    const deadline = Date.now() + 5_000;
    while (relay.relay.flows > 0 && Date.now() < deadline) await sleep(10);
    expect(relay.relay.flows).toBe(0);
    expect(relay.relay.counters.flowsRevoked).toBe(1);
    expect(relay.relay.revocations).toBe(1);

    // The ended session's token opens nothing, from the old address or a new one.
    const stranger = await UdpPeer.bind('127.0.0.3');
    peers.push(stranger);
    await client.send(check(), relayPort);
    await stranger.send(check(), relayPort);
    await stranger.send(Buffer.from([0x80, 111, 0, 1, ...randomBytes(40)]), relayPort);
    await sleep(200);
    expect(client.received).toHaveLength(1);
    expect(stranger.received).toHaveLength(0);
    expect(relay.relay.counters.drops.token_revoked).toBe(2);
    expect(relay.relay.flows).toBe(0);
  });
});
