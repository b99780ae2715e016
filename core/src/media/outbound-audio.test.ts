import { manualTime } from '@parley/shared/testing/manual-time.js';
import { describe, expect, it } from 'vitest';
import type { AgentState } from './client-events.js';
import { OpusDecoder } from './opus-codec.js';
import { OutboundAudio } from './outbound-audio.js';

function tone(samples: number, rate: number, offset = 0): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) =>
    Math.round(8_000 * Math.sin((2 * Math.PI * 440 * (i + offset)) / rate)),
  );
}

function setup(sampleRate = 16_000) {
  const time = manualTime();
  const sent: Buffer[] = [];
  const states: AgentState[] = [];
  const out = new OutboundAudio({
    now: time.now,
    setTimer: (ms, fn) => time.setTimer(ms, fn),
    sendRtp: (payload) => sent.push(Buffer.from(payload)),
    onSent: () => {},
    onState: (s) => states.push(s),
    initialTimestamp: 0,
    sampleRate,
  });
  return { time, sent, states, out };
}

describe('OutboundAudio', () => {
  it('goes back to listening idleMs after the last packet, with one idle timer per quiet spell, not one per packet', () => {
    const { time, sent, states, out } = setup();
    // 50 live frames at 20 ms (echo-style), each sent as it comes.
    for (let i = 0; i < 50; i++) {
      out.push(tone(320, 16_000, i * 320), 16_000, {
        producedAt: time.now(),
        rxAt: time.now(),
        liveIndex: i,
      });
      time.advance(20);
    }
    expect(sent).toHaveLength(50);
    expect(states).toEqual(['speaking']);
    const madeWhileTalking = time.made;
    // Re-armed about every idleMs (100 ms = 5 packets), never once per packet.
    expect(madeWhileTalking).toBeLessThan(20);
    // The last packet went out at 980 ms: still speaking at 1060, listening by 1080.
    time.advance(60);
    expect(states).toEqual(['speaking']);
    time.advance(40);
    expect(states).toEqual(['speaking', 'listening']);
    out.close();
  });

  it('live frames are dropped by age, not count: the burst after a stall all goes out, a held backlog goes stale', () => {
    const { time, sent, out } = setup();
    const live = (i: number) =>
      out.push(tone(320, 16_000, i * 320), 16_000, {
        producedAt: time.now(),
        rxAt: time.now(),
        liveIndex: i,
      });
    let i = 0;
    for (; i < 5; i++) {
      live(i);
      time.advance(20);
    }
    // A 100 ms stall: five fresh frames come in one turn; none is dropped, all go within 20 ms.
    time.advance(80);
    const burstAt = time.now();
    for (const end = i + 5; i < end; i++) live(i);
    time.advance(20);
    expect(sent).toHaveLength(10);
    expect(out.stats.dropped).toBe(0);
    expect(time.now() - burstAt).toBe(20);
    // Held (speech over the agent): frames older than 200 ms go when the next live frame comes.
    out.pause();
    for (let n = 0; n < 12; n++) {
      live(i++);
      time.advance(20);
    }
    live(i++);
    // Enqueued at 0, 20, ..., 220 ms into the hold: at 240 the ones at 0 and 20 are past 200 ms.
    expect(out.stats.dropped).toBe(2);
    out.resume();
    time.advance(200);
    expect(sent).toHaveLength(21);
    out.close();
  });

  it('encodes audio at the encoder rate as it is and resamples other rates, frames intact either way', () => {
    for (const rate of [16_000, 48_000]) {
      const { time, sent, out } = setup(16_000);
      const frame = rate / 50;
      for (let i = 0; i < 25; i++) {
        out.push(tone(frame, rate, i * frame), rate, { producedAt: time.now() });
        time.advance(20);
      }
      time.advance(200);
      out.close();
      // A 20 ms frame per 20 ms pushed; the resampler's priming delays, it does not drop.
      expect(sent.length).toBeGreaterThanOrEqual(25);
      // The tone survives the trip: decoded energy late in the stream is far above silence.
      const dec = new OpusDecoder(16_000);
      const pcm = sent.map((p) => dec.decode(p));
      dec.close();
      const last = pcm.at(-5) as Int16Array;
      const rms = Math.sqrt(last.reduce((s, v) => s + v * v, 0) / last.length);
      expect(rms).toBeGreaterThan(1_000);
    }
  });
});
