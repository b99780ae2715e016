import { execFileSync } from 'node:child_process';
import { makeProbe, readProbe } from '@parley/loadtest/call/probe-payload.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { opusOnlyCodecs } from '@parley/shared/webrtc/opus-codecs.js';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RtpHeader,
  RtpPacket,
} from '@parley/shared/webrtc/werift-client.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../src/dev-stack.js';
import { scrape } from './metrics-scrape.js';

/** The pid holding a UDP port (the relay process, whatever wraps it). */
function udpPortOwner(port: number): number {
  const out = execFileSync('ss', ['-Hulpn', `sport = :${port}`], { encoding: 'utf8' });
  const m = /pid=(\d+)/.exec(out);
  if (!m) throw new Error(`no process holds UDP ${port}: ${out}`);
  return Number(m[1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// The whole stack as separate processes (built CLI, nats-server with JetStream): the relay is
// SIGKILLed mid-call and a new relay process takes its port, as after a crash or when the load
// balancer moves the client to a sibling. The new relay finds the client's flow in the region's
// JetStream KV flow cache on its next SRTP packet; the transceiver moves the session to the new
// upstream address once that packet authenticates. No consent check is needed.
describe('relay SIGKILL and restart mid-call through the full stack', () => {
  let stack: DevStack;
  const logs: string[] = [];

  beforeAll(async () => {
    stack = await startDevStack({
      httpPort: await freeTcpPort(),
      relayPort: await freeUdpPort(),
      icePort: await freeUdpPort(),
      output: (l) => logs.push(l),
      env: { PARLEY_LOG_LEVEL: 'info' },
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('keeps the echo going; the media gap after the new relay is listening is measured from packet timestamps', async () => {
    const pc = new RTCPeerConnection({ codecs: opusOnlyCodecs(), iceServers: [] });
    const auth = { authorization: `Bearer ${stack.token}` };
    let sessionUrl = '';
    try {
      const out = new MediaStreamTrack({ kind: 'audio' });
      const t = pc.addTransceiver(out, { direction: 'sendrecv' });
      const arrivals = new Map<number, number>();
      t.onTrack.subscribe((track) =>
        track.onReceiveRtp.subscribe((rtp) => {
          const i = readProbe(rtp.payload);
          if (i !== undefined && !arrivals.has(i)) arrivals.set(i, performance.now());
        }),
      );
      const connected = new Promise<void>((r) =>
        pc.connectionStateChange.subscribe((s) => s === 'connected' && r()),
      );
      await pc.setLocalDescription(await pc.createOffer());
      const res = await fetch(new URL('/v1/sessions?agent=rtp-echo', stack.edgeUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', ...auth },
        body: pc.localDescription?.sdp,
      });
      expect(res.status).toBe(201);
      sessionUrl = new URL(res.headers.get('location') as string, stack.edgeUrl).toString();
      await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
      await connected;
      const txMetrics = stack.info.transceiver.metrics as string;
      const movesBefore = await scrape(txMetrics, 'parley_transceiver_srtp_address_moves_total');

      // 50 probes/s for 5 s; the relay dies after 1.5 s.
      const total = 250;
      const sentAt: number[] = [];
      let seq = 1000;
      let ts = 5000;
      const sending = (async () => {
        const start = performance.now();
        for (let i = 0; i < total; i++) {
          const wait = start + i * 20 - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          seq = (seq + 1) & 0xffff;
          ts = (ts + 960) >>> 0;
          sentAt[i] = performance.now();
          out.writeRtp(
            new RtpPacket(
              new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: ts }),
              makeProbe(i),
            ),
          );
        }
      })();
      await new Promise((r) => setTimeout(r, 1_500));

      const pid = udpPortOwner(stack.relay.port);
      const killedAt = performance.now();
      process.kill(pid, 'SIGKILL');
      const deadline = Date.now() + 5_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(alive(pid)).toBe(false);
      // A new relay process on the same port (same config): ready once it is listening.
      await stack.restart('relay');
      const listeningAt = performance.now();
      expect(udpPortOwner(stack.relay.port)).not.toBe(pid);
      await sending;
      await new Promise((r) => setTimeout(r, 300));

      const after = [...arrivals.entries()].filter(([, at]) => at > listeningAt).map(([, at]) => at);
      expect(after.length).toBeGreaterThan(100);
      const firstAfter = Math.min(...after);
      const recoveryMs = firstAfter - listeningAt;
      const times = [...arrivals.values()].sort((a, b) => a - b);
      let gap = 0;
      for (let k = 1; k < times.length; k++)
        gap = Math.max(gap, (times[k] as number) - (times[k - 1] as number));
      const lostAfter = [...sentAt.keys()].filter(
        (i) => (sentAt[i] as number) > listeningAt + 300 && !arrivals.has(i),
      ).length;
      console.log(
        `relay restart: killed -> listening ${Math.round(listeningAt - killedAt)} ms; ` +
          `listening -> first echo ${Math.round(recoveryMs)} ms; longest media gap ${Math.round(gap)} ms; ` +
          `probes lost ${total - arrivals.size}/${total}, of them after recovery ${lostAfter}`,
      );
      // The recovery itself (what the flow cache controls); the rest of the gap is process start-up.
      expect(recoveryMs).toBeLessThan(300);
      expect(lostAfter).toBe(0);
      expect(logs.some((l) => l.includes('relay flow recovered from the flow cache'))).toBe(true);
      expect(await scrape(txMetrics, 'parley_transceiver_srtp_address_moves_total')).toBeGreaterThan(
        movesBefore,
      );
      expect((await fetch(sessionUrl, { method: 'DELETE', headers: auth })).status).toBe(200);
      sessionUrl = '';
    } finally {
      if (sessionUrl) await fetch(sessionUrl, { method: 'DELETE', headers: auth }).catch(() => undefined);
      await pc.close().catch(() => undefined);
    }
  }, 60_000);
});
