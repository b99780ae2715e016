import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { recordProbeArrivals, sendProbes } from '@parley/loadtest/call/probe-stream.js';
import { decodeJson, encodeJson } from '@parley/shared/nats/codec.js';
import { SessionInfoReply } from '@parley/shared/nats/schemas.js';
import { sessionStateSubject } from '@parley/shared/nats/subjects.js';
import { opusOnlyCodecs } from '@parley/shared/webrtc/opus-codecs.js';
import { MediaStreamTrack, RTCPeerConnection } from '@parley/shared/webrtc/werift-client.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, placeSession, startHarness } from './support/call-harness.js';

/**
 * A stand-in for a relay between the client and the transceiver: one port
 * toward the client, one upstream socket toward the transceiver. `moveUpstream`
 * replaces the upstream socket, as a restarted relay (or a sibling) that
 * already knows the flow would: the transceiver sees the same client's
 * packets from a new source port, with no STUN check first.
 */
class TestRelay {
  private client?: { address: string; port: number };
  private upstream!: Socket;
  readonly front = createSocket('udp4');

  constructor(private readonly target: { address: string; port: number }) {}

  async start(): Promise<number> {
    this.front.on('message', (m, r) => {
      this.client = { address: r.address, port: r.port };
      this.upstream.send(m, this.target.port, this.target.address);
    });
    await new Promise<void>((r) => this.front.bind(0, '127.0.0.1', r));
    await this.openUpstream();
    return (this.front.address() as AddressInfo).port;
  }

  private async openUpstream(): Promise<void> {
    const s = createSocket('udp4');
    s.on('message', (m) => {
      if (this.client) this.front.send(m, this.client.port, this.client.address);
    });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    this.upstream = s;
  }

  get upstreamPort(): number {
    return (this.upstream.address() as AddressInfo).port;
  }

  async moveUpstream(): Promise<void> {
    const old = this.upstream;
    await this.openUpstream();
    old.close();
  }

  close(): void {
    this.upstream?.close();
    this.front.close();
  }
}

describe('a known session from a new relay port, accepted on authenticated SRTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  }, 30_000);
  afterAll(async () => {
    await h?.close();
  });

  it('keeps the echo going when the relay-side source port changes mid-call; the gap is measured', async () => {
    const relay = new TestRelay({ address: '127.0.0.1', port: h.tx.mux.port });
    const relayPort = await relay.start();
    const pc = new RTCPeerConnection({ codecs: opusOnlyCodecs(), iceServers: [] });
    try {
      const out = new MediaStreamTrack({ kind: 'audio' });
      const t = pc.addTransceiver(out, { direction: 'sendrecv' });
      const arrivals = recordProbeArrivals(t);
      await pc.setLocalDescription(await pc.createOffer());
      const sessionId = `${h.tx.routeId}-${Math.random().toString(36).slice(2, 12).padEnd(22, 'x')}`;
      const answer = await placeSession(h, {
        sessionId,
        offer: pc.localDescription?.sdp,
        relay: { ip: '127.0.0.1', port: relayPort },
        agent: 'rtp-echo',
      });
      const connected = new Promise<void>((r) =>
        pc.connectionStateChange.subscribe((s) => s === 'connected' && r()),
      );
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      await connected;

      const movedBefore = h.tx.mux.counters.movedBySrtp;
      const total = 150;
      let movedAt = 0;
      const sentAt = await sendProbes(out, total, {
        firstSequence: 2000,
        firstTimestamp: 4000,
        beforeProbe: async (i) => {
          if (i !== 75) return;
          await relay.moveUpstream();
          movedAt = performance.now();
        },
      });
      await new Promise((r) => setTimeout(r, 300));

      const info = decodeJson(
        SessionInfoReply,
        (await h.nc.request(sessionStateSubject(h.tx.id), encodeJson({ sessionId }), { timeout: 2_000 }))
          .data,
      );
      // The transceiver now sends to the new upstream port: moved on SRTP, not on a STUN check.
      expect(info.ok && info.remote).toBe(`127.0.0.1:${relay.upstreamPort}`);
      expect(h.tx.mux.counters.movedBySrtp - movedBefore).toBe(1);
      // Media gap from packet timestamps: the longest silence between echo arrivals around the move.
      const times = [...arrivals.entries()]
        .filter(([i]) => i >= 60 && i < 110)
        .map(([, at]) => at)
        .sort((a, b) => a - b);
      let gap = 0;
      for (let k = 1; k < times.length; k++)
        gap = Math.max(gap, (times[k] as number) - (times[k - 1] as number));
      // The same measure on a stretch without a move: what this (loaded) machine's scheduling adds anyway.
      const calm = [...arrivals.entries()]
        .filter(([i]) => i >= 10 && i < 60)
        .map(([, at]) => at)
        .sort((x, y) => x - y);
      let calmGap = 0;
      for (let k = 1; k < calm.length; k++)
        calmGap = Math.max(calmGap, (calm[k] as number) - (calm[k - 1] as number));
      const afterMove = [...arrivals.keys()].filter((i) => (sentAt[i] as number) > movedAt).length;
      console.log(
        `relay source port change: media gap ${Math.round(gap)} ms around the move ` +
          `(${Math.round(calmGap)} ms on a stretch without one); ` +
          `${afterMove}/${total - 75} probes sent after it came back; lost ${total - arrivals.size}/${total}`,
      );
      expect(afterMove).toBeGreaterThanOrEqual(70);
      expect(gap).toBeLessThan(300);
    } finally {
      await pc.close().catch(() => undefined);
      relay.close();
    }
  }, 30_000);
});
