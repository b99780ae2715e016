/**
 * The talker score: for a frame the model calls speech, how likely it is the
 * talker's (near the microphone) rather than background talk or the tail the
 * model keeps calling speech after the voice stops. The foreground gate's
 * level tests alone (foreground-gate.ts) cut the talker's soft syllables
 * where they sink into white noise or hum (recall 0.85 at 10 dB) and still
 * let babble's loud stretches through; the model cannot tell either apart
 * (its probability stays >= 0.99 in both). What can: the frame's spectrum
 * against the background's. White noise spreads evenly to 8 kHz and a fan's
 * hum sits low, so a soft voiced syllable still stands out in the band the
 * noise leaves free, while a tail frame is the background's own spectrum;
 * and the zero-crossing rate moves away from the background's when a voice
 * is in the frame. So the score is a small network (one hidden layer of
 * tanh units) over the model's probability, the gate's own verdict and its
 * level tests, three band levels and the zero-crossing rate, the last four
 * against the level that half the background frames (those the model calls
 * not speech) stay under. A logistic model over the same features reached
 * held-out P 0.88 at R 0.95 (10 dB); the hidden layer, which lets the
 * spectrum count differently in each noise, 0.91 at 0.95. Weights are fitted
 * on the training corpus (talker-weights.ts, written by loadtest's
 * train-talker.ts), not set by hand; about 400 multiply-adds a speech frame.
 *
 * Pure: samples and the gate's numbers in, features and a score out.
 */
import { LevelQuantile } from './level-quantile.js';

/** The features, in the order the weights use. */
export const TALKER_FEATURES = [
  /** logit of the model's probability (clamped to 0.001-0.999). */
  'logitP',
  /** ln(1 + frames since the level gate last found the talker's level), at most 100 frames. */
  'sinceLoud',
  /** 1 when the level gate finds the talker's level in this frame. */
  'loud',
  /** 1 when the level gate alone would keep the frame (loud, or within its hold). */
  'gate',
  /** Frame level over the noise floor, dB. */
  'overFloor',
  /** Frame level against the talker's level, dB. */
  'overTalker',
  /** Level in the 300 Hz, 1 kHz and 3 kHz bands over the background's median in that band, dB. */
  'band300',
  'band1k',
  'band3k',
  /** Zero-crossing rate (per sample, at 16 kHz) minus the background's median. */
  'zcr',
] as const;

export interface TalkerWeights {
  /** Per feature: the features are standardised, (x - mean) / std, before the network. */
  mean: number[];
  std: number[];
  /** Hidden layer: `hidden` rows of TALKER_FEATURES.length weights, row after row. */
  hidden: number[];
  hiddenBias: number[];
  /** Output: one weight per hidden unit. */
  out: number[];
  outBias: number;
  /** A speech frame is the talker's when the score (the output's logit) is at least this. */
  threshold: number;
  trainedOn: string;
}

/**
 * The network's output (a logit) for raw features `x`; `z` is scratch space
 * for the standardised features (as long as x), so a frame allocates nothing.
 */
export function talkerLogit(w: TalkerWeights, x: ArrayLike<number>, z = new Float64Array(x.length)): number {
  const d = x.length;
  for (let i = 0; i < d; i++) z[i] = ((x[i] as number) - (w.mean[i] as number)) / (w.std[i] as number);
  let out = w.outBias;
  for (let h = 0; h < w.out.length; h++) {
    let a = w.hiddenBias[h] as number;
    const row = h * d;
    for (let i = 0; i < d; i++) a += (w.hidden[row + i] as number) * (z[i] as number);
    out += (w.out[h] as number) * Math.tanh(a);
  }
  return out;
}

/** Band centres, Hz: where voiced speech, its formants and its fricatives stand out from a noise. */
const BANDS_HZ = [300, 1_000, 3_000];
const RATE = 16_000;

/** Band-pass biquads (the Audio EQ Cookbook's, 0 dB at the peak), Q 0.7: an octave and a half wide. */
function bandPass(hz: number): [b0: number, b2: number, a1: number, a2: number] {
  const w = (2 * Math.PI * hz) / RATE;
  const alpha = Math.sin(w) / (2 * 0.7);
  const a0 = 1 + alpha;
  return [alpha / a0, -alpha / a0, (-2 * Math.cos(w)) / a0, (1 - alpha) / a0];
}

const [P0, P1, P2] = BANDS_HZ.map(bandPass) as [
  ReturnType<typeof bandPass>,
  ReturnType<typeof bandPass>,
  ReturnType<typeof bandPass>,
];

/**
 * Band levels and zero-crossing rate of 16 kHz frames (about 3 µs a 20 ms
 * frame: the three filters run in one pass). The filters keep their state
 * across frames, as the audio runs on.
 */
