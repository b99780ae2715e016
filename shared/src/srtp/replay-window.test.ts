import { describe, expect, it } from 'vitest';
import { ReplayWindow } from './replay-window.js';
import { guessRtpIndex } from './rtp-index.js';

describe('ReplayWindow', () => {
  it('accepts anything first, then rejects duplicates', () => {
    const w = new ReplayWindow(64);
    expect(w.check(1000)).toBe(true);
    w.accept(1000);
    expect(w.check(1000)).toBe(false);
    expect(w.check(1001)).toBe(true);
  });

  it('accepts out-of-order packets inside the window exactly once', () => {
    const w = new ReplayWindow(64);
    w.accept(100);
    w.accept(105);
    for (const late of [104, 101, 103, 102]) {
      expect(w.check(late)).toBe(true);
      w.accept(late);
      expect(w.check(late)).toBe(false);
    }
    expect(w.top).toBe(105);
  });

  it('rejects packets size or more behind the highest', () => {
    const w = new ReplayWindow(64);
    w.accept(200);
    expect(w.check(137)).toBe(true);
    expect(w.check(136)).toBe(false);
    expect(w.check(0)).toBe(false);
  });

  it('forgets stale bits as it slides, including after a jump past the window', () => {
    const w = new ReplayWindow(64);
    for (let i = 0; i < 64; i++) w.accept(i);
    w.accept(64 + 10);
    // 64..73 were skipped over: their ring slots held 0..9 and must read as unseen now.
    for (let i = 64; i < 74; i++) expect(w.check(i), `index ${i}`).toBe(true);
    expect(w.check(11)).toBe(false); // seen, and still inside the window
    expect(w.check(10)).toBe(false); // now 64 behind
    w.accept(10_000);
    expect(w.check(10_000 - 63)).toBe(true);
    expect(w.check(10_000 - 64)).toBe(false);
  });

  it('works for 48-bit indices', () => {
    const w = new ReplayWindow(128);
    const base = 2 ** 47 + 5;
    w.accept(base);
    expect(w.check(base)).toBe(false);
    expect(w.check(base - 1)).toBe(true);
    expect(w.check(base - 128)).toBe(false);
  });
});

describe('guessRtpIndex (RFC 3711 Appendix A)', () => {
  it('stays on the same ROC for nearby sequence numbers', () => {
    expect(guessRtpIndex(100, 101)).toBe(101);
    expect(guessRtpIndex(100, 90)).toBe(90);
    expect(guessRtpIndex(0x10000 * 3 + 40000, 40100)).toBe(0x10000 * 3 + 40100);
  });

  it('moves to ROC+1 when seq wraps past the highest', () => {
    expect(guessRtpIndex(65535, 0)).toBe(65536);
    expect(guessRtpIndex(0x10000 * 2 + 65000, 5)).toBe(0x10000 * 3 + 5);
  });

  it('moves to ROC-1 for a late packet from before the wrap', () => {
    expect(guessRtpIndex(65536, 65535)).toBe(65535);
    expect(guessRtpIndex(0x10000 * 3 + 2, 65530)).toBe(0x10000 * 2 + 65530);
  });

  it('answers -1 rather than a negative ROC', () => {
    expect(guessRtpIndex(5, 65530)).toBe(-1);
  });
});
