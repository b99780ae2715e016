import { connect } from '@nats-io/transport-node';
import { recordProbeArrivals, sendProbes } from '@parley/loadtest/call/probe-stream.js';
import { decodeJson } from '@parley/shared/nats/codec.js';
import { SessionRevoked } from '@parley/shared/nats/schemas.js';
import { SESSION_REVOKED_SUBJECT } from '@parley/shared/nats/subjects.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import {
  dropLocalSockets,
  selectedLocalAddress,
  startRestartedIce,
} from '@parley/shared/webrtc/client-network-change.js';
import {
  iceCredentialsOf,
  parseIceRestartFrag,
  withIceCredentials,
} from '@parley/shared/webrtc/ice-sdpfrag.js';
import { opusOnlyCodecs } from '@parley/shared/webrtc/opus-codecs.js';
import { MediaStreamTrack, RTCPeerConnection } from '@parley/shared/webrtc/werift-client.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../src/dev-stack.js';

const FRAG_TYPE = 'application/trickle-ice-sdpfrag';

// The whole stack as separate processes (built CLI): a werift client restarts ICE
// (WHIP PATCH) from new local sockets mid-call, through the relay, and the echo continues.
describe('ICE restart on network change (WHIP PATCH) through the full stack', () => {
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

  it('keeps the echo going after the client restarts ICE from a new local port; the gap is measured', async () => {
    const pc = new RTCPeerConnection({ codecs: opusOnlyCodecs(), iceServers: [] });
    let sessionUrl = '';
    const auth = { authorization: `Bearer ${stack.token}` };
    const nc = await connect({ servers: stack.natsUrl });
    const revoked: string[] = [];
    nc.subscribe(SESSION_REVOKED_SUBJECT, {
      callback: (_e, m) => {
        revoked.push(decodeJson(SessionRevoked, m.data).token);
      },
    });
    try {
      const out = new MediaStreamTrack({ kind: 'audio' });
      const t = pc.addTransceiver(out, { direction: 'sendrecv' });
      const arrivals = recordProbeArrivals(t);
      const connected = new Promise<void>((r) =>
        pc.connectionStateChange.subscribe((s) => s === 'connected' && r()),
      );
      await pc.setLocalDescription(await pc.createOffer());
      const firstOffer = iceCredentialsOf(pc.localDescription?.sdp as string);
      const res = await fetch(new URL('/v1/sessions?agent=rtp-echo', stack.edgeUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', ...auth },
        body: pc.localDescription?.sdp,
      });
      expect(res.status).toBe(201);
      sessionUrl = new URL(res.headers.get('location') as string, stack.edgeUrl).toString();
      const answer = await res.text();
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      await connected;
      const before = selectedLocalAddress(pc);
      expect(before).toBeDefined();

      // 50 probes/s for 4 s; the network "changes" after 1.5 s.
      const total = 200;
      const sending = sendProbes(out, total);
      await new Promise((r) => setTimeout(r, 1_500));

      // A PATCH with the current credentials is trickle ICE: nothing to do, 204.
      const patchWith = (c: { ufrag: string; pwd: string }) =>
        fetch(sessionUrl, {
          method: 'PATCH',
          headers: { 'content-type': FRAG_TYPE, 'if-match': '*', ...auth },
          body: `a=ice-ufrag:${c.ufrag}\r\na=ice-pwd:${c.pwd}\r\n`,
        });
      expect((await patchWith(firstOffer as { ufrag: string; pwd: string })).status).toBe(204);
      // A restart the client never follows through: its token goes when the next restart comes.
      const abandoned = await patchWith({ ufrag: 'gone', pwd: 'abandonedabandonedabandoned' });
      expect(abandoned.status).toBe(200);
      const abandonedFrag = parseIceRestartFrag(await abandoned.text());
      if (!abandonedFrag.ok) throw new Error(abandonedFrag.detail);

      // Network change: new ICE credentials, the old sockets gone, new ones gathered.
      const restartAt = performance.now();
      const offer = await pc.createOffer({ iceRestart: true });
      const dropped = await dropLocalSockets(pc);
      expect(dropped).toBeGreaterThan(0);
      await pc.setLocalDescription(offer);
      const creds = iceCredentialsOf(pc.localDescription?.sdp as string);
      expect(creds?.ufrag).not.toBe(firstOffer?.ufrag);
      const patch = await fetch(sessionUrl, {
        method: 'PATCH',
        headers: { 'content-type': FRAG_TYPE, 'if-match': '*', ...auth },
        body: `a=ice-ufrag:${creds?.ufrag}\r\na=ice-pwd:${creds?.pwd}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n`,
      });
      expect(patch.status).toBe(200);
      expect(patch.headers.get('content-type')).toBe(FRAG_TYPE);
      const frag = parseIceRestartFrag(await patch.text());
      if (!frag.ok) throw new Error(frag.detail);
      const oldServer = iceCredentialsOf(answer);
      // A new routing token (it verifies at the relay like any other) and a new password.
      expect(frag.ufrag).not.toBe(oldServer?.ufrag);
      expect(frag.pwd).not.toBe(oldServer?.pwd);
      const reconnected = new Promise<void>((r) =>
        pc.iceConnectionStateChange.subscribe((s) => s === 'connected' && r()),
      );
      await pc.setRemoteDescription({ type: 'answer', sdp: withIceCredentials(answer, frag) });
      await Promise.race([
        startRestartedIce(pc).then(() => reconnected),
        new Promise((_, rej) => setTimeout(() => rej(new Error('ICE did not reconnect in 5 s')), 5_000)),
      ]);
      const reconnectedAt = performance.now();
      const sentAt = await sending;
      await new Promise((r) => setTimeout(r, 500));

      const after = selectedLocalAddress(pc);
      expect(after).toBeDefined();
      expect(after).not.toBe(before);
      // Echoes resumed from the new path: probes sent after the reconnect came back.
      const late = [...arrivals.keys()].filter((i) => (sentAt[i] as number) > reconnectedAt + 100);
      expect(late.length).toBeGreaterThan(50);
      // The media gap, from packet timestamps: the longest silence between echo arrivals.
      const times = [...arrivals.values()].sort((a, b) => a - b);
      let gap = 0;
      for (let k = 1; k < times.length; k++)
        gap = Math.max(gap, (times[k] as number) - (times[k - 1] as number));
      const lost = total - arrivals.size;
      console.log(
        `ice restart: ${before} -> ${after}; PATCH to ICE connected ${Math.round(reconnectedAt - restartAt)} ms; ` +
          `media gap ${Math.round(gap)} ms; probes lost ${lost}/${total}`,
      );
      expect(gap).toBeLessThan(3_000);
      // The transceiver restarted once, and revoked the old token at the relays once the new path was nominated.
      expect(logs.some((l) => l.includes('"msg":"ice restart"'))).toBe(true);
      expect(logs.some((l) => l.includes('"msg":"media path moved to a new relay flow"'))).toBe(true);
      // Mid-call: the first token when the second restart came, the abandoned one at the
      // nomination with the newest; the call goes on under the newest.
      expect(revoked).toEqual([oldServer?.ufrag, abandonedFrag.ufrag]);
      expect((await fetch(sessionUrl, { method: 'DELETE', headers: auth })).status).toBe(200);
      await nc.flush();
      await new Promise((r) => setTimeout(r, 300));
      expect(revoked).toEqual([oldServer?.ufrag, abandonedFrag.ufrag, frag.ufrag]);
      sessionUrl = '';
    } finally {
      if (sessionUrl) await fetch(sessionUrl, { method: 'DELETE', headers: auth }).catch(() => undefined);
      await pc.close().catch(() => undefined);
      await nc.close();
    }
  }, 60_000);

  it('409s a PATCH before ICE is established and 404s one for a session that ended, as problem+json', async () => {
    const pc = new RTCPeerConnection({ codecs: opusOnlyCodecs(), iceServers: [] });
    const auth = { authorization: `Bearer ${stack.token}` };
    try {
      pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
      await pc.setLocalDescription(await pc.createOffer());
      const res = await fetch(new URL('/v1/sessions?agent=rtp-echo', stack.edgeUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', ...auth },
        body: pc.localDescription?.sdp,
      });
      expect(res.status).toBe(201);
      const url = new URL(res.headers.get('location') as string, stack.edgeUrl).toString();
      const frag = 'a=ice-ufrag:nEw1\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n';
      const patch = () =>
        fetch(url, { method: 'PATCH', headers: { 'content-type': FRAG_TYPE, ...auth }, body: frag });
      // The answer was never applied: the session has no ICE session to restart.
      const early = await patch();
      expect(early.status).toBe(409);
      expect(early.headers.get('content-type')).toBe('application/problem+json');
      expect((await early.json()).code).toBe('not_connected');
      expect((await fetch(url, { method: 'DELETE', headers: auth })).status).toBe(200);
      const gone = await patch();
      expect(gone.status).toBe(404);
      expect(gone.headers.get('content-type')).toBe('application/problem+json');
    } finally {
      await pc.close().catch(() => undefined);
    }
  }, 30_000);
});
