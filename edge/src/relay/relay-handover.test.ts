import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createConnection } from 'node:net';
import { loadNativeUdp } from '@parley/native/udp';
import { createLogger } from '@parley/shared/log.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { encodeToken, parseKeyring, routeIdOf } from '@parley/shared/token/routing-token.js';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRelayConfig, type RelayConfig } from './config.js';
import { handoverSocketName, serveHandover } from './handover.js';
import { udpSocketsOn } from './relay.js';
import { type RelayProcess, startRelayProcess } from './relay-process.js';
import { sleep, UdpPeer } from './testing/udp-peer.js';

const KEYS = `1:${randomBytes(32).toString('base64')}`;
const log = createLogger('relay-handover-test', 'silent');

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/**
 * Relays as deployed (startRelayProcess) with PARLEY_RELAY_REUSE_PORT=handover. NATS is
 * unreachable on purpose: the relays forward by the transceiver address signed in each
 * token, so the test needs no discovery and no flow cache (the handover does not use them).
 */
async function relayConfig(port: number, keys = KEYS): Promise<RelayConfig> {
  return loadRelayConfig({
    PARLEY_TOKEN_KEYS: keys,
    NATS_URL: `nats://127.0.0.1:${await freeTcpPort()}`,
    PARLEY_RELAY_HOST: '127.0.0.1',
    PARLEY_RELAY_PORT: String(port),
    PARLEY_RELAY_UPSTREAM_HOST: '127.0.0.1',
    PARLEY_RELAY_TCP_PORT: '0',
    PARLEY_RELAY_FLOW_CACHE: 'off',
    PARLEY_RELAY_REUSE_PORT: 'handover',
    PARLEY_RELAY_HANDOVER_QUIET_MS: '300',
    PARLEY_RELAY_HANDOVER_MAX_MS: '5000',
  });
}

async function start(config: RelayConfig): Promise<RelayProcess> {
  const p = await startRelayProcess(config, { log });
  cleanups.push(() => p.close());
  return p;
}

async function peer(): Promise<UdpPeer> {
  const p = await UdpPeer.bind('127.0.0.1', 0, 1 << 20);
  cleanups.push(() => p.close());
  return p;
}

