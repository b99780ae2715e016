import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoAgentWith } from '../src/agent/echo-agent.js';
import {
  chirp,
  decodeReceived,
  FRAME,
  findByCorrelation,
  type Harness,
  openCall,
  startHarness,
} from './support/call-harness.js';

// A real werift call through the whole media pipeline: Opus in, jitter buffer,
// decode, 48 -> 16 kHz, echo agent, 16 -> 48 kHz, 20 ms frames, pacer, Opus out.
describe('echo agent through the full pipeline (real werift call)', () => {
  let h: Harness;
  beforeAll(async () => {
    // A roomy live queue: on a loaded two-core machine the event loop stalls for tens of ms, and
    // this test checks content, not the drop policy (tested in outbound-audio.test.ts).
    h = await startHarness(new Map([['echo', echoAgentWith({ maxLiveQueue: 500 })]]));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a chirp comes back intact (found by cross-correlation) and the added delay is measured', async () => {
    const call = await openCall(h, { agent: 'echo', dataChannel: true });
    const lead = 25; // frames of silence before the chirp
    const sweep = chirp(500, 300, 3_000);
    const signal = new Int16Array((lead + 25 + 25) * FRAME);
    signal.set(sweep, lead * FRAME);
    await call.sendPcm(signal);
    const sent = signal.length / FRAME;
    for (let i = 0; i < 200 && call.received.length < sent; i++) await new Promise((r) => setTimeout(r, 10));

    // One packet back per packet sent: no loss, nothing invented.
    expect(call.received.length).toBe(sent);
    const { pcm, arrivalOf } = decodeReceived(call.received);
    const found = findByCorrelation(pcm, sweep);
    expect(found.score).toBeGreaterThan(0.9);

    // Delay: the chirp's first sample, from when its frame was sent to when the frame holding it arrived.
    const sentFrame = lead;
    const delayMs =
      // The chirp starts a sent frame; where it sits inside the received frame shifts it by that much.
      arrivalOf(found.index) - (call.sentAt[sentFrame] as number) + (found.index % FRAME) / 48;
    console.log(
      `echo pipeline: correlation ${found.score.toFixed(3)}, added delay ${delayMs.toFixed(1)} ms (send → echo arrival, loopback)`,
    );
    expect(delayMs).toBeGreaterThan(0);
    // Loopback on an idle machine: a few ms of pipeline plus up to a 20 ms pacing slot. The bound is
    // loose because test machines are shared; the figure is printed above.
    expect(delayMs).toBeLessThan(500);

    // Events arrived on the data channel: ready, and the pipeline's own latency figures.
    const ready = await call.waitForEvent('session.ready');
    expect(ready).toMatchObject({ agent: 'echo', agentSampleRate: 16_000, sessionId: call.sessionId });
    await call.close();
  }, 30_000);
});
