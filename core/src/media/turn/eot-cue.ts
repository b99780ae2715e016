/**
 * A prosodic end-of-turn cue, lexicon-free: when the caller pauses, the last
 * half second of voice says whether they finished. A statement's end falls in
 * pitch and fades; a continuation ("for two, ...", a hesitation) holds or
 * rises. At a pause the endpointer asks `finalProbability()`; a confident
 * "final" ends the turn after a short hangover, anything else keeps the long
 * one (so a wrong "not final" only costs latency, a wrong "final" a premature end).
 *
 * The features are cheap (a pitch track of the last second, computed once
 * per pause, not per frame) and scored by a small logistic model whose
 * weights `node loadtest/dist/bench/turns/train-eot.js --write` fits on one split of the
 * corpus (see eot-weights.ts).
 *
 * Pure: frames in, a probability out.
 */
import { EOT_WEIGHTS } from './eot-weights.js';
import { type PitchFrame, pitchOf, semitones, slope } from './pitch.js';

/** The fitted logistic model; its numbers live in the generated eot-weights.ts. */
export interface EotWeights {
  /** Feature order: EOT_FEATURES. */
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
  /** Probability at or above which a pause is called final. */
  threshold: number;
  /** What it was fitted on and how it scored, for the record. */
  trainedOn: string;
}

export interface EotFeatures {
  /** Pitch slope over the last voiced frames, semitones per second. */
  f0Slope: number;
  /** Pitch of the last voiced frames relative to the window's median, semitones. */
  f0End: number;
  /** Level slope over the last voiced frames, dB per second. */
  energySlope: number;
  /** Pitch of the last voiced frames above the window's low end (10th percentile), semitones. */
  f0AboveLow: number;
  /** The last run of voiced frames (final lengthening), ms. */
  lastVoicedMs: number;
}

export const EOT_FEATURES: readonly (keyof EotFeatures)[] = [
  'f0Slope',
  'f0End',
  'f0AboveLow',
  'energySlope',
  'lastVoicedMs',
];

export interface EndOfTurnCueOptions {
  /** Sample rate of the frames pushed in. */
  rate?: number;
  /** Audio kept for the decision. */
  windowMs?: number;
  /** Voiced frames at the end that the slopes are fitted over. */
  tailFrames?: number;
  weights?: EotWeights;
}

const HOP_MS = 20;
const UNVOICED: PitchFrame = { f0: 0, voicing: 0, db: -120 };

export class EndOfTurnCue {
  private readonly rate: number;
  private readonly ring: Int16Array;
  /** Per sample: whether the detector called its frame the talker's speech. */
  private readonly talker: Uint8Array;
  private pos = 0;
  private filled = 0;
  /** Samples pushed so far: pitch frames are cached by their absolute start. */
  private total = 0;
  private readonly pitchCache = new Map<number, PitchFrame>();
  private readonly tail: number;
  private readonly weights: EotWeights;

  constructor(opts: EndOfTurnCueOptions = {}) {
    this.rate = opts.rate ?? 16_000;
    this.ring = new Int16Array(Math.round(((opts.windowMs ?? 1_000) * this.rate) / 1000));
    this.talker = new Uint8Array(this.ring.length);
    this.tail = opts.tailFrames ?? 8;
    this.weights = opts.weights ?? EOT_WEIGHTS;
  }

  /**
   * Every frame of the caller's audio, in order (a copy into a ring: no
   * allocation), with the detector's decision: only the talker's frames are
   * read for pitch, so voices in the background do not lend theirs.
   */
  push(pcm: Int16Array, speech = true): void {
    for (let i = 0; i < pcm.length; i++) {
      this.ring[this.pos] = pcm[i] as number;
      this.talker[this.pos] = speech ? 1 : 0;
      this.pos = (this.pos + 1) % this.ring.length;
    }
    this.filled = Math.min(this.ring.length, this.filled + pcm.length);
    this.total += pcm.length;
  }

