import { describe, expect, it } from 'vitest';
import { TurnResponder } from './turn-responder.js';

function manualTimers() {
  const queue: { fn: () => void; cancelled: boolean }[] = [];
  return {
    setTimer: (_ms: number, fn: () => void) => {
      const t = { fn, cancelled: false };
      queue.push(t);
      return () => {
        t.cancelled = true;
      };
    },
    runAll() {
      for (let t = queue.shift(); t; t = queue.shift()) if (!t.cancelled) t.fn();
    },
    runOne() {
      const t = queue.shift();
      if (t && !t.cancelled) t.fn();
    },
  };
}

function sink() {
  const log: string[] = [];
  let samples = 0;
  return {
    log,
    samples: () => samples,
    audio: (pcm: Int16Array, rate: number) => {
      samples += pcm.length;
      log.push(`audio@${rate}`);
    },
    responseStarted: (id: string) => log.push(`started ${id}`),
    responseDone: (id: string, cancelled: boolean) => log.push(`done ${id}${cancelled ? ' cancelled' : ''}`),
    transcript: (role: string, text: string) => log.push(`${role}: ${text}`),
  };
}

describe('TurnResponder (reference model behaviour)', () => {
  it('answers a finished turn with a chime of replyMs in chunks, then transcripts and done', () => {
    const t = manualTimers();
    const s = sink();
    const r = new TurnResponder(s, { sampleRate: 24_000, replyMs: 500, chunkMs: 100, setTimer: t.setTimer });
    r.userAudio(16_000, 16_000);
    r.turnEnded();
    t.runAll();
    expect(s.samples()).toBe(12_000);
    expect(s.log[0]).toBe('user: (1.0 s of speech)');
    expect(s.log[1]).toBe('started resp_1');
    expect(s.log.filter((l) => l === 'audio@24000')).toHaveLength(5);
    expect(s.log.slice(-2)).toEqual(['agent: reply 1: a 0.5 s chime', 'done resp_1']);
    expect(r.responding).toBe(false);
  });

  it('an interrupt stops the reply mid-way and reports it cancelled', () => {
    const t = manualTimers();
    const s = sink();
    const r = new TurnResponder(s, { replyMs: 1_000, chunkMs: 100, setTimer: t.setTimer });
    r.turnEnded();
    t.runOne();
    r.interrupt();
    t.runAll();
    expect(s.samples()).toBe(2 * 2_400);
    expect(s.log.at(-1)).toBe('done resp_1 cancelled');
  });
});
