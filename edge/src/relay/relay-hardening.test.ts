import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createLogger } from '@parley/shared/log.js';
import { freeUdpPort } from '@parley/shared/net/free-port.js';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { encodeToken, makeKeyring, routeIdOf } from '@parley/shared/token/routing-token.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { RouteTarget } from './first-packet.js';
import { type FlowSummary, openFileLimit, type Relay, type RelayOptions, startRelay } from './relay.js';
import { sleep, UdpPeer } from './testing/udp-peer.js';

/**
 * Issue 12's relay defects, each reproduced over real loopback sockets:
 * a new call from the same client port, the flow table's bound under the
 * open-file limit, revocation of an ended session's token, and
 * closing thousands of idle flows without stalling forwarding.
 */
const log = createLogger('relay-hardening-test', 'silent');
const keyring = makeKeyring([{ id: 1, secret: randomBytes(32) }]);
const R1 = routeIdOf('tx-1');
const R2 = routeIdOf('tx-2');
const QUIET_MS = 150;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function peer(host = '127.0.0.1', recvBufferSize?: number): Promise<UdpPeer> {
  const p = await UdpPeer.bind(host, 0, recvBufferSize);
  cleanups.push(() => p.close());
  return p;
}

async function echoTransceiver(recvBufferSize?: number): Promise<UdpPeer> {
  const tx = await peer('127.0.0.1', recvBufferSize);
  tx.onMessage = (msg, rinfo, self) => self.socket.send(msg, rinfo.port, rinfo.address);
  return tx;
}

async function relayWith(
  routes: Map<string, RouteTarget>,
  over: Partial<RelayOptions> = {},
): Promise<{ relay: Relay; port: number }> {
  const port = await freeUdpPort();
  const relay = await startRelay({
    host: '127.0.0.1',
    port,
    upstreamHost: '127.0.0.1',
    keyring,
    resolveRoute: (id) => routes.get(id),
    log,
    ...over,
  });
  cleanups.push(() => relay.close());
  return { relay, port };
}

const token = (routeId = R1) =>
  encodeToken(keyring, { routeId, expiresAt: Math.floor(Date.now() / 1000) + 600 });
const check = (tok: string, client = 'Cli1') =>
  buildBindingRequest({ username: `${tok}:${client}`, password: 'x'.repeat(22) });
const rtp = (seq: number) => {
  const b = randomBytes(100);
  b[0] = 0x80;
  b[1] = 111;
  b.writeUInt16BE(seq, 2);
  return b;
};

/**
 * Sends one datagram from a fresh socket bound to `ip` (any 127.0.0.0/8
 * address works on Linux loopback). It waits a turn of the event loop
 * first: a chain of bind/send/close callbacks alone never reaches the poll
 * phase, so the relay (same process) would not read and its socket buffer
 * would overflow after ~256 datagrams.
 */
async function sendFrom(ip: string, msg: Buffer, port: number): Promise<void> {
  await new Promise((r) => setImmediate(r));
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, ip, () =>
      s.send(msg, port, '127.0.0.1', (err) => s.close(() => (err ? reject(err) : resolve()))),
    );
  });
}

/** Source IP of the i-th flood datagram: a distinct address of 127.0.0.0/8 each. */
function floodSource(i: number): string {
  return `127.10.${i >> 8}.${i & 255}`;
}

