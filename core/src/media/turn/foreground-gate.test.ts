import { describe, expect, it } from 'vitest';
import { ForegroundGate } from './foreground-gate.js';
import { FrameSpectrum, TALKER_FEATURES, type TalkerWeights } from './talker-score.js';

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

describe('foreground gate with the talker score', () => {
  /** A network whose output is `bias` whatever the features: keep (bias 5) or drop (-5) every speech frame. */
  const constant = (bias: number): TalkerWeights => ({
    mean: new Array(TALKER_FEATURES.length).fill(0),
    std: new Array(TALKER_FEATURES.length).fill(1),
    hidden: new Array(TALKER_FEATURES.length).fill(0),
    hiddenBias: [0],
    out: [0],
    outBias: bias,
    threshold: 0,
    trainedOn: 'test',
  });
  const spectrum = () => {
    const s = new FrameSpectrum();
    s.push(new Int16Array(320).fill(100));
    return s;
  };

  it('lets the score decide a frame the level tests would drop, and only with a spectrum', () => {
    const s = spectrum();
    const keep = new ForegroundGate({ talker: constant(5) });
    const levels = new ForegroundGate({ talker: null });
    for (let i = 0; i < 100; i++) {
      keep.frame(-20, true, -42, 0.99, s);
      levels.frame(-20, true, -42, 0.99, s);
    }
    for (let i = 0; i < 10; i++) {
      levels.frame(-38, true, -42, 0.99, s);
      keep.frame(-38, true, -42, 0.99, s);
    }
    // 10 frames after the talker's last loud one, 18 dB under them, near the floor: the level tests drop it.
    expect(levels.frame(-38, true, -42, 0.99, s)).toBe(false);
    expect(keep.frame(-38, true, -42, 0.99, s)).toBe(true);
    expect(keep.scored).toBe(true);
    // Without the spectrum the level tests decide.
    expect(keep.frame(-38, true, -42, 0.99)).toBe(false);
    // A score under the threshold drops even the talker's loud frame; not speech stays not speech.
    const drop = new ForegroundGate({ talker: constant(-5) });
    expect(drop.frame(-20, true, -42, 0.99, s)).toBe(false);
    expect(keep.frame(-20, false, -42, 0.99, s)).toBe(false);
  });

  it('in a background that is itself speech, keeps nothing far from the talker however it scores', () => {
    const s = spectrum();
    const run = (backgroundIsSpeech: boolean) => {
      const g = new ForegroundGate({ talker: constant(5), maxSinceLoud: 25, farFrames: 25 });
      for (let i = 0; i < 100; i++) g.frame(-20, true, -42, 0.99, s);
      // 20 s away from the talker: babble the model calls speech on most frames, or noise it does not.
      let kept = 0;
      let keptLate = 0;
      for (let i = 0; i < 1_000; i++) {
        const speech = backgroundIsSpeech ? i % 4 !== 0 : i % 20 === 0;
        if (!g.frame(-38, speech, -42, 0.9, s)) continue;
        kept++;
        if (i >= 500) keptLate++;
      }
      return { kept, keptLate, share: g.backgroundSpeech };
    };
    const babble = run(true);
    expect(babble.share).toBeGreaterThan(0.5);
    // Only frames before the average (5 s) reached the speech-like mark: about 100 far frames at
    // 3 in 4 speech, plus the 25 near the talker.
    expect(babble.kept).toBeLessThan(100);
    expect(babble.keptLate).toBe(0);
    const noise = run(false);
    expect(noise.share).toBeLessThan(0.1);
    // The model's rare speech frames in a noise are the score's to judge (here: all kept).
    expect(noise.kept).toBe(50);
    expect(noise.keptLate).toBe(25);
  });
});
