import { createLogger } from '@parley/shared/log.js';
import { manualTime } from '@parley/shared/testing/manual-time.js';
import { describe, expect, it } from 'vitest';
import type { Agent, AgentOutput, UserAudio } from '../agent/agent.js';
import type { ClientEventBody } from './client-events.js';
import { OpusEncoder } from './opus-codec.js';
import { RnnoiseModule } from './turn/rnnoise-wasm.js';
import { VoicePipeline } from './voice-pipeline.js';

class TestAgent implements Agent {
  readonly name = 'test';
  readonly sampleRate = 16_000;
  readonly bargeIn = true;
  frames: UserAudio[] = [];
  speech: string[] = [];
  interrupts = 0;
  out!: AgentOutput;
  onAudio(f: UserAudio) {
    this.frames.push(f);
  }
  onSpeech(e: { type: string }) {
    this.speech.push(e.type);
  }
  interrupt() {
    this.interrupts++;
  }
  close() {}
}

function voiced(i: number): Int16Array {
  const out = new Int16Array(960);
  for (let j = 0; j < 960; j++)
    out[j] = Math.round(5_000 * Math.sin((2 * Math.PI * 180 * (i * 960 + j)) / 48_000));
  return out;
}

function setup(turn: Record<string, unknown> = {}) {
  const time = manualTime();
  const agent = new TestAgent();
  const sent: { ts: number; at: number }[] = [];
  const events: ClientEventBody[] = [];
  const p = new VoicePipeline({
    sessionId: 's1',
    agent: (out) => {
      agent.out = out;
      return agent;
    },
    sendRtp: (_payload, ts) => sent.push({ ts, at: time.now() }),
    emit: (e) => events.push(e),
    onAgentEnd: () => {},
    log: createLogger('t', 'silent'),
    now: time.now,
    setTimer: time.setTimer,
    // The synthetic frames here are tones, which Silero rightly does not take for speech.
    turn: { detector: 'energy', ...turn },
  });
  const enc = new OpusEncoder();
  let seq = 0;
  const sendFrame = (pcm: Int16Array) => {
    p.onRtp(seq, seq * 960, enc.encode(pcm));
    seq++;
    time.advance(20);
  };
  return { time, agent, sent, events, p, sendFrame };
}

