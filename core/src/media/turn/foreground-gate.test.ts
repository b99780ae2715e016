import { describe, expect, it } from 'vitest';
import { ForegroundGate } from './foreground-gate.js';

describe('foreground gate (synthetic levels)', () => {
  it('learns the talker level and gates speech frames far below it near the noise floor', () => {
    const g = new ForegroundGate({ belowDb: 10, floorMarginDb: 14, holdFrames: 0 });
    // The talker at -20 dBFS for 2 s over a -42 dBFS floor.
    for (let i = 0; i < 100; i++) expect(g.frame(-20, true, -42)).toBe(true);
    expect(g.level).toBeGreaterThan(-21);
    // Background talk at -36 dBFS that the VAD calls speech: gated.
    expect(g.frame(-36, true, -42)).toBe(false);
    // The talker's softer syllable at -28 (within 10 dB) stays.
    expect(g.frame(-28, true, -42)).toBe(true);
    // Not speech stays not speech.
    expect(g.frame(-20, false, -42)).toBe(false);
  });

  it('by default, babble well above a deep floor but far below the talker is still background', () => {
    // Babble's 2 s minimum sits in the dips between words: -55 dBFS here, its loud stretches at -36.
    const g = new ForegroundGate();
    for (let i = 0; i < 100; i++) g.frame(-18, true, -55);
    // 19 dB over the floor, 18 dB under the talker: a 14 dB floor margin took it for the talker.
    expect(new ForegroundGate({ floorMarginDb: 14, holdFrames: 0 }).frame(-36, true, -55)).toBe(true);
    for (let i = 0; i < 6; i++) expect(g.frame(-36, true, -55)).toBe(true); // the hold: 6 frames
    expect(g.frame(-36, true, -55)).toBe(false);
    // Without noise the floor lies far down and nothing is gated.
    expect(g.frame(-36, true, -120)).toBe(true);
  });

  it('never gates without noise: quiet frames far above the floor are the talker', () => {
    const g = new ForegroundGate({ belowDb: 10, floorMarginDb: 14, holdFrames: 0 });
    for (let i = 0; i < 100; i++) g.frame(-20, true, -120);
    expect(g.frame(-45, true, -120)).toBe(true);
  });

  it('holds the frames right after a loud one (syllable dips), then gates', () => {
    const g = new ForegroundGate({ belowDb: 10, floorMarginDb: 14, holdFrames: 2 });
    for (let i = 0; i < 50; i++) g.frame(-20, true, -42);
    expect([g.frame(-38, true, -42), g.frame(-38, true, -42), g.frame(-38, true, -42)]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('lets nothing be gated during warm-up, and a long run of background does not become the level', () => {
    const g = new ForegroundGate({ belowDb: 10, floorMarginDb: 14, holdFrames: 0, warmupFrames: 5 });
    for (let i = 0; i < 5; i++) expect(g.frame(-36, true, -42)).toBe(true);
    // The talker arrives: the level climbs to them within a second.
    for (let i = 0; i < 50; i++) g.frame(-20, true, -42);
    expect(g.level).toBeGreaterThan(-22);
    // Ten seconds of background talk pull the 99th-percentile level down by only ~2 dB.
    let passed = 0;
    for (let i = 0; i < 500; i++) if (g.frame(-36, true, -42)) passed++;
    expect(passed).toBe(0);
    expect(g.level).toBeGreaterThan(-24);
  });
});

describe('foreground gate with the detector probability (opt-in)', () => {
  it('is the level-only gate by default', () => {
    const g = new ForegroundGate({ belowDb: 10, floorMarginDb: 14, holdFrames: 0 });
    for (let i = 0; i < 50; i++) g.frame(-20, true, -42, 1);
    expect(g.frame(-40, true, -42, 0.999)).toBe(false);
    expect(g.frame(-29, true, -42, 0.6)).toBe(true);
  });

  const talker = () => {
    const g = new ForegroundGate({
      belowDb: 10,
      floorMarginDb: 14,
      holdFrames: 2,
      startProbability: 0.95,
      confidentProbability: 0.995,
    });
    for (let i = 0; i < 50; i++) g.frame(-20, true, -42, 1);
    return g;
  };

  it('keeps a quiet frame the model is sure of inside a run (a soft syllable in noise)', () => {
    const g = talker();
    // Near the floor, far below the talker: level alone would gate all three.
    expect([
      g.frame(-40, true, -42, 0.999),
      g.frame(-40, true, -42, 0.999),
      g.frame(-40, true, -42, 0.999),
    ]).toEqual([true, true, true]);
    // A quiet frame the model is only fairly sure of is held, then gated.
    expect([
      g.frame(-40, true, -42, 0.9),
      g.frame(-40, true, -42, 0.9),
      g.frame(-40, true, -42, 0.9),
    ]).toEqual([true, true, false]);
  });

  it('does not start a run on a confident quiet frame, nor on a loud frame the model doubts', () => {
    const g = talker();
    for (let i = 0; i < 5; i++) g.frame(-20, false, -42, 0.1);
    // Background talk scores high but is quiet: no run to continue, so it stays background.
    expect(g.frame(-40, true, -42, 0.999)).toBe(false);
    // A babble peak near the talker's level (but within 14 dB of the floor) that the model is unsure of
    // does not start one either.
    expect(g.frame(-29, true, -42, 0.8)).toBe(false);
    // The talker at that level, probable, does; and far above the floor level alone does.
    expect(g.frame(-29, true, -42, 0.97)).toBe(true);
    for (let i = 0; i < 5; i++) g.frame(-20, false, -42, 0.1);
    expect(g.frame(-25, true, -42, 0.6)).toBe(true);
  });
});