export class FrameSpectrum {
  /** The last frame's level per band, dBFS. */
  readonly bandDb = new Float64Array(BANDS_HZ.length);
  /** The last frame's zero crossings per sample. */
  zcr = 0;
  /** Per filter: x[n-1], x[n-2] (shared: the same input) and y[n-1], y[n-2]. */
  private readonly st = new Float64Array(2 + 2 * BANDS_HZ.length);

  push(x: Int16Array): void {
    const st = this.st;
    let x1 = st[0] as number;
    let x2 = st[1] as number;
    let p1 = st[2] as number;
    let p2 = st[3] as number;
    let q1 = st[4] as number;
    let q2 = st[5] as number;
    let r1 = st[6] as number;
    let r2 = st[7] as number;
    let e0 = 0;
    let e1 = 0;
    let e2 = 0;
    let crossings = 0;
    let prev = x.length > 0 ? (x[0] as number) >= 0 : true;
    for (let i = 0; i < x.length; i++) {
      const s = x[i] as number;
      const v = s / 32768;
      const d = v - x2;
      const y0 = P0[0] * d - P0[2] * p1 - P0[3] * p2;
      const y1 = P1[0] * d - P1[2] * q1 - P1[3] * q2;
      const y2 = P2[0] * d - P2[2] * r1 - P2[3] * r2;
      x2 = x1;
      x1 = v;
      p2 = p1;
      p1 = y0;
      q2 = q1;
      q1 = y1;
      r2 = r1;
      r1 = y2;
      e0 += y0 * y0;
      e1 += y1 * y1;
      e2 += y2 * y2;
      const pos = s >= 0;
      if (pos !== prev) crossings++;
      prev = pos;
    }
    st[0] = x1;
    st[1] = x2;
    st[2] = p1;
    st[3] = p2;
    st[4] = q1;
    st[5] = q2;
    st[6] = r1;
    st[7] = r2;
    const n = Math.max(1, x.length);
    this.bandDb[0] = e0 > 0 ? 10 * Math.log10(e0 / n) : -120;
    this.bandDb[1] = e1 > 0 ? 10 * Math.log10(e1 / n) : -120;
    this.bandDb[2] = e2 > 0 ? 10 * Math.log10(e2 / n) : -120;
    this.zcr = crossings / Math.max(1, x.length - 1);
  }
}

/** What the level gate knows about a frame (foreground-gate.ts fills it in). */
export interface GateView {
  probability: number;
  /** Frames since the gate last found the talker's level (0: this one). */
  sinceLoud: number;
  loud: boolean;
  /** The level gate's own decision. */
  gate: boolean;
  overFloorDb: number;
  overTalkerDb: number;
}

/**
 * The background's spectrum (medians of band levels and zero-crossing rate
 * over frames the model calls not speech) and the score against it.
 */
export class TalkerScore {
  /** The last frame's features (TALKER_FEATURES order), for fitting the weights. */
  readonly features = new Float64Array(TALKER_FEATURES.length);
  private readonly bands = BANDS_HZ.map(() => new LevelQuantile(0.5, 1));
  private readonly zcr = new LevelQuantile(0.5, 0.01);
  private readonly scratch = new Float64Array(TALKER_FEATURES.length);

  constructor(readonly weights?: TalkerWeights) {}

  /** A frame the model calls not speech: it is the background's. */
  background(s: FrameSpectrum): void {
    for (let k = 0; k < this.bands.length; k++) (this.bands[k] as LevelQuantile).push(s.bandDb[k] as number);
    this.zcr.push(s.zcr);
  }

  /** A speech frame's score (the logit; NaN without weights), its features kept in `features`. */
  score(s: FrameSpectrum, g: GateView): number {
    const f = this.features;
    const p = Math.min(0.999, Math.max(0.001, g.probability));
    f[0] = Math.log(p / (1 - p));
    f[1] = Math.log1p(Math.min(100, g.sinceLoud));
    f[2] = g.loud ? 1 : 0;
    f[3] = g.gate ? 1 : 0;
    f[4] = finite(g.overFloorDb);
    f[5] = finite(g.overTalkerDb);
    for (let k = 0; k < this.bands.length; k++)
      f[6 + k] = finite((s.bandDb[k] as number) - (this.bands[k] as LevelQuantile).level);
    f[9] = finite(s.zcr - this.zcr.level);
    return this.weights ? talkerLogit(this.weights, f, this.scratch) : Number.NaN;
  }
}

/** Before the background or the talker has a level the difference is unknown: 0, neither way. */
const finite = (x: number) => (Number.isFinite(x) ? x : 0);
