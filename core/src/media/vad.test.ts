import { describe, expect, it } from 'vitest';
import { frameFeatures, type VadEvent, VoiceActivityDetector } from './vad.js';

const RATE = 48_000;
const FRAME = 960;
let seed = 7;
const noise = () => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed / 0x7fffffff - 0.5;
};

/** Voiced, speech-like frame: harmonics of a gliding pitch, syllable-rate envelope. */
function voiced(frame: number, amp: number): Int16Array {
  const out = new Int16Array(FRAME);
  for (let i = 0; i < FRAME; i++) {
    const t = (frame * FRAME + i) / RATE;
    const f0 = 140 + 30 * Math.sin(2 * Math.PI * 2 * t);
    let s = 0;
    for (let h = 1; h <= 6; h++) s += Math.sin(2 * Math.PI * f0 * h * t) / h;
    out[i] = Math.round(amp * s * (0.6 + 0.4 * Math.sin(2 * Math.PI * 4 * t)));
  }
  return out;
}
const white = (amp: number) => Int16Array.from({ length: FRAME }, () => Math.round(noise() * 2 * amp));
const silence = () => new Int16Array(FRAME);

function run(vad: VoiceActivityDetector, frames: Int16Array[], t0 = 0): (VadEvent & { frame: number })[] {
  const events: (VadEvent & { frame: number })[] = [];
  frames.forEach((f, i) => {
    const e = vad.process(f, t0 + i * 20);
    if (e) events.push({ ...e, frame: i });
  });
  return events;
}

describe('VoiceActivityDetector', () => {
  it('computes level and zero-crossing rate', () => {
    const full = frameFeatures(Int16Array.from({ length: 960 }, (_, i) => (i % 2 ? 32767 : -32767)));
    expect(full.dbfs).toBeCloseTo(0, 1);
    expect(full.zcr).toBeCloseTo(1, 2);
    expect(frameFeatures(silence()).dbfs).toBe(-120);
  });

  it('starts on the second speech frame and stops after the hangover, reporting the last speech frame', () => {
    const vad = new VoiceActivityDetector({ hangoverMs: 400 });
    const frames = [
      ...Array.from({ length: 25 }, silence),
      ...Array.from({ length: 50 }, (_, i) => voiced(i, 3000)),
      ...Array.from({ length: 40 }, silence),
    ];
    const ev = run(vad, frames);
    expect(ev.map((e) => [e.type, e.frame])).toEqual([
      ['speech_started', 26],
      ['speech_stopped', 94],
    ]);
    expect(ev[1]).toMatchObject({ lastSpeechAt: 74 * 20 });
  });

  it('hears a caller who talks from the very first frame', () => {
    const ev = run(
      new VoiceActivityDetector(),
      Array.from({ length: 20 }, (_, i) => voiced(i, 3000)),
    );
    expect(ev.map((e) => [e.type, e.frame])).toEqual([['speech_started', 1]]);
  });

  it('ignores a single click', () => {
    const click = silence();
    click.fill(20_000, 100, 140);
    const ev = run(new VoiceActivityDetector(), [
      ...Array.from({ length: 20 }, silence),
      click,
      ...Array.from({ length: 20 }, silence),
    ]);
    expect(ev).toEqual([]);
  });

  it('absorbs steady background noise, then still hears speech over it', () => {
    const vad = new VoiceActivityDetector();
    const bg = () => white(300); // about -44 dBFS
    const frames = [
      ...Array.from({ length: 150 }, bg),
      ...Array.from({ length: 40 }, (_, i) => {
        const v = voiced(i, 4000);
        const n = bg();
        return v.map((x, j) => x + (n[j] as number));
      }),
    ];
    const ev = run(vad, frames);
    // Noise alone may trip it briefly at the very start (before the floor learns it), never later.
    const late = ev.filter((e) => e.frame >= 110);
    expect(late.map((e) => e.type)).toEqual(['speech_started']);
    expect(late[0]?.frame).toBeGreaterThanOrEqual(150);
    expect(late[0]?.frame).toBeLessThanOrEqual(152);
    expect(vad.floorDb).toBeGreaterThan(-50);
  });

  it('needs extra level for hiss-like (high zero-crossing) frames', () => {
    const v2 = new VoiceActivityDetector({ minDbfs: -100 });
    v2.floorDb = -60;
    expect(v2.isSpeech({ dbfs: -45, zcr: 0.1 })).toBe(true);
    expect(v2.isSpeech({ dbfs: -45, zcr: 0.5 })).toBe(false);
    expect(v2.isSpeech({ dbfs: -35, zcr: 0.5 })).toBe(true);
  });

  it('with finalHangoverMs, a falling phrase end ends the turn after the short hangover and a rising one after the long', () => {
    // 400 ms of a voiced glide at 16 kHz, fading out, then silence: the cue hears the pitch fall or rise.
    const phrase = (f0a: number, f0b: number): Int16Array[] => {
      const n = 6_400;
      const x = new Int16Array(n);
      let ph = 0;
      for (let i = 0; i < n; i++) {
        ph += (2 * Math.PI * (f0a + ((f0b - f0a) * i) / n)) / 16_000;
        x[i] = Math.round(8_000 * Math.min(1, (n - i) / 2_400) * (Math.sin(ph) + 0.5 * Math.sin(2 * ph)));
      }
      const frames = Array.from({ length: n / 320 }, (_, k) => x.subarray(k * 320, (k + 1) * 320));
      return [...frames, ...Array.from({ length: 50 }, () => new Int16Array(320))];
    };
    const stopAfterLastSpeech = (f0a: number, f0b: number) => {
      const vad = new VoiceActivityDetector({ hangoverMs: 600, finalHangoverMs: 250, rate: 16_000 });
      const ev = run(vad, phrase(f0a, f0b)).find((e) => e.type === 'speech_stopped');
      return ev?.type === 'speech_stopped' ? ev.at - ev.lastSpeechAt : undefined;
    };
    expect(stopAfterLastSpeech(220, 110)).toBe(260);
    expect(stopAfterLastSpeech(150, 210)).toBe(600);
  });
});

describe('VoiceActivityDetector: confident speech for barge-in', () => {
  it("passes the classifier's confidence on; a classifier without one makes every speech frame confident", () => {
    const pcm = new Int16Array(320);
    let next = { speech: true, confident: false };
    const doubting = {
      name: 'scripted',
      confident: false,
      classify() {
        this.confident = next.confident;
        return next.speech;
      },
    };
    const v = new VoiceActivityDetector({ classifier: doubting });
    v.process(pcm, 20);
    expect([v.lastFrameWasSpeech, v.lastFrameConfident]).toEqual([true, false]);
    next = { speech: true, confident: true };
    v.process(pcm, 40);
    expect(v.lastFrameConfident).toBe(true);
    next = { speech: false, confident: true };
    v.process(pcm, 60);
    expect(v.lastFrameConfident).toBe(false);
    const plain = new VoiceActivityDetector({ classifier: { name: 'plain', classify: () => true } });
    plain.process(pcm, 20);
    expect(plain.lastFrameConfident).toBe(true);
  });
});
