import { describe, expect, it } from 'vitest';
import { BargeInPolicy } from './barge-in.js';

describe('BargeInPolicy (backchannel-proof barge-in)', () => {
  it('holds at the onset and interrupts once the turn has confirmMs of speech', () => {
    const p = new BargeInPolicy({ confirmMs: 200 });
    expect(p.turnStarted(1_000, 40)).toBe('hold');
    const actions = Array.from({ length: 8 }, (_, i) => p.frame(true, 1_060 + i * 20, true));
    // 40 ms at the onset + 8 x 20 ms = 200 ms: the eighth frame confirms.
    expect(actions.slice(0, 7)).toEqual(Array(7).fill(undefined));
    expect(actions[7]).toBe('interrupt');
    expect(p.state).toBe('idle');
  });

  it('a backchannel (short speech, then silence) is released without an interruption', () => {
    const p = new BargeInPolicy({ confirmMs: 300, resumeMs: 100 });
    p.turnStarted(0, 40);
    for (let i = 0; i < 5; i++) expect(p.frame(true, 60 + i * 20, true)).toBeUndefined(); // 140 ms in all
    expect(p.frame(false, 160, true)).toBeUndefined();
    expect(p.frame(false, 180, true)).toBeUndefined();
    expect(p.frame(false, 200, true)).toBeUndefined();
    expect(p.frame(false, 220, true)).toBeUndefined();
    expect(p.frame(false, 240, true)).toBe('resume');
  });

  it('a pause shorter than resumeMs does not reset the speech counted so far', () => {
    const p = new BargeInPolicy({ confirmMs: 100, resumeMs: 200 });
    p.turnStarted(0, 40);
    expect(p.frame(true, 60, true)).toBeUndefined();
    expect(p.frame(false, 80, true)).toBeUndefined();
    expect(p.frame(true, 100, true)).toBeUndefined();
    expect(p.frame(true, 120, true)).toBe('interrupt'); // 40 + 3 x 20 ms of speech, the gap not counted
  });

  it('the user turn ending releases a pending barge-in; speech in a turn kept open re-arms it', () => {
    const p = new BargeInPolicy({ confirmMs: 100 });
    p.turnStarted(0, 40);
    expect(p.turnEnded()).toBe('resume');
    expect(p.turnEnded()).toBeUndefined();
    // Not armed (agent quiet): speech does nothing.
    expect(p.frame(true, 500, false)).toBeUndefined();
    // Armed: a new pending barge-in from this frame.
    expect(p.frame(true, 520, true)).toBe('hold');
    expect(p.onsetAt).toBe(500);
  });

  it('only speech the detector is sure of confirms; doubted speech neither confirms nor releases', () => {
    const p = new BargeInPolicy({ confirmMs: 100, resumeMs: 60 });
    expect(p.frame(true, 20, true, false)).toBe('hold');
    // Ten doubted frames (background talk the model half-believes): still pending, not released.
    for (let i = 0; i < 10; i++) expect(p.frame(true, 40 + i * 20, true, false)).toBeUndefined();
    expect(p.state).toBe('pending');
    // Five confident frames confirm it.
    const actions = Array.from({ length: 5 }, (_, i) => p.frame(true, 240 + i * 20, true, true));
    expect(actions).toEqual([undefined, undefined, undefined, undefined, 'interrupt']);
  });

  it('confirmMs 0 interrupts at the onset, as the old rule did', () => {
    expect(new BargeInPolicy({ confirmMs: 0 }).turnStarted(0, 40)).toBe('interrupt');
  });
});