async function until(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('relay: a Binding Request with another token re-routes a known client address', () => {
  it('a new call from the same client ip:port within the idle timeout goes to its own transceiver', async () => {
    const tx1 = await echoTransceiver();
    const tx2 = await echoTransceiver();
    const routes = new Map<string, RouteTarget>([
      [R1, { address: '127.0.0.1', port: tx1.port }],
      [R2, { address: '127.0.0.1', port: tx2.port }],
    ]);
    const { relay, port } = await relayWith(routes);
    const client = await peer();

    await client.send(check(token(R1)), port);
    await tx1.waitFor(1);
    await client.waitFor(1);
    const firstUpstream = tx1.received[0]?.port;

    // Second call, same client socket: its first check names tx2's token.
    const second = check(token(R2), 'Cli2');
    await client.send(second, port);
    const [atTx2] = await tx2.waitFor(1);
    expect(atTx2?.msg.equals(second)).toBe(true);
    // A fresh upstream port, so the transceiver sees a new address for the new session.
    expect(atTx2?.port).not.toBe(firstUpstream);
    await client.send(rtp(1), port);
    await tx2.waitFor(2);
    await sleep(QUIET_MS);
    expect(tx1.received).toHaveLength(1);
    expect(relay.flows).toBe(1);
    expect(relay.counters.flowsRerouted).toBe(1);

    // A check naming a forged token on the live flow is dropped, and the flow stays where it was.
    const forged = token(R1).replace(/^(.{5})(.)/, (_, a: string, c: string) => a + (c === 'A' ? 'B' : 'A'));
    await client.send(check(forged), port);
    await client.send(rtp(2), port);
    await tx2.waitFor(3);
    await sleep(QUIET_MS);
    expect(tx1.received).toHaveLength(1);
    expect(relay.counters.drops.reroute_rejected).toBe(1);
    // Consent checks with the flow's own token are forwarded untouched.
    await client.send(second, port);
    await tx2.waitFor(4);
    expect(relay.counters.flowsRerouted).toBe(1);
  });
});

// The flood itself (25,000 sources at 5,000/s) is relay-flood.test.ts.
describe('relay: the flow table stays below the open-file limit', () => {
  it('reads the open-file limit the flow table is capped to', () => {
    expect(openFileLimit('Max open files            1024                 4096                 files\n')).toBe(
      1024,
    );
    expect(openFileLimit('Max open files            unlimited            unlimited            files\n')).toBe(
      undefined,
    );
    expect(openFileLimit()).toBeGreaterThan(0);
  });

  it('caps maxFlows below the open-file limit, so a full table refuses flows instead of hitting EMFILE', async () => {
    const { relay } = await relayWith(new Map(), { maxFlows: 10_000_000 });
    const limit = openFileLimit();
    if (limit === undefined) throw new Error('this test needs a finite RLIMIT_NOFILE');
    expect(relay.maxFlows).toBeLessThan(limit);
  });
});

describe('relay: an ended session revokes its token', () => {
  it('closes the flows of a revoked token and refuses new ones until it expires', async () => {
    const tx = await echoTransceiver();
    const routes = new Map<string, RouteTarget>([[R1, { address: '127.0.0.1', port: tx.port }]]);
    const ended: FlowSummary[] = [];
    const { relay, port } = await relayWith(routes, { onFlowEnd: (s) => ended.push(s) });
    const client = await peer();
    const tok = token();
    await client.send(check(tok), port);
    await client.waitFor(1);
    const other = await peer();
    const otherTok = token();
    await other.send(check(otherTok), port);
    await other.waitFor(1);

    expect(relay.revoke(tok)).toBe(true);
    expect(relay.flows).toBe(1);
    expect(ended.map((s) => s.reason)).toEqual(['revoked']);
    await client.send(rtp(1), port);
    await client.send(check(tok), port);
    const stranger = await peer('127.0.0.2');
    await stranger.send(check(tok), port);
    await sleep(QUIET_MS);
    expect(tx.received).toHaveLength(2);
    expect(relay.counters.drops.token_revoked).toBe(2);
    expect(relay.counters.drops.no_flow_rtp).toBe(1);
    // The other session is untouched.
    await other.send(rtp(1), port);
    await other.waitFor(2);
    // A token that does not verify revokes nothing.
    expect(relay.revoke('x'.repeat(38))).toBe(false);
  });
});

describe('relay: closing thousands of idle flows does not stall forwarding', () => {
  it('expires them in batches, forwarding a live flow in between', async () => {
    const FLOWS = 2_000;
    let now = Date.now();
    const tx = await echoTransceiver(4 * 1024 * 1024);
    const routes = new Map<string, RouteTarget>([[R1, { address: '127.0.0.1', port: tx.port }]]);
    const { relay, port } = await relayWith(routes, {
      clock: () => now,
      idleTimeoutMs: 30_000,
      sweepIntervalMs: 3_600_000,
      maxFlowsPerToken: FLOWS + 10,
      maxFlowsPerIp: FLOWS + 10,
      expireBatch: 50,
    });
    const idle = check(token());
    for (let i = 0; i < FLOWS; i++) await sendFrom(floodSource(i), idle, port);
    await until(() => relay.flows >= FLOWS - 10 && tx.received.length >= relay.flows);
    const idleFlows = relay.flows;
    const live = await peer();
    await live.send(check(token(), 'Live'), port);
    await live.waitFor(1);

    now += 30_000;
    // Refresh the live flow on the new clock, then expire everything else.
    await live.send(rtp(1), port);
    await live.waitFor(2);
    relay.tick();
    const seenDuring: number[] = [];
    for (let i = 0; i < 200 && relay.flows > 1; i++) {
      await live.send(rtp(2 + i), port);
      await live.waitFor(3 + i);
      seenDuring.push(relay.flows);
    }
    await until(() => relay.flows === 1);
    // Echoes came back while expired flows were still being closed: the sweep yielded to I/O.
    expect(seenDuring.some((n) => n > 1 && n < idleFlows + 1)).toBe(true);
    expect(relay.counters.flowsClosed).toBe(idleFlows);
  });
});
