import * as grpc from '@grpc/grpc-js';
import { createLogger } from '@parley/shared/log.js';
import { freeTcpPort } from '@parley/shared/net/free-port.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentFactory } from '../src/agent/agent.js';
import { voiceAgentProto, type WireServerMessage } from '../src/agent/grpc/agent-proto.js';
import {
  type ReferenceServer,
  startGrpcReferenceServer,
} from '../src/agent/reference/grpc-reference-server.js';
import {
  bargeInStop,
  concat,
  decodeReceived,
  type Harness,
  openCall,
  peakToneLevel,
  speechLike,
  startHarness,
} from './support/call-harness.js';

const log = createLogger('test', 'silent');
const silence = (ms: number) => new Int16Array(48 * ms);

/** A real gRPC server whose Converse handler the test scripts (for failure cases). */
async function scriptedServer(handler: (call: grpc.ServerDuplexStream<unknown, WireServerMessage>) => void) {
  const server = new grpc.Server();
  server.addService(voiceAgentProto().service, { Converse: handler });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { port, close: () => server.forceShutdown() };
}

describe('gRPC agent bridge against the reference model server (real gRPC, real werift call)', () => {
  let ref: ReferenceServer;
  let h: Harness;
  beforeAll(async () => {
    ref = await startGrpcReferenceServer({ log, responder: { replyMs: 1_000, speed: 1 } });
    h = await startHarness(undefined, { PARLEY_AGENT_GRPC_URL: `127.0.0.1:${ref.port}` });
  });
  afterAll(async () => {
    await h?.close();
    await ref?.close();
  });

  it('answers a spoken turn with the chime, with turn events, transcripts and a latency split', async () => {
    const call = await openCall(h, { agent: 'grpc', dataChannel: true });
    await call.sendPcm(concat(silence(200), speechLike(800), silence(700)));
    const done = await call.waitForEvent('response.done', 5_000);
    expect(done).toMatchObject({ status: 'completed' });
    // The server is done producing (at twice real time); wait for the pacer to finish playing it.
    const speaking = call.events.findIndex((e) => e.type === 'agent.state' && e.state === 'speaking');
    await call.waitFor((e) => e.type === 'agent.state' && e.state === 'listening', 3_000, speaking + 1);

    const types = call.events.map((e) => e.type);
    for (const t of ['session.ready', 'speech.started', 'speech.stopped', 'response.started', 'latency.turn'])
      expect(types).toContain(t);
    expect(types.indexOf('speech.stopped')).toBeLessThan(types.indexOf('response.started'));
    expect(call.events).toContainEqual(
      expect.objectContaining({ type: 'transcript', role: 'user', final: true }),
    );
    expect(call.events).toContainEqual(expect.objectContaining({ type: 'transcript', role: 'agent' }));
    expect(call.events).toContainEqual(expect.objectContaining({ type: 'agent.state', state: 'speaking' }));

    // The reply: about 1 s of audio, the chime's two notes audible after decoding.
    expect(call.received.length).toBeGreaterThanOrEqual(48);
    expect(call.received.length).toBeLessThanOrEqual(54);
    const { pcm } = decodeReceived(call.received);
    expect(peakToneLevel(pcm, 440)).toBeGreaterThan(3_000);
    expect(peakToneLevel(pcm, 659.25)).toBeGreaterThan(3_000);
    expect(peakToneLevel(pcm, 1_000)).toBeLessThan(500); // and not just anything loud

    const lat = call.events.find((e) => e.type === 'latency.turn') as Record<string, number>;
    console.log('grpc turn latency', JSON.stringify(lat));
    expect(lat.totalMs).toBeCloseTo(
      (lat.inboundMs as number) + (lat.agentMs as number) + (lat.outboundMs as number),
      0,
    );
    // The VAD's hangover, give or take a frame: Silero's is 600 ms, or 250 ms where the prosodic
    // end-of-turn cue calls the pause final (README, "Turn-taking"); the energy fallback's 500 ms.
    expect(lat.endpointMs).toBeGreaterThanOrEqual(250);
    expect(lat.pipelineMs).toBeLessThan(lat.totalMs as number);
    await call.close();
  }, 20_000);
});

