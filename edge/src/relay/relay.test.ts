import { randomBytes } from 'node:crypto';
import { createLogger } from '@parley/shared/log.js';
import { freeUdpPort } from '@parley/shared/net/free-port.js';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import {
  encodeToken,
  makeKeyring,
  routeIdOf,
  type TokenKeyring,
} from '@parley/shared/token/routing-token.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RouteTarget } from './first-packet.js';
import { type Relay, type RelayIo, type RelayOptions, startRelay, udpSocketsOn } from './relay.js';
import { sleep, UdpPeer } from './testing/udp-peer.js';
import { encodeV1Token } from './testing/v1-token.js';

const log = createLogger('relay-test', 'silent');
const keyring = makeKeyring([{ id: 1, secret: randomBytes(32) }]);
const ROUTE = routeIdOf('tx-1');
/** How long "nothing arrives" is given to be wrong; loopback delivers in well under a millisecond. */
const QUIET_MS = 150;

/** Both UDP I/O paths run every test: the native addon (recvmmsg/sendmmsg) and portable node:dgram. */
const IO_PATHS = ['native', 'dgram'] as const satisfies readonly RelayIo[];
let io: RelayIo = 'native';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function peer(recvBufferSize?: number): Promise<UdpPeer> {
  const p = await UdpPeer.bind('127.0.0.1', 0, recvBufferSize);
  cleanups.push(() => p.close());
  return p;
}

/** A stand-in transceiver that echoes every datagram back to where it came from. */
async function echoTransceiver(recvBufferSize?: number): Promise<UdpPeer> {
  const tx = await peer(recvBufferSize);
  tx.onMessage = (msg, rinfo, self) => self.socket.send(msg, rinfo.port, rinfo.address);
  return tx;
}

async function relayFor(
  tx: UdpPeer,
  over: Partial<RelayOptions> = {},
): Promise<{ relay: Relay; port: number; routes: Map<string, RouteTarget> }> {
  const routes = new Map<string, RouteTarget>([[ROUTE, { address: '127.0.0.1', port: tx.port }]]);
  const port = over.port ?? (await freeUdpPort());
  const relay = await startRelay({
    host: '127.0.0.1',
    port,
    upstreamHost: '127.0.0.1',
    keyring,
    resolveRoute: (id) => routes.get(id),
    log,
    io,
    ...over,
  });
  cleanups.push(() => relay.close());
  expect(relay.io).toBe(over.io ?? io);
  return { relay, port, routes };
}

function bindingRequest(
  opts: { kr?: TokenKeyring; expiresAt?: number; client?: string; token?: string } = {},
) {
  const token =
    opts.token ??
    encodeToken(opts.kr ?? keyring, {
      routeId: ROUTE,
      expiresAt: opts.expiresAt ?? Math.floor(Date.now() / 1000) + 600,
    });
  return buildBindingRequest({ username: `${token}:${opts.client ?? 'Cli1'}`, password: 'x'.repeat(22) });
}

const dtls = (n: number) => Buffer.concat([Buffer.from([22, 0xfe, 0xfd]), randomBytes(n - 3)]);
const rtp = (n: number) => Buffer.concat([Buffer.from([0x80, 0x6f]), randomBytes(n - 2)]);

