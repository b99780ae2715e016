import { describe, expect, it } from 'vitest';
import { axisTicks, Waterfall, waterfallScale } from './waterfall.js';

describe('Waterfall', () => {
  it('times each stage from the start, and each bar starts where the previous stage ended', () => {
    const w = new Waterfall(1_000);
    w.mark('signaling', 1_040);
    w.mark('ice', 1_055);
    expect(w.complete).toBe(false);
    w.mark('dtls', 1_160);
    w.mark('audio', 1_180);
    expect(w.complete).toBe(true);
    expect(w.rows()).toEqual([
      { stage: 'signaling', label: 'Signaling', startMs: 0, endMs: 40 },
      { stage: 'ice', label: 'ICE connected', startMs: 40, endMs: 55 },
      { stage: 'dtls', label: 'DTLS connected', startMs: 55, endMs: 160 },
      { stage: 'audio', label: 'First audio', startMs: 160, endMs: 180 },
    ]);
  });

  it('keeps the first time a stage is reached (ICE reconnects do not move it)', () => {
    const w = new Waterfall();
    expect(w.mark('ice', 50)).toBe(true);
    expect(w.mark('ice', 9_000)).toBe(false);
    expect(w.ms('ice')).toBe(50);
  });

  it('stages not reached yet have no bar; a stage reached out of order never gets a negative bar', () => {
    const w = new Waterfall();
    w.mark('dtls', 100);
    w.mark('ice', 80);
    expect(w.rows()).toEqual([
      { stage: 'signaling', label: 'Signaling' },
      { stage: 'ice', label: 'ICE connected', startMs: 0, endMs: 80 },
      { stage: 'dtls', label: 'DTLS connected', startMs: 80, endMs: 100 },
      { stage: 'audio', label: 'First audio' },
    ]);
  });
});

describe('axisTicks and waterfallScale', () => {
  it('picks a round step and places each tick on the 0..1 scale', () => {
    expect(axisTicks(500, 5)).toEqual([0, 100, 200, 300, 400, 500].map((ms) => ({ ms, at: ms / 500 })));
    expect(axisTicks(3865, 3).map((t) => t.ms)).toEqual([0, 2000]);
    expect(axisTicks(3865, 4).map((t) => t.ms)).toEqual([0, 1000, 2000, 3000]);
    expect(axisTicks(0)).toEqual([{ ms: 0, at: 0 }]);
  });

  it('scales to the slowest stage, never below half a second', () => {
    const w = new Waterfall();
    expect(waterfallScale(w.rows())).toBe(500);
    w.mark('signaling', 80);
    w.mark('audio', 1234);
    expect(waterfallScale(w.rows())).toBe(1234);
  });
});
