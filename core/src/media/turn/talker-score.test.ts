import { describe, expect, it } from 'vitest';
import {
  FrameSpectrum,
  type GateView,
  TALKER_FEATURES,
  TalkerScore,
  type TalkerWeights,
  talkerLogit,
} from './talker-score.js';
import { TALKER_WEIGHTS } from './talker-weights.js';

const RATE = 16_000;

/** 20 ms frames of a sine at `hz` (amplitude `amp`), plus seeded noise of amplitude `noise`, continuing across calls. */
function source(hz: number, amp: number, noise = 0) {
  let n = 0;
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648 - 0.5;
  };
  return () => {
    const x = new Int16Array(320);
    for (let i = 0; i < x.length; i++, n++)
      x[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * n) / RATE) + noise * 2 * rnd());
    return x;
  };
}

const view = (over: Partial<GateView> = {}): GateView => ({
  probability: 0.9,
  sinceLoud: 0,
  loud: true,
  gate: true,
  overFloorDb: 20,
  overTalkerDb: 0,
  ...over,
});

describe('talker score', () => {
  it('puts a tone in its band and counts its zero crossings', () => {
    for (const [hz, band] of [
      [300, 0],
      [1_000, 1],
      [3_000, 2],
    ] as const) {
      const s = new FrameSpectrum();
      const next = source(hz, 8_000);
      for (let i = 0; i < 5; i++) s.push(next());
      const loudest = [...s.bandDb].indexOf(Math.max(...s.bandDb));
      expect(loudest).toBe(band);
      // A sine crosses zero twice a period.
      expect(s.zcr).toBeCloseTo((2 * hz) / RATE, 2);
    }
  });

  it('measures a frame against the background the model called not speech', () => {
    const s = new FrameSpectrum();
    const t = new TalkerScore();
    const noise = source(0, 0, 2_000);
    for (let i = 0; i < 200; i++) {
      s.push(noise());
      t.background(s);
    }
    // The same noise again: about the background's median in every band, crossings as usual.
    s.push(noise());
    expect(Number.isNaN(t.score(s, view()))).toBe(true); // no weights: features only
    for (let k = 6; k <= 8; k++) expect(Math.abs(t.features[k] as number)).toBeLessThan(3);
    // A voice-like 300 Hz tone over it: 300 Hz band far over the background, fewer crossings.
    const voiced = source(300, 6_000, 2_000);
    s.push(voiced());
    s.push(voiced());
    t.score(s, view());
    expect(t.features[6]).toBeGreaterThan(15);
    expect(t.features[9]).toBeLessThan(-0.1);
  });

  it('fills the features in the documented order', () => {
    const s = new FrameSpectrum();
    const t = new TalkerScore();
    s.push(source(1_000, 1_000)());
    t.score(
      s,
      view({ probability: 0.5, sinceLoud: 3, loud: false, gate: true, overFloorDb: 7, overTalkerDb: -12 }),
    );
    expect(TALKER_FEATURES.length).toBe(t.features.length);
    expect([...t.features.subarray(0, 6)]).toEqual([0, Math.log1p(3), 0, 1, 7, -12]);
    // Before any background frame the band and crossing features are 0, neither way.
    expect([...t.features.subarray(6)]).toEqual([0, 0, 0, 0]);
  });

  it('computes the network by hand', () => {
    const w: TalkerWeights = {
      mean: [1, 0],
      std: [2, 1],
      hidden: [1, 0, 0.5, -1],
      hiddenBias: [0, 0.25],
      out: [2, -1],
      outBias: 0.1,
      threshold: 0,
      trainedOn: 'test',
    };
    const x = [3, 0.5];
    const z = [(3 - 1) / 2, 0.5];
    const expected =
      0.1 + 2 * Math.tanh(z[0] as number) - Math.tanh(0.5 * (z[0] as number) - (z[1] as number) + 0.25);
    expect(talkerLogit(w, x)).toBeCloseTo(expected, 12);
  });

  it('ships weights that fit the features', () => {
    const d = TALKER_FEATURES.length;
    const h = TALKER_WEIGHTS.out.length;
    expect(h).toBeGreaterThan(0);
    expect(TALKER_WEIGHTS.mean.length).toBe(d);
    expect(TALKER_WEIGHTS.std.length).toBe(d);
    expect(TALKER_WEIGHTS.hidden.length).toBe(h * d);
    expect(TALKER_WEIGHTS.hiddenBias.length).toBe(h);
    expect(Number.isFinite(TALKER_WEIGHTS.threshold)).toBe(true);
  });
});