describe.each(IO_PATHS)('relay over real UDP sockets (%s I/O)', (path) => {
  beforeAll(() => {
    io = path;
  });

  it('opens a flow on a valid Binding Request and forwards both ways, counting exactly', async () => {
    const tx = await peer();
    const { relay, port } = await relayFor(tx);
    const client = await peer();

    const br = bindingRequest();
    await client.send(br, port);
    const [first] = await tx.waitFor(1);
    expect(first?.msg.equals(br)).toBe(true);
    expect(first?.address).toBe('127.0.0.1');
    // From the flow's own ephemeral socket, not the public port: NAT style.
    expect(first?.port).not.toBe(port);
    const upstreamPort = first?.port as number;
    expect(relay.flows).toBe(1);

    // The transceiver answers to the relay's upstream socket; the client hears it from the public port.
    const answer = Buffer.from('0101000c2112a442000000000000000000000000802a000800000000000000ff', 'hex');
    await tx.send(answer, upstreamPort);
    const [reply] = await client.waitFor(1);
    expect(reply?.msg.equals(answer)).toBe(true);
    expect(reply?.port).toBe(port);

    // Everything after is forwarded undecoded, whatever it looks like (0xff is no known protocol).
    const up = [dtls(180), rtp(160), rtp(120), Buffer.from([0xff, 1, 2, 3])];
    const down = [dtls(1100), rtp(160), rtp(90)];
    for (const m of up) await client.send(m, port);
    for (const m of down) await tx.send(m, upstreamPort);
    const atTx = await tx.waitFor(1 + up.length);
    const atClient = await client.waitFor(1 + down.length);
    expect(atTx.slice(1).map((r) => r.msg.toString('hex'))).toEqual(up.map((m) => m.toString('hex')));
    expect(atTx.every((r) => r.port === upstreamPort)).toBe(true);
    expect(atClient.slice(1).map((r) => r.msg.toString('hex'))).toEqual(down.map((m) => m.toString('hex')));
    expect(atClient.every((r) => r.port === port)).toBe(true);

    const sum = (ms: Buffer[]) => ms.reduce((n, m) => n + m.length, 0);
    const s = relay.counters.snapshot();
    expect(s).toMatchObject({
      packetsUp: 1 + up.length,
      bytesUp: br.length + sum(up),
      packetsDown: 1 + down.length,
      bytesDown: answer.length + sum(down),
      flowsOpened: 1,
      flowsClosed: 0,
      flowsOpen: 1,
      droppedPackets: 0,
      sendErrors: 0,
      socketErrors: 0,
    });
  });

  it('drops a forged token, and anything else from unknown sources, counting each reason', async () => {
    const tx = await peer();
    const { relay, port } = await relayFor(tx);
    const client = await peer();
    const stranger = makeKeyring([{ id: 1, secret: randomBytes(32) }]);

    await client.send(bindingRequest({ kr: stranger }), port);
    await client.send(bindingRequest({ expiresAt: Math.floor(Date.now() / 1000) - 1 }), port);
    // A signed version 1 token aiming at another port of the transceiver's host: not routed anywhere.
    const v1 = encodeV1Token(keyring.signing, {
      routeId: ROUTE,
      port: tx.port + 1,
      expiresAt: Math.floor(Date.now() / 1000) + 600,
    });
    await client.send(bindingRequest({ token: v1 }), port);
    await client.send(rtp(160), port);
    await client.send(dtls(100), port);
    await sleep(QUIET_MS);
    expect(tx.received).toHaveLength(0);
    expect(relay.flows).toBe(0);
    const s = relay.counters.snapshot();
    expect(s.drops).toMatchObject({
      token_bad_signature: 1,
      token_expired: 1,
      token_version: 1,
      no_flow_rtp: 1,
      no_flow_dtls: 1,
    });
    expect(s.droppedPackets).toBe(5);
    expect(s.packetsUp).toBe(0);
    expect(s.flowsOpened).toBe(0);

    // Positive control: the same client with a good token gets through.
    await client.send(bindingRequest(), port);
    await tx.waitFor(1);
    expect(relay.flows).toBe(1);
  });

  it('drops datagrams reaching a flow upstream socket from anyone but its transceiver', async () => {
    const tx = await peer();
    const { relay, port } = await relayFor(tx);
    const client = await peer();
    await client.send(bindingRequest(), port);
    const [first] = await tx.waitFor(1);
    const upstreamPort = first?.port as number;

    const outsider = await peer();
    const sameHostOtherPort = await peer(); // same IP as the transceiver, different port
    await outsider.send(rtp(100), upstreamPort);
    await sameHostOtherPort.send(rtp(100), upstreamPort);
    await sleep(QUIET_MS);
    expect(client.received).toHaveLength(0);
    expect(relay.counters.drops.upstream_foreign_source).toBe(2);
    expect(relay.counters.packetsDown).toBe(0);

    await tx.send(rtp(100), upstreamPort);
    await client.waitFor(1);
    expect(relay.counters.packetsDown).toBe(1);
  });

  it('expires an idle flow on sweep (injected clock): its socket closes and a new check rebuilds it', async () => {
    let now = Date.now();
    const tx = await echoTransceiver();
    const { relay, port } = await relayFor(tx, {
      clock: () => now,
      idleTimeoutMs: 10_000,
      sweepIntervalMs: 60_000,
    });
    const client = await peer();
    await client.send(bindingRequest(), port);
    const [first] = await tx.waitFor(1);
    await client.waitFor(1);
    const oldUpstream = first?.port as number;

    // Traffic either way keeps the flow alive: 6 s idle, a reply, 6 s more.
    now += 6_000;
    await tx.send(rtp(100), oldUpstream);
    await client.waitFor(2);
    now += 6_000;
    expect(relay.sweep()).toBe(0);
    expect(relay.flows).toBe(1);

    now += 10_000;
    expect(relay.sweep()).toBe(1);
    expect(relay.flows).toBe(0);
    expect(relay.counters.snapshot()).toMatchObject({ flowsOpened: 1, flowsClosed: 1, flowsOpen: 0 });

    // The upstream socket is gone: the transceiver's packets no longer reach the client,
    // and the client's media is unknown again until its next consent check.
    await tx.send(rtp(100), oldUpstream);
    await client.send(rtp(100), port);
    await sleep(QUIET_MS);
    expect(client.received).toHaveLength(2);
    expect(relay.counters.drops.no_flow_rtp).toBe(1);

    await client.send(bindingRequest(), port);
    await client.waitFor(3);
    expect(relay.flows).toBe(1);
    expect(relay.counters.flowsOpened).toBe(2);
  });

  it('expires idle flows on its own timer', async () => {
    const tx = await echoTransceiver();
    const { relay, port } = await relayFor(tx, { idleTimeoutMs: 100 });
    const client = await peer();
    await client.send(bindingRequest(), port);
    await client.waitFor(1);
    expect(relay.flows).toBe(1);
    const deadline = Date.now() + 2_000;
    while (relay.flows > 0 && Date.now() < deadline) await sleep(20);
    expect(relay.flows).toBe(0);
    expect(relay.counters.flowsClosed).toBe(1);
  });

  it('rebuilds a flow after a relay restart on the same port from the next Binding Request', async () => {
    const tx = await echoTransceiver();
    const first = await relayFor(tx);
    const client = await peer();
    await client.send(bindingRequest(), first.port);
    await client.waitFor(1);
    await client.send(rtp(100), first.port);
    await client.waitFor(2);
    await first.relay.close();
    expect(first.relay.counters.flowsClosed).toBe(1);

    const second = await relayFor(tx, { port: first.port });
    // Media arriving before the client's next consent check is dropped: no state survived.
    await client.send(rtp(100), first.port);
    await sleep(QUIET_MS);
    expect(client.received).toHaveLength(2);
    expect(second.relay.counters.drops.no_flow_rtp).toBe(1);

    // The consent check (same ufrag, so same token) rebuilds the flow; media resumes.
    await client.send(bindingRequest(), first.port);
    await client.waitFor(3);
    await client.send(rtp(100), first.port);
    await client.waitFor(4);
    expect(client.received.every((r) => r.port === first.port)).toBe(true);
    expect(second.relay.counters.snapshot()).toMatchObject({ flowsOpened: 1, packetsUp: 2, packetsDown: 2 });
  });

  it('refuses new flows beyond maxFlows', async () => {
    const tx = await echoTransceiver();
    const { relay, port } = await relayFor(tx, { maxFlows: 2 });
    const clients = [await peer(), await peer(), await peer()];
    for (const c of clients) await c.send(bindingRequest(), port);
    await tx.waitFor(2);
    await sleep(QUIET_MS);
    expect(tx.received).toHaveLength(2);
    expect(relay.flows).toBe(2);
    expect(relay.counters.drops.flow_table_full).toBe(1);
    expect(clients[2]?.received).toHaveLength(0);
  });

  it('rate-limits token checks per source IP, per second', async () => {
    let now = Date.now();
    const tx = await echoTransceiver();
    const { relay, port } = await relayFor(tx, { clock: () => now, newFlowsPerIpPerSecond: 3 });
    const stranger = makeKeyring([{ id: 1, secret: randomBytes(32) }]);
    const client = await peer();
    for (let i = 0; i < 5; i++) await client.send(bindingRequest({ kr: stranger }), port);
    await client.send(bindingRequest(), port);
    await sleep(QUIET_MS);
    expect(relay.counters.drops.token_bad_signature).toBe(3);
    expect(relay.counters.drops.rate_limited).toBe(3);
    expect(tx.received).toHaveLength(0);
    now += 1_000;
    await client.send(bindingRequest(), port);
    await tx.waitFor(1);
    expect(relay.flows).toBe(1);
  });

  it('survives an upstream bind failure: counted, flow closed, relay keeps working', async () => {
    const tx = await echoTransceiver();
    // 203.0.113.0/24 (TEST-NET-3) is on no interface here, so bind() fails with EADDRNOTAVAIL.
    const { relay, port } = await relayFor(tx, { upstreamHost: '203.0.113.9' });
    const client = await peer();
    await client.send(bindingRequest(), port);
    const deadline = Date.now() + 2_000;
    while ((relay.flows > 0 || relay.counters.flowsOpened === 0) && Date.now() < deadline) await sleep(10);
    expect(relay.counters.flowsOpened).toBe(1);
    expect(relay.flows).toBe(0);
    expect(relay.counters.flowsClosed).toBe(1);
    // Counted against that flow (EADDRNOTAVAIL here, EMFILE in a flood), not as a relay failure.
    expect(relay.counters.drops.upstream_bind_failed).toBe(1);
    expect(tx.received).toHaveLength(0);
    await client.send(rtp(50), port);
    await sleep(50);
    expect(relay.counters.drops.no_flow_rtp).toBe(1);
  });

  it('fails to start, without leaking, when the public port is taken', async () => {
    const squatter = await peer();
    const tx = await peer();
    await expect(relayFor(tx, { port: squatter.port })).rejects.toThrow(/EADDRINUSE/);
  });

  it('a datagram over 2048 bytes: forwarded on node:dgram; dropped and counted on native I/O', async () => {
    const tx = await echoTransceiver();
    const { relay, port } = await relayFor(tx);
    const client = await peer();
    await client.send(bindingRequest(), port);
    await client.waitFor(1);
    await client.send(rtp(3_000), port);
    await client.send(rtp(100), port);
    await tx.waitFor(io === 'native' ? 2 : 3);
    await sleep(QUIET_MS);
    relay.tick();
    const lengths = tx.received.slice(1).map((r) => r.msg.length);
    if (io === 'native') {
      expect(lengths).toEqual([100]);
      expect(relay.counters.drops.datagram_too_large).toBe(1);
    } else {
      expect(lengths).toEqual([3_000, 100]);
      expect(relay.counters.drops.datagram_too_large).toBe(0);
    }
  });

  it('carries a burst of 2,000 packets over 50 flows with zero loss', async () => {
    const FLOWS = 50;
    const PER_FLOW = 40;
    const BATCH = 10; // packets per flow in flight at once: 500 in flight in total
    const tx = await echoTransceiver(4 * 1024 * 1024);
    const { relay, port } = await relayFor(tx);
    const clients = await Promise.all(Array.from({ length: FLOWS }, () => peer(1024 * 1024)));
    await Promise.all(clients.map((c, i) => c.send(bindingRequest({ client: `Cl${i}x` }), port)));
    await Promise.all(clients.map((c) => c.waitFor(1)));
    expect(relay.flows).toBe(FLOWS);

    const t0 = performance.now();
    for (let sent = 0; sent < PER_FLOW; sent += BATCH) {
      for (const [i, c] of clients.entries()) {
        for (let k = sent; k < sent + BATCH; k++) {
          const pkt = rtp(160);
          pkt.writeUInt16BE(i, 2);
          pkt.writeUInt16BE(k, 4);
          c.socket.send(pkt, port, '127.0.0.1');
        }
      }
      await Promise.all(clients.map((c) => c.waitFor(1 + sent + BATCH, 5_000)));
    }
    const elapsedMs = performance.now() - t0;

    for (const [i, c] of clients.entries()) {
      const media = c.received.slice(1).map((r) => [r.msg.readUInt16BE(2), r.msg.readUInt16BE(4)]);
      expect(media).toHaveLength(PER_FLOW);
      expect(new Set(media.map(([, k]) => k)).size).toBe(PER_FLOW);
      expect(media.every(([flow]) => flow === i)).toBe(true);
    }
    const total = FLOWS * PER_FLOW;
    const s = relay.counters.snapshot();
    expect(s.packetsUp).toBe(FLOWS + total);
    expect(s.packetsDown).toBe(FLOWS + total);
    expect(s.droppedPackets).toBe(0);
    expect(s.sendErrors).toBe(0);
    // Not a benchmark: a sanity bound that catches a relay gone pathologically slow.
    expect(elapsedMs).toBeLessThan(10_000);
    console.info(`relay burst: ${2 * total} relayed datagrams in ${elapsedMs.toFixed(0)} ms`);
  });
});

describe('udpSocketsOn (/proc/net/udp)', () => {
  const table = [
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
    ' 2500: 0100007F:0D96 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 399200 2 0000000064fff644 0',
    ' 2501: 0100007F:0D96 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 399201 2 0000000064fff645 0',
    ' 2502: 00000000:0D96 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 399202 2 0000000064fff646 0',
    ' 3036: 0165E80A:0D97 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 397324 2 000000001dc66961 0',
  ].join('\n');

  it('counts the sockets bound to exactly that address and port (little-endian hex as the kernel prints it)', () => {
    expect(udpSocketsOn('127.0.0.1', 3478, table)).toBe(2);
    expect(udpSocketsOn('0.0.0.0', 3478, table)).toBe(1);
    expect(udpSocketsOn('10.232.101.1', 3479, table)).toBe(1);
    expect(udpSocketsOn('127.0.0.1', 3479, table)).toBe(0);
  });

  it('sees a real socket bound here', async () => {
    const p = await peer();
    expect(udpSocketsOn('127.0.0.1', p.port)).toBe(1);
  });
});
