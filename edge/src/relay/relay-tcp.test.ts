import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { createLogger } from '@parley/shared/log.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { encodeToken, makeKeyring, routeIdOf } from '@parley/shared/token/routing-token.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RouteTarget } from './first-packet.js';
import { type FlowSummary, type Relay, type RelayIo, type RelayOptions, startRelay } from './relay.js';
import { encodeFrame, Rfc4571Deframer } from './rfc4571-framing.js';
import type { TcpListenerOptions } from './tcp-listener.js';
import { sleep, UdpPeer } from './testing/udp-peer.js';

/** ICE-TCP passive on the relay (RFC 6544, RFC 4571 framing) over real loopback TCP and UDP. */
const log = createLogger('relay-tcp-test', 'silent');
const keyring = makeKeyring([{ id: 1, secret: randomBytes(32) }]);
const R1 = routeIdOf('tx-1');

/** Each case runs on both UDP I/O paths: the native addon (recvmmsg/sendmmsg) and node:dgram. */
const IO_PATHS = ['native', 'dgram'] as const satisfies readonly RelayIo[];
let io: RelayIo = 'native';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const token = () => encodeToken(keyring, { routeId: R1, expiresAt: Math.floor(Date.now() / 1000) + 600 });
const check = (tok = token(), client = 'Cli1') =>
  buildBindingRequest({ username: `${tok}:${client}`, password: 'x'.repeat(22) });
const rtp = (seq: number) => {
  const b = randomBytes(120);
  b[0] = 0x80;
  b[1] = 111;
  b.writeUInt16BE(seq, 2);
  return b;
};

async function setup(tcp: Partial<TcpListenerOptions> = {}, over: Partial<RelayOptions> = {}) {
  const tx = await UdpPeer.bind();
  cleanups.push(() => tx.close());
  tx.onMessage = (msg, rinfo, self) => self.socket.send(msg, rinfo.port, rinfo.address);
  const routes = new Map<string, RouteTarget>([[R1, { address: '127.0.0.1', port: tx.port }]]);
  const ended: FlowSummary[] = [];
  const relay: Relay = await startRelay({
    host: '127.0.0.1',
    port: await freeUdpPort(),
    upstreamHost: '127.0.0.1',
    keyring,
    resolveRoute: (id) => routes.get(id),
    log,
    onFlowEnd: (s) => ended.push(s),
    tcp: { host: '127.0.0.1', port: await freeTcpPort(), ...tcp },
    io,
    ...over,
  });
  cleanups.push(() => relay.close());
  const tcpPort = relay.tcpAddress()?.port as number;
  return { tx, relay, tcpPort, ended };
}

