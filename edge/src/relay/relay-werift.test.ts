import { randomBytes } from 'node:crypto';
import { createLogger } from '@parley/shared/log.js';
import { freeUdpPort } from '@parley/shared/net/free-port.js';
import { encodeToken, makeKeyring, routeIdOf } from '@parley/shared/token/routing-token.js';
import { RTCPeerConnection } from '@parley/shared/webrtc/werift-client.js';
import { afterEach, describe, expect, it } from 'vitest';
import { type Relay, startRelay } from './relay.js';

/**
 * Two real WebRTC stacks through the relay: a werift client that only knows
 * the relay's address, and a werift ice-lite "transceiver" on one fixed UDP
 * port whose ufrag is a version 2 routing token (no port in it), set on the
 * ICE connection by hand. The relay learns that port only from the route, as
 * it does from a transceiver's announcement. ICE, DTLS and SCTP all have to
 * survive the NAT-style forwarding.
 */
const keyring = makeKeyring([{ id: 1, secret: randomBytes(32) }]);
const ROUTE = routeIdOf('tx-werift');

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});

const noCandidates = (sdp: string) => sdp.replace(/^a=(candidate|end-of-candidates).*\r\n/gm, '');

describe('relay with real werift peers', () => {
  it('carries ICE, DTLS and a data channel round trip between a client and an ice-lite transceiver', async () => {
    const icePort = await freeUdpPort();
    const relayPort = await freeUdpPort();
    const relay: Relay = await startRelay({
      host: '127.0.0.1',
      port: relayPort,
      upstreamHost: '127.0.0.1',
      keyring,
      resolveRoute: (id) => (id === ROUTE ? { address: '127.0.0.1', port: icePort } : undefined),
      log: createLogger('relay-werift-test', 'silent'),
    });
    closers.push(() => relay.close());

    const client = new RTCPeerConnection({
      iceServers: [],
      iceUseIpv6: false,
      iceInterfaceAddresses: { udp4: '127.0.0.1' },
    });
    closers.push(() => client.close());
    const channel = client.createDataChannel('probe');
    await client.setLocalDescription(await client.createOffer());

    const transceiver = new RTCPeerConnection({
      iceLite: true,
      iceServers: [],
      iceUseIpv6: false,
      iceInterfaceAddresses: { udp4: '127.0.0.1' },
      // werift refuses a one-port range but takes the lowest free port of it: icePort. Had it bound
      // another, the relay (which forwards only to icePort) would carry nothing and the call would fail.
      icePortRange: [icePort, icePort + 1],
    });
    closers.push(() => transceiver.close());
    transceiver.onDataChannel.subscribe((dc) =>
      dc.onMessage.subscribe((m) => dc.send(`pong:${m.toString()}`)),
    );
    await transceiver.setRemoteDescription({
      type: 'offer',
      sdp: noCandidates(client.localDescription?.sdp ?? ''),
    });
    const conn = (
      transceiver.iceTransports[0] as unknown as {
        connection: { localUsername: string; localPassword: string };
      }
    ).connection;
    conn.localUsername = encodeToken(keyring, {
      routeId: ROUTE,
      expiresAt: Math.floor(Date.now() / 1000) + 600,
    });
    conn.localPassword = randomBytes(18).toString('base64');
    await transceiver.setLocalDescription(await transceiver.createAnswer());

    // The client's only candidate is the relay: nothing can bypass it.
    const answer = noCandidates(transceiver.localDescription?.sdp ?? '').replace(
      /(a=ice-ufrag:.*\r\n)/,
      `$1a=candidate:1 1 udp 2130706431 127.0.0.1 ${relayPort} typ host\r\n`,
    );
    expect(answer).toContain(`a=ice-ufrag:${conn.localUsername}`);

    const reply = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply; client ${client.connectionState}`)), 15_000);
      channel.onMessage.subscribe((m) => {
        clearTimeout(timer);
        resolve(m.toString());
      });
    });
    channel.stateChanged.subscribe((s) => {
      if (s === 'open') channel.send('ping');
    });
    await client.setRemoteDescription({ type: 'answer', sdp: answer });

    expect(await reply).toBe('pong:ping');
    const s = relay.counters.snapshot();
    expect(relay.flows).toBe(1);
    expect(s.flowsOpened).toBe(1);
    expect(s.droppedPackets).toBe(0);
    // At least: a check and its answer, the DTLS handshake, SCTP setup and the two messages.
    expect(s.packetsUp).toBeGreaterThanOrEqual(5);
    expect(s.packetsDown).toBeGreaterThanOrEqual(5);
  });
});
