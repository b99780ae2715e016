import { randomBytes } from 'node:crypto';
import { createLogger } from '@parley/shared/log.js';
import { freeUdpPort } from '@parley/shared/net/free-port.js';
import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { encodeToken, makeKeyring, routeIdOf } from '@parley/shared/token/routing-token.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FlowSummary, type RelayIo, startRelay } from './relay.js';
import { sleep, UdpPeer } from './testing/udp-peer.js';

/**
 * Issue 11 item 4: the relay's per-leg figures against what the sender and
 * receiver counted. The client sends 300 RTP packets every 5 ms (timestamps
 * +240 at 48 kHz) and skips every 10th and swaps two pairs; the stand-in
 * transceiver echoes what arrives but drops every 7th echo. Bounds: loss
 * and reordering exact (loopback loses nothing), jitter within 1.5 ms of the
 * receiver's own RFC 3550 estimate (both see the same timer-paced stream;
 * the difference is the relay's own forwarding delay variation).
 */
const keyring = makeKeyring([{ id: 1, secret: randomBytes(32) }]);
/** Each case runs on both UDP I/O paths: the native addon (recvmmsg/sendmmsg) and node:dgram. */
const IO_PATHS = ['native', 'dgram'] as const satisfies readonly RelayIo[];
let io: RelayIo = 'native';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function rtp(seq: number, ts: number): Buffer {
  const b = Buffer.alloc(80);
  b[0] = 0x80;
  b[1] = 111;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(0xcafe, 8);
  return b;
}

/** RFC 3550 A.8 in floating point, at the receiver, from its own arrival times. */
function receiverJitterMs(arrivals: { ms: number; ts: number }[]): number {
  let j = 0;
  for (let i = 1; i < arrivals.length; i++) {
    const a = arrivals[i] as { ms: number; ts: number };
    const b = arrivals[i - 1] as { ms: number; ts: number };
    const d = (a.ms - b.ms) * 48 - (a.ts - b.ts);
    j += (Math.abs(d) - j) / 16;
  }
  return j / 48;
}

describe.each(IO_PATHS)('relay per-leg quality against the endpoints (%s I/O)', (path) => {
  beforeAll(() => {
    io = path;
  });

  it('reports the loss, reordering and jitter the sender caused and the receiver saw', async () => {
    let now = Date.now();
    const tx = await UdpPeer.bind();
    const client = await UdpPeer.bind();
    cleanups.push(
      () => tx.close(),
      () => client.close(),
    );
    const txArrivals: { ms: number; ts: number; seq: number }[] = [];
    let echoed = 0;
    tx.onMessage = (msg, rinfo, self) => {
      if (msg[0] !== 0x80) {
        self.socket.send(msg, rinfo.port, rinfo.address);
        return;
      }
      txArrivals.push({ ms: performance.now(), ts: msg.readUInt32BE(4), seq: msg.readUInt16BE(2) });
      // The transceiver leg's loss: every 7th echo is not sent.
      if (++echoed % 7 !== 0) self.socket.send(msg, rinfo.port, rinfo.address);
    };
    const port = await freeUdpPort();
    const ended: FlowSummary[] = [];
    const relay = await startRelay({
      host: '127.0.0.1',
      port,
      upstreamHost: '127.0.0.1',
      keyring,
      resolveRoute: () => ({ address: '127.0.0.1', port: tx.port }),
      clock: () => now,
      sweepIntervalMs: 3_600_000,
      log: createLogger('quality-test', 'silent'),
      onFlowEnd: (s) => ended.push(s),
      io,
    });
    cleanups.push(() => relay.close());
    const tok = encodeToken(keyring, {
      routeId: routeIdOf('tx'),
      expiresAt: Math.floor(Date.now() / 1000) + 600,
    });
    await client.send(buildBindingRequest({ username: `${tok}:Cli1`, password: 'x'.repeat(22) }), port);
    await client.waitFor(1);

    const N = 300;
    const order: number[] = [];
    for (let s = 0; s < N; s++) if (s % 10 !== 9) order.push(s);
    // Two swaps: 101 before 100, 201 before 200.
    for (const a of [100, 200]) {
      const i = order.indexOf(a);
      [order[i], order[i + 1]] = [order[i + 1] as number, order[i] as number];
    }
    const sentDropped = N - order.length;
    for (const s of order) {
      await client.send(rtp(s, 1_000 + s * 240), port);
      await sleep(5);
    }
    await sleep(100);

    // What the receiver (stand-in transceiver) counted on the client leg.
    const seqs = txArrivals.map((a) => a.seq);
    const maxSeq = Math.max(...seqs);
    const receiverLost = maxSeq + 1 - new Set(seqs).size;
    let receiverReordered = 0;
    let highest = -1;
    for (const s of seqs) {
      if (s < highest) receiverReordered++;
      else highest = s;
    }
    // What the client counted on the way back.
    const backSeqs = client.received.slice(1).map((r) => r.msg.readUInt16BE(2));
    const backLost = Math.max(...backSeqs) - Math.min(...backSeqs) + 1 - new Set(backSeqs).size;

    now += 31_000;
    relay.sweep();
    expect(ended).toHaveLength(1);
    const s = ended[0] as FlowSummary;
    expect(receiverLost).toBe(sentDropped - (maxSeq === N - 1 ? 0 : 1));
    expect(s.rtpUp).toMatchObject({
      packets: order.length,
      lost: receiverLost,
      reordered: receiverReordered,
    });
    expect(s.rtpUp.reordered).toBe(2);
    expect(s.rtpDown.lost).toBe(backLost);
    expect(s.rtpDown.packets).toBe(backSeqs.length);
    const rxJitter = receiverJitterMs(txArrivals);
    expect(Math.abs(s.rtpUp.jitterMs - rxJitter)).toBeLessThan(1.5);
    // Timer pacing on a shared machine is never perfect: the figure is a measurement, not zero.
    expect(s.rtpUp.jitterMs).toBeGreaterThan(0);
    expect(s.session).toHaveLength(24);
  });
});