describe('planned relay restart (PARLEY_RELAY_REUSE_PORT=handover)', () => {
  it('a second relay takes the port and its flows over mid-stream: no datagram lost either way', async () => {
    const CLIENTS = 20;
    const PERIOD_MS = 5; // each client: 200 datagrams/s, 4,000/s in all
    const port = await freeUdpPort();
    const tx = await peer();
    tx.onMessage = (msg, rinfo, self) => self.socket.send(msg, rinfo.port, rinfo.address);
    const keyring = parseKeyring(KEYS);
    const token = () =>
      encodeToken(keyring, {
        routeId: routeIdOf('tx-handover'),
        expiresAt: Math.floor(Date.now() / 1000) + 600,
        target: { address: '127.0.0.1', port: tx.port },
      });

    const old = await start(await relayConfig(port));
    expect(old.takenOver).toBeUndefined();
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => peer()));
    await Promise.all(
      clients.map((c, i) =>
        c.send(buildBindingRequest({ username: `${token()}:c${i}`, password: 'p'.repeat(22) }), port),
      ),
    );
    await Promise.all(clients.map((c) => c.waitFor(1)));
    expect(old.relay.flows).toBe(CLIENTS);

    // A steady stream of numbered datagrams from every client, echoed by the transceiver.
    let seq = 0;
    let sending = true;
    const stream = (async () => {
      while (sending && seq < 2_000) {
        const pkt = Buffer.alloc(100);
        pkt.writeUInt32BE(seq, 0);
        for (const c of clients) c.socket.send(pkt, port, '127.0.0.1');
        seq++;
        await sleep(PERIOD_MS);
      }
    })();
    await sleep(300);

    const seqBeforeHandover = seq;
    const next = await start(await relayConfig(port));
    expect(next.takenOver).toEqual({ flowsReceived: CLIENTS, flowsOpened: CLIENTS });
    expect(udpSocketsOn('127.0.0.1', port)).toBe(2);
    const seqAtHandover = seq;
    await sleep(300);
    const oldUpAtHandover = old.relay.counters.packetsUp;
    await old.handedOver; // drained: quiet for 300 ms
    expect(old.relay.counters.packetsUp).toBe(oldUpAtHandover); // nothing new reached the old socket
    await old.close();
    expect(udpSocketsOn('127.0.0.1', port)).toBe(1);
    await sleep(200);
    // Bounded in rounds, not only in time: on a loaded machine the 5 ms sleeps stretch, and a stream
    // stopped by the clock alone may have sent too little after the handover to show anything.
    const deadline = Date.now() + 10_000;
    while (seq < seqAtHandover + 50 && Date.now() < deadline) await sleep(20);
    sending = false;
    await stream;

    const sent = seq;
    // The stream ran before the handover and well past it.
    expect(seqBeforeHandover).toBeGreaterThan(0);
    expect(sent - seqAtHandover).toBeGreaterThanOrEqual(50);
    for (const [i, c] of clients.entries()) {
      await c.waitFor(1 + sent, 3_000).catch(() => undefined);
      const got = new Set(c.received.slice(1).map((r) => r.msg.readUInt32BE(0)));
      const lost = Array.from({ length: sent }, (_, k) => k).filter((k) => !got.has(k));
      expect(lost, `client ${i} lost ${lost.length} of ${sent}`).toEqual([]);
    }
    // Both relays carried part of the stream: the handover happened mid-stream.
    expect(old.relay.counters.packetsUp).toBeGreaterThan(CLIENTS);
    expect(next.relay.counters.packetsUp).toBeGreaterThan(CLIENTS * 10);
    expect(next.relay.counters.snapshot().droppedPackets).toBe(0);

    // The successor steered the port back to its own index once alone: a third relay takes over from it too.
    const third = await start(await relayConfig(port));
    expect(third.takenOver).toEqual({ flowsReceived: CLIENTS, flowsOpened: CLIENTS });
    await next.handedOver;
  }, 30_000);

  it("a predecessor whose connection closes before its socket leaves the port: the port stays steered to the successor, not to the next joiner's index", async () => {
    const port = await freeUdpPort();
    const cfg = await relayConfig(port);
    const native = loadNativeUdp();
    if (native === undefined) throw new Error('the native UDP addon is not built (npm run build:native)');
    // A stand-in predecessor: its socket on the port (steered to itself, index 0) and its handover server.
    const predecessorUdp = new native.NativeUdpSocket({ address: '127.0.0.1', port, reusePort: true });
    let predecessorUdpOpen = true;
    cleanups.push(async () => {
      if (predecessorUdpOpen) predecessorUdp.close();
    });
    predecessorUdp.steer(0);
    const predecessor = await serveHandover(
      handoverSocketName('127.0.0.1', port),
      cfg.PARLEY_TOKEN_KEYS.signing.secret,
      { flows: () => [], steered: () => undefined, successorLost: () => undefined },
      log,
    );
    cleanups.push(() => predecessor.close());
    const next = await start(cfg);
    expect(next.takenOver).toEqual({ flowsReceived: 0, flowsOpened: 0 });
    // Its connection goes first (a slow or killed process), its socket 100 ms later.
    await predecessor.close();
    await sleep(100);
    predecessorUdp.close();
    predecessorUdpOpen = false;
    await sleep(100);
    expect(udpSocketsOn('127.0.0.1', port)).toBe(1);
    // The next process to bind the port joins the group at index 1, as a successor does before its takeover.
    const joiner = createSocket({ type: 'udp4', reusePort: true });
    let joinerGot = 0;
    joiner.on('message', () => joinerGot++);
    await new Promise<void>((r) => joiner.bind(port, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => joiner.close(() => r())));
    const client = await peer();
    const SENT = 20;
    for (let i = 0; i < SENT; i++) await client.send(Buffer.from([0x80, 0, 0, i]), port);
    const deadline = Date.now() + 2_000;
    while (next.relay.counters.snapshot().droppedPackets + joinerGot < SENT && Date.now() < deadline)
      await sleep(10);
    // Every datagram reached the port's owner (which has no flow for this client, so it drops them).
    expect(joinerGot).toBe(0);
    expect(next.relay.counters.snapshot().droppedPackets).toBe(SENT);
  }, 20_000);

  it('a successor that goes away before the old relay stopped: the old one takes the port back and keeps forwarding', async () => {
    const port = await freeUdpPort();
    const tx = await peer();
    tx.onMessage = (msg, rinfo, self) => self.socket.send(msg, rinfo.port, rinfo.address);
    const token = encodeToken(parseKeyring(KEYS), {
      routeId: routeIdOf('tx-handover'),
      expiresAt: Math.floor(Date.now() / 1000) + 600,
      target: { address: '127.0.0.1', port: tx.port },
    });
    const cfg = await relayConfig(port);
    // A long quiet time: the old relay is still draining when its successor dies.
    const old = await start({ ...cfg, PARLEY_RELAY_HANDOVER_QUIET_MS: 5_000 });
    const client = await peer();
    await client.send(buildBindingRequest({ username: `${token}:c`, password: 'p'.repeat(22) }), port);
    await client.waitFor(1);
    const next = await start(cfg);
    expect(next.takenOver).toEqual({ flowsReceived: 1, flowsOpened: 1 });
    await client.send(Buffer.from('via the successor'), port);
    await client.waitFor(2);
    expect(next.relay.counters.packetsUp).toBe(1);
    await next.close(); // as if it crashed: its socket and its handover connection go
    const oldUp = old.relay.counters.packetsUp;
    await sleep(100);
    await client.send(Buffer.from('back on the old relay'), port);
    await client.waitFor(3);
    expect(old.relay.counters.packetsUp).toBe(oldUp + 1);
    expect(client.received[2]?.msg.toString()).toBe('back on the old relay');
    // It did not stop, and it hands over again to the next successor.
    const settled = await Promise.race([
      old.handedOver.then(() => 'handed over'),
      sleep(300).then(() => 'serving'),
    ]);
    expect(settled).toBe('serving');
    const third = await start(cfg);
    expect(third.takenOver).toEqual({ flowsReceived: 1, flowsOpened: 1 });
  }, 20_000);

  it('a peer without the signing key gets no flow table and cannot make the relay hand over', async () => {
    const port = await freeUdpPort();
    const relay = await start(await relayConfig(port));
    const name = handoverSocketName('127.0.0.1', port);
    const lines: string[] = [];
    const sock = createConnection(name);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => lines.push(...d.split('\n').filter(Boolean)));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    await sleep(50);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ t: 'challenge' });
    sock.write(`${JSON.stringify({ t: 'hello', proof: '0'.repeat(64), nonce: 'a'.repeat(64) })}\n`);
    sock.write(`${JSON.stringify({ t: 'steered' })}\n`);
    await closed;
    expect(lines).toHaveLength(1); // the challenge only
    // A relay with another key is refused the same way and fails to start.
    await expect(
      startRelayProcess(await relayConfig(port, `1:${randomBytes(32).toString('base64')}`), { log }),
    ).rejects.toThrow(/closed the handover|did not prove/);
    const settled = await Promise.race([
      relay.handedOver.then(() => 'handed over'),
      sleep(300).then(() => 'serving'),
    ]);
    expect(settled).toBe('serving');
  });
});