/** A TCP client that records the frames it receives and whether the relay closed it. */
async function client(port: number) {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const frames: Buffer[] = [];
  const deframer = new Rfc4571Deframer(0xffff);
  let closed = false;
  socket.on('data', (c: Buffer) => deframer.push(c, (f) => frames.push(Buffer.from(f))));
  socket.on('close', () => {
    closed = true;
  });
  socket.on('error', () => undefined);
  cleanups.push(async () => socket.destroy());
  return {
    socket,
    frames,
    get closed() {
      return closed;
    },
    send: (packet: Buffer) => socket.write(encodeFrame(packet)),
    waitFrames: async (n: number, ms = 2_000) => {
      const deadline = Date.now() + ms;
      while (frames.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} frames, got ${frames.length}`);
        await sleep(5);
      }
      return frames;
    },
    waitClosed: async (ms = 3_000) => {
      const deadline = Date.now() + ms;
      while (!closed) {
        if (Date.now() > deadline) throw new Error('connection still open');
        await sleep(5);
      }
    },
  };
}

describe.each(IO_PATHS)('relay ICE-TCP (RFC 6544 passive, RFC 4571 framing) (%s I/O)', (path) => {
  beforeAll(() => {
    io = path;
  });

  it('opens a flow from the first framed Binding Request and carries frames as UDP datagrams both ways', async () => {
    const { tx, relay, tcpPort, ended } = await setup();
    const c = await client(tcpPort);
    const br = check();
    c.send(br);
    const [atTx] = await tx.waitFor(1);
    expect(atTx?.msg.equals(br)).toBe(true);
    const [back] = await c.waitFrames(1);
    expect(back?.equals(br)).toBe(true);
    // Several frames in one TCP segment, and one frame split over two writes.
    const packets = [rtp(1), rtp(2), rtp(3)];
    c.socket.write(Buffer.concat(packets.map(encodeFrame)));
    const split = encodeFrame(rtp(4));
    c.socket.write(split.subarray(0, 5));
    await sleep(20);
    c.socket.write(split.subarray(5));
    await tx.waitFor(5);
    await c.waitFrames(5);
    expect(tx.received.slice(1, 4).map((r) => r.msg.toString('hex'))).toEqual(
      packets.map((p) => p.toString('hex')),
    );
    expect(relay.flows).toBe(1);
    expect(relay.tcpCounters.established).toBe(1);
    // The transceiver sees one upstream UDP port for the whole connection.
    expect(new Set(tx.received.map((r) => r.port)).size).toBe(1);

    c.socket.end();
    await c.waitClosed();
    const deadline = Date.now() + 2_000;
    while (relay.flows > 0 && Date.now() < deadline) await sleep(5);
    expect(relay.flows).toBe(0);
    expect(ended[0]).toMatchObject({ transport: 'tcp', reason: 'connection_closed' });
    expect(ended[0]?.rtpUp.packets).toBe(4);
  });

  it('closes a connection whose first frame is not a Binding Request with a valid token', async () => {
    const { tx, relay, tcpPort } = await setup();
    const forged = check(
      token().replace(/^(.{5})(.)/, (_, a: string, ch: string) => a + (ch === 'A' ? 'B' : 'A')),
    );
    for (const first of [forged, rtp(1), Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]) {
      const c = await client(tcpPort);
      c.send(first);
      await c.waitClosed();
    }
    expect(tx.received).toHaveLength(0);
    expect(relay.tcpCounters.closed.first_frame_rejected).toBe(3);
    expect(relay.counters.drops.token_bad_signature).toBe(1);
    expect(relay.flows).toBe(0);
  });

  it('slowloris: a connection that trickles a length prefix and bytes is closed at the handshake deadline', async () => {
    const { relay, tcpPort } = await setup({ handshakeTimeoutMs: 300, maxFrameBytes: 4096 });
    const c = await client(tcpPort);
    const t0 = Date.now();
    c.socket.write(Buffer.from([0x10]));
    for (let i = 0; i < 20 && !c.closed; i++) {
      await sleep(40);
      c.socket.write(Buffer.from([0x00]));
    }
    await c.waitClosed();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(relay.tcpCounters.closed.handshake_timeout).toBe(1);
  });

  it('closes on a length prefix above the frame bound (a 64 KiB frame), and on truncation it just waits', async () => {
    const { relay, tcpPort } = await setup({ maxFrameBytes: 4096 });
    const big = await client(tcpPort);
    big.socket.write(Buffer.from([0xff, 0xff]));
    big.socket.write(Buffer.alloc(1000));
    await big.waitClosed();
    expect(relay.tcpCounters.closed.frame_too_large).toBe(1);
    // A valid flow still works alongside.
    const ok = await client(tcpPort);
    ok.send(check());
    await ok.waitFrames(1);
    expect(ok.closed).toBe(false);
  });

  it('limits connections per source IP and closes idle ones', async () => {
    const { relay, tcpPort } = await setup({
      maxConnectionsPerIp: 3,
      idleTimeoutMs: 400,
      handshakeTimeoutMs: 5_000,
    });
    const cs = [await client(tcpPort), await client(tcpPort), await client(tcpPort)];
    const fourth = await client(tcpPort);
    await fourth.waitClosed();
    expect(relay.tcpCounters.closed.ip_limit).toBe(1);
    // The first three go idle (no bytes at all) and are closed by the idle timer.
    for (const c of cs) await c.waitClosed();
    expect(relay.tcpCounters.closed.idle_timeout).toBe(3);
    // Slots are free again.
    const again = await client(tcpPort);
    again.send(check());
    await again.waitFrames(1);
  });

  it('closes the connection when its session is revoked', async () => {
    const { relay, tcpPort } = await setup();
    const tok = token();
    const c = await client(tcpPort);
    c.send(check(tok));
    await c.waitFrames(1);
    expect(relay.revoke(tok)).toBe(true);
    await c.waitClosed();
    expect(relay.tcpCounters.closed.flow_closed).toBe(1);
    expect(relay.flows).toBe(0);
  });

  it('bounded fuzz (seeded): random streams never crash the relay, and a real flow keeps working', async () => {
    const { relay, tcpPort } = await setup({ handshakeTimeoutMs: 500, maxFrameBytes: 2048 });
    let seed = 0x6544;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const good = await client(tcpPort);
    good.send(check());
    await good.waitFrames(1);
    for (let i = 0; i < 60; i++) {
      const c = await client(tcpPort);
      const n = Math.floor(next() * 3000);
      const junk = Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256)));
      if (i % 3 === 0) junk.writeUInt16BE(Math.floor(next() * 0xffff), 0);
      c.socket.write(junk);
      if (i % 4 === 0) c.socket.destroy();
    }
    good.send(rtp(9));
    await good.waitFrames(2);
    const deadline = Date.now() + 3_000;
    while (relay.tcpCounters.accepted - 1 > sumClosed(relay) && Date.now() < deadline) await sleep(20);
    expect(relay.flows).toBe(1);
    expect(good.closed).toBe(false);
  });
});

function sumClosed(relay: Relay): number {
  return Object.values(relay.tcpCounters.closed).reduce((a, b) => a + b, 0);
}
