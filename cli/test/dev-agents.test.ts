import { readFileSync } from 'node:fs';
import { startRealtimeReferenceServer } from '@parley/core/agent/reference/realtime-reference-server.js';
import { OpusEncoder } from '@parley/core/media/opus-codec.js';
import { Resampler } from '@parley/core/media/resampler.js';
import { createLogger } from '@parley/shared/log.js';
import { freeTcpPort, freeUdpPort } from '@parley/shared/net/free-port.js';
import { opusOnlyCodecs } from '@parley/shared/webrtc/opus-codecs.js';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RtpHeader,
  RtpPacket,
} from '@parley/shared/webrtc/werift-client.js';
import { afterAll, describe, expect, it } from 'vitest';
import { type DevAgent, type DevStack, startDevStack } from '../src/dev-stack.js';
import { scrape } from './metrics-scrape.js';

const CODECS = opusOnlyCodecs();

/**
 * Real speech (the committed espeak-ng clip the transceiver's own tests speak), then silence:
 * the default turn detector is Silero, which rightly hears no speech in a synthetic buzz.
 */
function speechThenSilence(speechMs: number, silenceMs: number): Int16Array {
  const raw = readFileSync(new URL('../../core/src/media/turn/fixtures/speech-16k.raw', import.meta.url));
  const clip = new Resampler(16_000, 48_000, { prime: true }).process(
    new Int16Array(raw.buffer, raw.byteOffset, raw.byteLength >> 1),
  );
  const out = new Int16Array(48 * (speechMs + silenceMs));
  out.set(clip.subarray(0, 48 * speechMs));
  return out;
}

/** A real call through the edge and relay that speaks one turn and collects the reply and events. */
async function speakOneTurn(
  stack: DevStack,
): Promise<{ packets: number; events: Record<string, unknown>[] }> {
  const pc = new RTCPeerConnection({ codecs: CODECS, iceServers: [] });
  const out = new MediaStreamTrack({ kind: 'audio' });
  const t = pc.addTransceiver(out, { direction: 'sendrecv' });
  const dc = pc.createDataChannel('events');
  const events: Record<string, unknown>[] = [];
  dc.onMessage.subscribe((m) => events.push(JSON.parse(m.toString())));
  let packets = 0;
  t.onTrack.subscribe((tr) => tr.onReceiveRtp.subscribe(() => packets++));
  await pc.setLocalDescription(await pc.createOffer());
  const res = await fetch(new URL('/v1/sessions', stack.edgeUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', authorization: `Bearer ${stack.token}` },
    body: pc.localDescription?.sdp,
  });
  expect(res.status).toBe(201);
  const session = new URL(res.headers.get('location') as string, stack.edgeUrl);
  const connected = new Promise<void>((r) =>
    pc.connectionStateChange.subscribe((s) => s === 'connected' && r()),
  );
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  await connected;
  const enc = new OpusEncoder();
  const pcm = speechThenSilence(800, 900);
  const start = performance.now();
  for (let i = 0; i * 960 < pcm.length; i++) {
    const wait = start + i * 20 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const payload = enc.encode(pcm.subarray(i * 960, (i + 1) * 960));
    out.writeRtp(
      new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: i + 1, timestamp: i * 960 }), payload),
    );
  }
  for (let i = 0; i < 300 && !events.some((e) => e.type === 'response.done'); i++)
    await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 1_500)); // the reply plays at real time
  enc.close();
  await fetch(session, { method: 'DELETE', headers: { authorization: `Bearer ${stack.token}` } });
  await pc.close();
  return { packets, events };
}

async function devStack(agent: DevAgent, agentUrl?: string): Promise<DevStack> {
  return startDevStack({
    httpPort: await freeTcpPort(),
    relayPort: await freeUdpPort(),
    icePort: await freeUdpPort(),
    env: { PARLEY_LOG_LEVEL: 'debug' },
    output: (l) => process.env.DEBUG_DEV && console.log(l),
    agent,
    agentUrl,
  });
}

// The built CLI as separate processes (run `npx turbo run build` first), as `parley dev` runs it.
describe('parley dev with model agents', () => {
  const stacks: DevStack[] = [];
  afterAll(async () => {
    for (const s of stacks) await s.stop();
  });

  it('--agent grpc starts the reference model server; a spoken turn through the relay gets its reply', async () => {
    const stack = await devStack('grpc');
    stacks.push(stack);
    expect(stack.agent.name).toBe('grpc');
    expect(stack.agent.url).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(stack.info.agent?.protocol).toBe('grpc');
    const { packets, events } = await speakOneTurn(stack);
    expect(events[0]).toMatchObject({ type: 'session.ready', agent: 'grpc' });
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['speech.stopped', 'response.started', 'response.done']),
    );
    // The reference reply is 1.2 s: about 60 packets.
    expect(packets).toBeGreaterThan(50);
    // The transceiver counted the media on its Prometheus endpoint.
    const metricsUrl = stack.info.transceiver.metrics as string;
    expect(await scrape(metricsUrl, 'parley_media_frames_total', { kind: 'decoded' })).toBeGreaterThan(80);
    expect(await scrape(metricsUrl, 'parley_media_packets_out_total')).toBeGreaterThan(50);
    // Histograms in seconds: the session's setup, and the answered turn split by part.
    expect(
      await scrape(metricsUrl, 'parley_transceiver_setup_seconds_count', { stage: 'connected' }),
    ).toBeGreaterThanOrEqual(1);
    const setupSum = await scrape(metricsUrl, 'parley_transceiver_setup_seconds_sum', { stage: 'connected' });
    expect(setupSum).toBeGreaterThan(0);
    expect(setupSum).toBeLessThan(30);
    for (const part of ['total', 'agent', 'endpoint', 'pipeline'])
      expect(
        await scrape(metricsUrl, 'parley_media_turn_latency_seconds_count', { part }),
      ).toBeGreaterThanOrEqual(1);
    const total = await scrape(metricsUrl, 'parley_media_turn_latency_seconds_sum', { part: 'total' });
    const agent = await scrape(metricsUrl, 'parley_media_turn_latency_seconds_sum', { part: 'agent' });
    expect(total).toBeGreaterThanOrEqual(agent); // the model's share is part of the whole
  }, 60_000);

  it('--agent realtime --agent-url points the transceiver at a Realtime-style server', async () => {
    const srv = await startRealtimeReferenceServer({ log: createLogger('rt', 'silent') });
    try {
      const stack = await devStack('realtime', srv.url);
      stacks.push(stack);
      expect(stack.info.agent).toBeUndefined();
      const { packets, events } = await speakOneTurn(stack);
      expect(events[0]).toMatchObject({ type: 'session.ready', agent: 'realtime', agentSampleRate: 24_000 });
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'transcript', role: 'agent', final: true }),
      );
      expect(packets).toBeGreaterThan(50);
    } finally {
      await srv.close();
    }
  }, 60_000);
});
