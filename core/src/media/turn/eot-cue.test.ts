import { describe, expect, it } from 'vitest';
import { EndOfTurnCue, eotProbability } from './eot-cue.js';
import { EOT_WEIGHTS } from './eot-weights.js';

const RATE = 16_000;
const FRAME = 320;

/** A voiced phrase ending in a glide from f0a to f0b Hz, fading over its last 150 ms. */
function phrase(f0a: number, f0b: number, ms = 800): Int16Array {
  const n = (ms * RATE) / 1000;
  const out = new Int16Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const f = f0a + ((f0b - f0a) * i) / n;
    phase += (2 * Math.PI * f) / RATE;
    const fade = Math.min(1, (n - i) / (0.15 * RATE));
    out[i] = Math.round(8_000 * fade * (Math.sin(phase) + 0.5 * Math.sin(2 * phase)));
  }
  return out;
}

function cueAfter(pcm: Int16Array, speech = true): EndOfTurnCue {
  const cue = new EndOfTurnCue({ rate: RATE });
  for (let at = 0; at + FRAME <= pcm.length; at += FRAME) cue.push(pcm.subarray(at, at + FRAME), speech);
  return cue;
}

describe('prosodic end-of-turn cue', () => {
  it('reads a falling phrase end as a fall and a rising one as a rise', () => {
    const fall = cueAfter(phrase(180, 120)).features();
    const rise = cueAfter(phrase(150, 210)).features();
    expect(fall?.f0Slope).toBeLessThan(-3);
    expect(rise?.f0Slope).toBeGreaterThan(3);
    expect(fall?.f0End).toBeLessThan(0);
    expect(rise?.f0End).toBeGreaterThan(0);
  });

  it('with the committed weights, a fall is more final than a rise', () => {
    const pFall = cueAfter(phrase(180, 120)).finalProbability() as number;
    const pRise = cueAfter(phrase(150, 210)).finalProbability() as number;
    expect(pFall).toBeGreaterThan(pRise);
    expect(pFall).toBeGreaterThanOrEqual(0);
    expect(pRise).toBeLessThanOrEqual(1);
  });

  it('is deterministic: the same audio gives the same probability, bit for bit', () => {
    const a = cueAfter(phrase(170, 130)).finalProbability();
    const b = cueAfter(phrase(170, 130)).finalProbability();
    expect(a).toBeDefined();
    expect(a).toBe(b);
    // Asking twice (the pitch cache) changes nothing.
    const cue = cueAfter(phrase(170, 130));
    expect(cue.finalProbability()).toBe(cue.finalProbability());
    expect(cue.finalProbability()).toBe(a);
  });

  it('cannot tell (undefined, not final) from silence or from frames the detector called background', () => {
    const silent = cueAfter(new Int16Array(RATE));
    expect(silent.features()).toBeUndefined();
    expect(silent.isFinal()).toBe(false);
    expect(cueAfter(phrase(180, 120), false).features()).toBeUndefined();
  });

  it('the logistic model is a sigmoid of the standardised, weighted features', () => {
    const w = {
      mean: [0, 0, 0, 0, 0],
      std: [1, 1, 1, 1, 1],
      weights: [1, 0, 0, 0, 0],
      bias: 0,
      threshold: 0.5,
      trainedOn: '',
    };
    const f = { f0Slope: 0, f0End: 5, f0AboveLow: 5, energySlope: 5, lastVoicedMs: 5 };
    expect(eotProbability(f, w)).toBe(0.5);
    expect(eotProbability({ ...f, f0Slope: 2 }, w)).toBeCloseTo(1 / (1 + Math.exp(-2)), 12);
    expect(EOT_WEIGHTS.weights).toHaveLength(5);
  });
});