  /** The window, oldest sample first, and whether each sample was the talker's. */
  private window(): [Int16Array, Uint8Array] {
    const out = new Int16Array(this.filled);
    const flags = new Uint8Array(this.filled);
    const start = (this.pos - this.filled + this.ring.length) % this.ring.length;
    for (let i = 0; i < this.filled; i++) {
      out[i] = this.ring[(start + i) % this.ring.length] as number;
      flags[i] = this.talker[(start + i) % this.ring.length] as number;
    }
    return [out, flags];
  }

  /** Features of the audio pushed so far; undefined when too little of it is voiced to tell. */
  features(): EotFeatures | undefined {
    const [x, flags] = this.window();
    const hop = Math.round((HOP_MS * this.rate) / 1000);
    const frames: PitchFrame[] = [];
    const first = this.total - this.filled;
    // Pauses come close together in speech: a frame tracked at the last pause is not tracked again.
    for (const k of this.pitchCache.keys()) if (k < first) this.pitchCache.delete(k);
    for (let at = 0; at + 2 * hop <= x.length; at += hop) {
      // A window centred on a frame the detector called background is not the talker's.
      if (flags[at + hop] !== 1) {
        frames.push(UNVOICED);
        continue;
      }
      let f = this.pitchCache.get(first + at);
      if (!f) {
        f = pitchOf(x.subarray(at, at + 2 * hop), { rate: this.rate });
        this.pitchCache.set(first + at, f);
      }
      frames.push(f);
    }
    if (frames.length === 0) return undefined;
    const loudest = Math.max(...frames.map((f) => f.db));
    // Quiet voiced frames are likely someone else (babble) or a decaying echo: not the caller.
    const voiced = frames.map((f) => f.f0 > 0 && f.db > loudest - 20);
    const st = frames.map((f) => (f.f0 > 0 ? semitones(f.f0) : Number.NaN));
    const idx = voiced.flatMap((v, i) => (v ? [i] : []));
    if (idx.length < 3) return undefined;
    const sorted = idx.map((i) => st[i] as number).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] as number;
    const low = sorted[Math.floor(sorted.length / 10)] as number;
    // Octave jumps and creak are outliers of the tracker, not intonation.
    const kept = idx.filter((i) => Math.abs((st[i] as number) - median) < 7);
    const last = kept.slice(-this.tail);
    if (last.length < 3) return undefined;
    const t = last.map((i) => (i * HOP_MS) / 1000);
    const endSt = last.slice(-3).reduce((a, i) => a + (st[i] as number), 0) / 3;
    let run = 0;
    for (let i = last[last.length - 1] as number; i >= 0 && voiced[i]; i--) run++;
    return {
      f0Slope: slope(
        t,
        last.map((i) => st[i] as number),
      ),
      f0End: endSt - median,
      energySlope: slope(
        t,
        last.map((i) => (frames[i] as PitchFrame).db),
      ),
      f0AboveLow: endSt - low,
      lastVoicedMs: run * HOP_MS,
    };
  }

  /** Probability that the pause now starting ends the turn; undefined when the audio cannot tell. */
  finalProbability(): number | undefined {
    const f = this.features();
    return f === undefined ? undefined : eotProbability(f, this.weights);
  }

  /** Whether the pause now starting ends the turn (undecided counts as not: the long hangover is the safe side). */
  isFinal(): boolean {
    return (this.finalProbability() ?? 0) >= this.weights.threshold;
  }
}

/** The logistic model: standardised features, weighted sum, sigmoid. Deterministic. */
export function eotProbability(f: EotFeatures, w: EotWeights): number {
  let z = w.bias;
  EOT_FEATURES.forEach((k, i) => {
    const std = (w.std[i] as number) || 1;
    z += (w.weights[i] as number) * ((f[k] - (w.mean[i] as number)) / std);
  });
  return 1 / (1 + Math.exp(-z));
}