describe('gRPC agent barge-in (real gRPC, real werift call)', () => {
  let ref: ReferenceServer;
  let h: Harness;
  beforeAll(async () => {
    // A 3 s reply: the barge-in is confirmed after 700 ms of the caller's speech (bargeInConfirmMs),
    // and the reply must still be under way then for the interruption to cancel it.
    ref = await startGrpcReferenceServer({ log, responder: { replyMs: 3_000, speed: 1 } });
    h = await startHarness(undefined, { PARLEY_AGENT_GRPC_URL: `127.0.0.1:${ref.port}` });
  });
  afterAll(async () => {
    await h?.close();
    await ref?.close();
  });

  it('barge-in: user speech over the reply stops agent audio within 100 ms (packet timestamps) and interrupts the agent', async () => {
    const call = await openCall(h, { agent: 'grpc', dataChannel: true });
    await call.sendPcm(concat(speechLike(600), silence(600)));
    await call.waitForEvent('response.started', 5_000);
    // Let the reply play for a while, then talk over it.
    await new Promise((r) => setTimeout(r, 300));
    const before = call.received.length;
    expect(before).toBeGreaterThan(5);
    const firstSpeechFrame = call.sentAt.length;
    // An interruption, not a backchannel: the agent is held at the onset and interrupted after
    // 700 ms of speech (bargeInConfirmMs, from the turns bench's confirmation curve). The
    // caller goes on talking while we measure, so the reply to this new turn (after it ends) is
    // not counted as audio that failed to stop. The stop (packetsAfter, detectMs) is the onset's.
    const talking = call.sendPcm(speechLike(2_500));
    const bargeIn = await call.waitForEvent('barge_in', 2_000);
    await call.waitForEvent('response.done', 2_000);
    await new Promise((r) => setTimeout(r, 300));

    const stop = bargeInStop(call, firstSpeechFrame);
    await talking;
    console.log(
      `barge-in (gRPC): ${JSON.stringify(stop)} after the user's first speech packet; ${JSON.stringify(bargeIn)}`,
    );
    // At most 100 ms (5 packets) of agent audio after the caller started talking.
    expect(stop.packetsAfter).toBeLessThanOrEqual(5);
    expect(stop.stopMs).toBeLessThan(1_000); // wall clock: sanity bound only, machines are shared
    expect(bargeIn.detectMs).toBeLessThan(60); // the VAD decides on its second speech frame
    expect(call.events).toContainEqual(
      expect.objectContaining({ type: 'response.done', status: 'cancelled' }),
    );
    // Without the barge-in the 3 s reply would have gone on: far fewer than 150 packets came.
    expect(call.received.length).toBeLessThan(40);
    await call.close();
  }, 20_000);
});

describe('gRPC agent failures end the session cleanly with a clear event', () => {
  it('a malformed message (sample_rate 0) ends the session with the reason', async () => {
    const streams: grpc.ServerDuplexStream<unknown, WireServerMessage>[] = [];
    const srv = await scriptedServer((call) => {
      call.on('data', () => {});
      streams.push(call);
    });
    const h = await startHarness(undefined, { PARLEY_AGENT_GRPC_URL: `127.0.0.1:${srv.port}` });
    try {
      const call = await openCall(h, { agent: 'grpc', dataChannel: true });
      // Sent once the call is up (not on a timer): the message must arrive mid-call, however slow setup is.
      streams[0]?.write({ audio: { pcm: Buffer.alloc(640), sampleRate: 0, mediaMs: 0 } });
      const ended = await call.waitForEvent('session.ended', 3_000);
      expect(ended.reason).toBe('agent: gRPC agent sent a malformed message: audio chunk with sample_rate 0');
      for (let i = 0; i < 50 && h.tx.sessions.count > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(h.tx.sessions.count).toBe(0);
      expect(h.tx.sessions.closedByReason.get('agent_ended')).toBe(1);
      await call.close();
    } finally {
      await h.close();
      srv.close();
    }
  }, 20_000);

  it('a server that goes away mid-call ends the session; the transceiver carries on', async () => {
    const srv = await scriptedServer((call) => {
      call.on('data', () => {});
    });
    const h = await startHarness(undefined, { PARLEY_AGENT_GRPC_URL: `127.0.0.1:${srv.port}` });
    try {
      const call = await openCall(h, { agent: 'grpc', dataChannel: true });
      // Gone once the call is up (not on a timer), so it is mid-call however slow setup is.
      srv.close();
      const ended = await call.waitForEvent('session.ended', 3_000);
      expect(String(ended.reason)).toMatch(/^agent: gRPC agent (stream failed|closed the stream)/);
      await call.close();
      // Still serving: an echo session works.
      const echo = await openCall(h, { agent: 'echo' });
      await echo.sendPcm(speechLike(200));
      await new Promise((r) => setTimeout(r, 200));
      expect(echo.received.length).toBeGreaterThan(5);
      await echo.close();
    } finally {
      await h.close();
    }
  }, 20_000);

  it('an agent that ends while the session is being set up fails the offer instead of answering a dead session', async () => {
    const quitter: AgentFactory = (output) => ({
      name: 'quitter',
      sampleRate: 16_000,
      bargeIn: false,
      ready: async () => output.end('gone during setup'),
      onAudio() {},
      onSpeech() {},
      interrupt() {},
      close() {},
    });
    const h = await startHarness(
      new Map([
        ['echo', quitter],
        ['quitter', quitter],
      ]),
    );
    try {
      await expect(openCall(h, { agent: 'quitter' })).rejects.toThrow(
        'session ended during setup: agent: gone during setup',
      );
      expect(h.tx.sessions.count).toBe(0);
      expect(h.tx.mux.sessions).toBe(0);
    } finally {
      await h.close();
    }
  }, 20_000);

  it('an unreachable model server fails the offer with "agent unavailable" instead of a dead call', async () => {
    const port = await freeTcpPort();
    const h = await startHarness(undefined, {
      PARLEY_AGENT_GRPC_URL: `127.0.0.1:${port}`,
      PARLEY_AGENT_CONNECT_TIMEOUT_MS: '300',
    });
    try {
      await expect(openCall(h, { agent: 'grpc' })).rejects.toThrow(
        /agent unavailable: gRPC agent at 127.0.0.1:\d+ unreachable/,
      );
      expect(h.tx.sessions.count).toBe(0);
      expect(h.tx.mux.sessions).toBe(0);
    } finally {
      await h.close();
    }
  }, 20_000);
});