describe('VoicePipeline (fake clock, no sockets)', () => {
  it('hands the agent 20 ms frames at its rate, with VAD turn events', () => {
    const { agent, events, sendFrame } = setup();
    for (let i = 0; i < 10; i++) sendFrame(new Int16Array(960));
    for (let i = 0; i < 20; i++) sendFrame(voiced(i));
    for (let i = 0; i < 30; i++) sendFrame(new Int16Array(960));
    expect(agent.frames).toHaveLength(60);
    expect(new Set(agent.frames.map((f) => f.pcm.length))).toEqual(new Set([320]));
    expect(agent.frames.map((f) => f.mediaMs).slice(0, 3)).toEqual([0, 20, 40]);
    expect(agent.speech).toEqual(['speech_started', 'speech_stopped']);
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['session.ready', 'speech.started', 'speech.stopped', 'agent.state']),
    );
  });

  it('reuses frame buffers only for an agent that copies the audio; a keeping agent gets a buffer of its own per frame', () => {
    for (const copies of [false, true]) {
      const { agent, sendFrame } = setup();
      (agent as { copiesAudio?: boolean }).copiesAudio = copies;
      const firstSamples: number[] = [];
      agent.onAudio = (f) => {
        agent.frames.push(f);
        firstSamples.push(f.pcm[10] as number);
      };
      for (let i = 0; i < 40; i++) sendFrame(voiced(i));
      expect(agent.frames).toHaveLength(40);
      const buffers = new Set(agent.frames.map((f) => f.pcm));
      if (copies) expect(buffers.size).toBeLessThanOrEqual(2);
      else {
        expect(buffers.size).toBe(40);
        // Kept frames still hold what they held when handed over.
        expect(agent.frames.map((f) => f.pcm[10])).toEqual(firstSamples);
      }
    }
  });

  it('ends the turn on time when the client stops sending after speech (DTX): no frame needed', () => {
    const { agent, events, sendFrame, time } = setup();
    for (let i = 0; i < 20; i++) sendFrame(voiced(i));
    sendFrame(new Int16Array(960));
    const lastSpeechAt = time.now() - 40;
    expect(agent.speech).toEqual(['speech_started']);
    // Nothing more arrives: no frame, no concealment (the jitter buffer has nothing to wait for).
    time.advance(470);
    expect(agent.speech).toEqual(['speech_started']);
    time.advance(30);
    expect(agent.speech).toEqual(['speech_started', 'speech_stopped']);
    expect(time.now() - lastSpeechAt).toBeGreaterThanOrEqual(500);
    expect(events.filter((e) => e.type === 'speech.stopped')).toHaveLength(1);
    // The next turn works the same way.
    for (let i = 0; i < 5; i++) sendFrame(voiced(i));
    time.advance(600);
    expect(agent.speech).toEqual(['speech_started', 'speech_stopped', 'speech_started', 'speech_stopped']);
  });

  it('barge-in: speech over queued agent audio holds it at once; confirmed speech drops it, interrupts the agent and mutes the rest of that response', () => {
    const { agent, sent, events, sendFrame, time, p } = setup({ bargeInConfirmMs: 200 });
    agent.out.event({ type: 'response_started' });
    agent.out.audio(new Int16Array(16_000).fill(1_000), 16_000); // 1 s of reply, queued at once
    time.advance(100);
    const beforeSpeech = sent.length;
    expect(beforeSpeech).toBeGreaterThan(3);
    sendFrame(voiced(0)); // the first speech frame over the agent holds it
    const atHold = sent.length;
    sendFrame(voiced(1)); // the VAD's turn starts on the second
    expect(agent.interrupts).toBe(0);
    for (let i = 2; i < 10; i++) sendFrame(voiced(i)); // 200 ms of speech confirms it
    expect(sent.length).toBe(atHold); // nothing went out while held
    expect(agent.interrupts).toBe(1);
    const atBargeIn = sent.length;
    agent.out.audio(new Int16Array(3_200).fill(1_000), 16_000); // late audio of the cancelled response
    time.advance(500);
    expect(sent.length).toBe(atBargeIn);
    const barge = events.find((e) => e.type === 'barge_in') as {
      droppedFrames: number;
      detectMs: number;
      confirmMs: number;
    };
    expect(barge).toMatchObject({ type: 'barge_in' });
    expect(barge.droppedFrames).toBeGreaterThan(20);
    // Audio stopped at the hold (the first speech frame), the interruption came with the confirmation.
    expect(barge.detectMs).toBe(0);
    expect(barge.confirmMs).toBeGreaterThanOrEqual(180);
    // Held by pausing the pacer: nothing was sent-and-discarded while held, the queue was kept until the confirmation.
    expect(p.stats.heldPackets).toBe(0);
    // A new response plays again.
    agent.out.event({ type: 'response_started' });
    agent.out.audio(new Int16Array(3_200).fill(1_000), 16_000);
    time.advance(300);
    expect(sent.length).toBe(atBargeIn + 10);
  });

  it('a backchannel over the agent (short speech) only holds its audio: no interruption, the reply goes on', () => {
    const { agent, sent, events, sendFrame, time, p } = setup({
      bargeInConfirmMs: 300,
      bargeInResumeMs: 200,
    });
    agent.out.event({ type: 'response_started' });
    agent.out.audio(new Int16Array(32_000).fill(1_000), 16_000); // 2 s of reply
    time.advance(100);
    for (let i = 0; i < 8; i++) sendFrame(voiced(i)); // "mm-hm": 160 ms
    const held = sent.length;
    for (let i = 0; i < 12; i++) sendFrame(new Int16Array(960)); // 240 ms of silence releases it
    expect(agent.interrupts).toBe(0);
    expect(events.some((e) => e.type === 'barge_in')).toBe(false);
    expect(p.stats.bargeInsDropped).toBe(1);
    time.advance(200);
    expect(sent.length).toBeGreaterThan(held + 5); // the reply is heard again
    // ...all of it: the hold paused the reply, it dropped nothing (2 s = 100 frames).
    time.advance(3_000);
    expect(sent.length).toBe(100);
  });

  it('Silero by default for agents that can be interrupted; energy for those that cannot (echo), unless asked', () => {
    const mk = (bargeIn: boolean, turn?: unknown) =>
      new VoicePipeline({
        sessionId: 's',
        agent: () => Object.assign(new TestAgent(), { bargeIn }),
        sendRtp: () => {},
        emit: () => {},
        onAgentEnd: () => {},
        log: createLogger('t', 'silent'),
        turn,
      });
    const barged = mk(true);
    expect(barged.detector).toBe('silero');
    const echo = mk(false);
    expect(echo.detector).toBe('energy');
    const asked = mk(false, { detector: 'silero' });
    expect(asked.detector).toBe('silero');
    for (const p of [barged, echo, asked]) p.close();
  });

  it('noise suppression (RNNoise) cleans what the detector and the agent get, when the session asks', async () => {
    await RnnoiseModule.load();
    let seed = 9;
    const hiss = () =>
      Int16Array.from({ length: 960 }, () => {
        seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
        return Math.round((seed / 0x7fffffff - 0.5) * 3_000);
      });
    const level = (frames: UserAudio[]) => {
      let e = 0;
      let n = 0;
      for (const f of frames)
        for (const v of f.pcm) {
          e += v * v;
          n++;
        }
      return Math.sqrt(e / n);
    };
    const plain = setup();
    const cleaned = setup({ noiseSuppression: true });
    for (let i = 0; i < 100; i++) {
      const f = hiss();
      plain.sendFrame(f);
      cleaned.sendFrame(f);
    }
    const late = (a: TestAgent) => a.frames.slice(50);
    // Same 2 s of white noise through Opus: clearly less of it reaches the agent once RNNoise has
    // learnt it (6.7 dB here; without the suppressor the two are identical, 0 dB).
    expect(20 * Math.log10(level(late(plain.agent)) / level(late(cleaned.agent)))).toBeGreaterThan(4);
    expect(cleaned.agent.frames.every((f) => f.pcm.length === 320)).toBe(true);
  });

  it('session settings: validated, applied over the defaults, changeable by session.update', () => {
    const { p } = setup({ hangoverMs: 300 });
    expect(p.turnConfig).toMatchObject({ detector: 'energy', hangoverMs: 300 });
    expect(p.updateTurn({ hangoverMs: 700, bargeInConfirmMs: 500 })).toMatchObject({
      hangoverMs: 700,
      bargeInConfirmMs: 500,
    });
    expect(() => p.updateTurn({ hangoverMs: 5 })).toThrow(
      /hangoverMs: must be a whole number of ms from 100/,
    );
    expect(() => p.updateTurn({ hangover: 500 })).toThrow(/hangover: unknown setting/);
    expect(p.turnConfig.hangoverMs).toBe(700);
  });

  it('conceals a lost packet so the agent still gets every 20 ms of media time, and counts malformed packets', () => {
    const { agent, p, time } = setup();
    const enc = new OpusEncoder();
    p.onRtp(0, 0, enc.encode(voiced(0)));
    time.advance(20);
    p.onRtp(2, 1_920, enc.encode(voiced(2))); // 1 is missing
    time.advance(100); // past the jitter buffer's wait
    p.onRtp(3, 2_880, Buffer.from([0xfb, 0x00])); // malformed
    time.advance(20);
    expect(agent.frames.map((f) => f.mediaMs)).toEqual([0, 20, 40, 60]);
    expect(p.stats).toMatchObject({ fecRecovered: 1, malformed: 1 });
  });
});
