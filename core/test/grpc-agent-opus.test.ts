import { createLogger } from '@parley/shared/log.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireServerMessage } from '../src/agent/grpc/agent-proto.js';
import {
  type ClientWire,
  type ReferenceServer,
  startGrpcReferenceServer,
} from '../src/agent/reference/grpc-reference-server.js';
import { mediaTotals } from '../src/media/media-metrics.js';
import { OpusDecoder } from '../src/media/opus-codec.js';
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

describe('gRPC agent in Opus mode against the reference model server (real gRPC, real werift call)', () => {
  let ref: ReferenceServer;
  let h: Harness;
  const wire: { dir: 'in' | 'out'; msg: ClientWire | Omit<WireServerMessage, 'kind'> }[] = [];
  beforeAll(async () => {
    ref = await startGrpcReferenceServer({
      log,
      responder: { replyMs: 1_000, speed: 1 },
      tap: (dir, msg) => wire.push({ dir, msg }),
    });
    h = await startHarness(undefined, {
      PARLEY_AGENT_GRPC_URL: `127.0.0.1:${ref.port}`,
      PARLEY_AGENT_GRPC_CODEC: 'opus',
    });
  });
  afterAll(async () => {
    await h?.close();
    await ref?.close();
  });

  it('a spoken turn is answered with the chime: Opus both ways, nothing decoded or encoded in the transceiver', async () => {
    wire.length = 0;
    const before = { ...mediaTotals };
    const call = await openCall(h, { agent: 'grpc', dataChannel: true });
    await call.sendPcm(concat(silence(200), speechLike(800), silence(700)));
    await call.waitForEvent('response.done', 5_000);
    const sent = wire
      .filter((w) => w.dir === 'out')
      .map((w) => (w.msg as WireServerMessage).audio?.opus)
      .filter((p): p is Buffer => p !== undefined && p.length > 0);
    // The server produces at real time here; the transceiver plays each packet 20 ms apart.
    for (let i = 0; i < 100 && call.received.length < sent.length; i++)
      await new Promise((r) => setTimeout(r, 20));

    // The server was told the codec and got the caller's Opus packets, which it can decode.
    const inbound = wire.filter((w) => w.dir === 'in').map((w) => w.msg as ClientWire);
    expect(inbound[0]?.start).toMatchObject({ codec: 'OPUS', inputSampleRate: 48_000 });
    const userPackets = inbound.flatMap((m) => (m.audio?.opus?.length ? [m.audio] : []));
    expect(userPackets.length).toBeGreaterThanOrEqual(80); // 85 sent, loopback loses none in practice
    expect(inbound.some((m) => m.kind === 'speechStarted' || m.kind === 'speechStopped')).toBe(false);
    const dec = new OpusDecoder(48_000, 1);
    for (const a of userPackets) {
      expect(a.pcm?.length ?? 0).toBe(0);
      expect(dec.decode(a.opus as Buffer).length).toBe(960);
    }
    // media_ms follows the RTP clock: 20 ms apart.
    expect(userPackets.slice(0, 5).map((a) => a.mediaMs)).toEqual([0, 20, 40, 60, 80]);

    // The reply: the server's packets, byte for byte, in order, on a continuous RTP clock.
    expect(sent.length).toBe(50); // 1 s of chime at 20 ms
    expect(call.received.map((r) => r.payload)).toEqual(sent);
    // The RTP clock moves 20 ms per packet while the server keeps up. When its stream stalls
    // (this test's server shares a loaded machine), the pacer idles and the next packet starts a
    // new talkspurt whose timestamp moved on by the time that passed: a whole number of frames,
    // with the marker bit set (RFC 3551 4.1), never a timestamp that goes back or splits a frame.
    const ts = call.received.map((r) => r.timestamp);
    const steps = ts.slice(1).map((t, i) => (t - (ts[i] as number)) >>> 0);
    for (const [i, step] of steps.entries()) {
      expect(step % 960).toBe(0);
      expect(step).toBeGreaterThanOrEqual(960);
      if (step > 960) expect(call.received[i + 1]?.marker).toBe(true);
    }
    // Most of the reply is one continuous talkspurt even so.
    expect(steps.filter((s) => s === 960).length).toBeGreaterThanOrEqual(steps.length - 5);
    expect(call.received[0]?.marker).toBe(true); // a talkspurt's first packet
    const { pcm } = decodeReceived(call.received);
    expect(peakToneLevel(pcm, 440)).toBeGreaterThan(3_000);
    expect(peakToneLevel(pcm, 659.25)).toBeGreaterThan(3_000);

    // No PCM path in the transceiver: no frame decoded, concealed or FEC-rebuilt, every packet relayed.
    expect(mediaTotals.framesIn - before.framesIn).toBe(0);
    expect(mediaTotals.concealed + mediaTotals.fecRecovered + mediaTotals.malformed).toBe(
      before.concealed + before.fecRecovered + before.malformed,
    );
    expect(mediaTotals.packetsOut - before.packetsOut).toBe(sent.length);

    // The server's events reach the client; our VAD's do not exist in this mode.
    const types = call.events.map((e) => e.type);
    for (const t of ['session.ready', 'response.started', 'response.done']) expect(types).toContain(t);
    expect(types).not.toContain('speech.started');
    expect(call.events).toContainEqual(
      expect.objectContaining({ type: 'transcript', role: 'user', final: true }),
    );
    expect(call.events).toContainEqual(
      expect.objectContaining({ type: 'response.done', status: 'completed' }),
    );
    await call.close();
  }, 20_000);

  it("barge-in: the server's user_speech_started drops the queued reply and interrupts it", async () => {
    const call = await openCall(h, { agent: 'grpc', dataChannel: true });
    await call.sendPcm(concat(speechLike(600), silence(600)));
    await call.waitForEvent('response.started', 5_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(call.received.length).toBeGreaterThan(5);
    const firstSpeechFrame = call.sentAt.length;
    await call.sendPcm(speechLike(400));
    await call.waitForEvent('barge_in', 2_000);
    await call.waitForEvent('response.done', 2_000);
    await new Promise((r) => setTimeout(r, 300));

    const stop = bargeInStop(call, firstSpeechFrame);
    console.log(`barge-in (gRPC, Opus): ${JSON.stringify(stop)} after the user's first speech packet`);
    // The server decides on its second speech frame; then at most a packet or two in flight.
    expect(stop.packetsAfter).toBeLessThanOrEqual(5);
    expect(call.events).toContainEqual(
      expect.objectContaining({ type: 'response.done', status: 'cancelled' }),
    );
    expect(call.received.length).toBeLessThan(40);
    await call.close();
  }, 20_000);
});
