/**
 * Voice activity detection on 20 ms PCM16 frames: frame energy against an
 * adaptive noise floor, plus the zero-crossing rate to keep broadband noise
 * (high ZCR at modest energy) from counting as speech. Onset needs a couple of
 * speech frames in a row (so a click does not start a turn); the end of
 * speech waits out a hangover (so pauses between words do not end it).
 *
 * Pure and synchronous: frames in, at most one event out per frame; `tick`
 * ends a turn on the clock when frames stop coming.
 */

import { Endpointer, type TurnEvent } from './turn/endpointer.js';
import { EndOfTurnCue } from './turn/eot-cue.js';

export interface EnergyOptions {
  /** A frame is speech when it is this far above the noise floor... */
  marginDb?: number;
  /** ...and above this absolute level. */
  minDbfs?: number;
  /** Frames whose ZCR exceeds this need `noisyExtraDb` more energy (fricatives are loud enough). */
  maxVoicedZcr?: number;
  noisyExtraDb?: number;
  /** Frames the noise floor looks back over (100 x 20 ms = 2 s). */
  floorWindow?: number;
  /** The floor assumed until real frames fill the window. */
  initialFloorDb?: number;
}

export interface VadOptions extends EnergyOptions {
  /** Speech frames in a row before speech_started. 2 x 20 ms = 40 ms. */
  startFrames?: number;
  /** Silence that ends a turn. */
  hangoverMs?: number;
  /** What decides speech per frame; the energy classifier unless given (e.g. Silero, see turn/). */
  classifier?: FrameClassifier;
  /**
   * The hangover for pauses the prosodic end-of-turn cue (turn/eot-cue.ts)
   * calls final; unset: no cue, every pause waits `hangoverMs`.
   */
  finalHangoverMs?: number;
  /** Sample rate of the frames (the cue's pitch tracker needs it). */
  rate?: number;
}

/** One 20 ms frame's speech decision. Stateful: frames come in order, one stream per instance. */
export interface FrameClassifier {
  readonly name: string;
  classify(pcm: Int16Array): boolean;
  /**
   * Whether the last frame is speech the classifier is sure of (barge-in
   * confirmation counts only these); absent: every speech frame is.
   */
  readonly confident?: boolean;
  /** Frees native or WebAssembly state. */
  close?(): void;
}

export type VadEvent = TurnEvent;

export interface FrameFeatures {
  dbfs: number;
  zcr: number;
}

export function frameFeatures(pcm: Int16Array): FrameFeatures {
  let energy = 0;
  let crossings = 0;
  let prev = pcm[0] ?? 0;
  for (let i = 0; i < pcm.length; i++) {
    const v = pcm[i] as number;
    energy += v * v;
    if (v >= 0 !== prev >= 0) crossings++;
    prev = v;
  }
  const rms = Math.sqrt(energy / Math.max(1, pcm.length));
  return {
    dbfs: rms > 0 ? 20 * Math.log10(rms / 32768) : -120,
    zcr: crossings / Math.max(1, pcm.length - 1),
  };
}

/** Frame energy against a minimum-statistics noise floor, with a zero-crossing check against hiss. */
export class EnergyClassifier implements FrameClassifier {
  readonly name = 'energy';
  /** Noise floor estimate, dBFS. */
  floorDb: number;
  /** The last frame's features (a gate for costlier classifiers reads them). */
  last: FrameFeatures = { dbfs: -120, zcr: 0 };
  private readonly window: Float32Array;
  private windowPos = 0;
  private windowFill = 0;
  private readonly marginDb: number;
  private readonly minDbfs: number;
  private readonly maxVoicedZcr: number;
  private readonly noisyExtraDb: number;

  constructor(opts: EnergyOptions = {}) {
    this.marginDb = opts.marginDb ?? 12;
    this.minDbfs = opts.minDbfs ?? -50;
    this.maxVoicedZcr = opts.maxVoicedZcr ?? 0.25;
    this.noisyExtraDb = opts.noisyExtraDb ?? 10;
    // Start as if the last window had been quiet room noise, so a caller who talks from the first
    // frame is not taken for the noise floor; real quiet frames take over within one window.
    this.window = new Float32Array(opts.floorWindow ?? 100).fill(opts.initialFloorDb ?? -65);
    this.windowFill = this.window.length;
    this.floorDb = opts.initialFloorDb ?? -65;
  }

  classify(pcm: Int16Array): boolean {
    const f = frameFeatures(pcm);
    this.last = f;
    const speech = this.isSpeech(f);
    this.trackFloor(f.dbfs);
    return speech;
  }

  isSpeech(f: FrameFeatures): boolean {
    const needed = this.floorDb + this.marginDb + (f.zcr > this.maxVoicedZcr ? this.noisyExtraDb : 0);
    return f.dbfs > this.minDbfs && f.dbfs > needed;
  }

  /**
   * Minimum statistics: the floor is the quietest frame of the last
   * `floorWindow` frames. Speech always has dips between syllables, so the
   * floor follows steady background noise within that window while a talker
   * does not drag it up.
   */
  private trackFloor(db: number): void {
    this.window[this.windowPos] = Math.max(db, -90);
    this.windowPos = (this.windowPos + 1) % this.window.length;
    this.windowFill = Math.min(this.windowFill + 1, this.window.length);
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.windowFill; i++) min = Math.min(min, this.window[i] as number);
    this.floorDb = min;
  }
}

/** A frame classifier plus turn boundaries (onset run, hangover on the clock). */
export class VoiceActivityDetector {
  /** Whether the last frame processed was classified as speech (a turn's hangover frames are not). */
  lastFrameWasSpeech = false;
  /** Whether that frame was speech the classifier is sure of (FrameClassifier.confident). */
  lastFrameConfident = false;
  readonly classifier: FrameClassifier;
  private readonly energy?: EnergyClassifier;
  private readonly turn: Endpointer;
  private readonly cue?: EndOfTurnCue;
  private readonly askCue?: () => boolean;

  constructor(opts: VadOptions = {}) {
    this.turn = new Endpointer({
      startMs: (opts.startFrames ?? 2) * 20,
      hangoverMs: opts.hangoverMs,
      finalHangoverMs: opts.finalHangoverMs,
    });
    if (opts.finalHangoverMs !== undefined) {
      const cue = new EndOfTurnCue({ rate: opts.rate ?? 16_000 });
      this.cue = cue;
      this.askCue = () => cue.isFinal();
    }
    if (opts.classifier) this.classifier = opts.classifier;
    else {
      this.energy = new EnergyClassifier(opts);
      this.classifier = this.energy;
    }
  }

  get speaking(): boolean {
    return this.turn.speaking;
  }

  /** The energy classifier's noise floor (dBFS), when that is the classifier. */
  get floorDb(): number {
    return this.energy?.floorDb ?? Number.NaN;
  }

  set floorDb(db: number) {
    if (this.energy) this.energy.floorDb = db;
  }

  /** Classifies one frame received at `now` (ms); returns a state change, if any. */
  process(pcm: Int16Array, now: number): VadEvent | undefined {
    const speech = this.classifier.classify(pcm);
    this.lastFrameWasSpeech = speech;
    this.lastFrameConfident = speech && (this.classifier.confident ?? true);
    this.cue?.push(pcm, speech);
    return this.turn.frame(speech, now, this.askCue);
  }

  /** No frame came: ends the turn if its hangover ran out by `now` (media stopped, DTX). */
  tick(now: number): VadEvent | undefined {
    return this.turn.tick(now);
  }

  /** When the current turn ends if no more speech comes; undefined outside a turn. */
  endDueAt(): number | undefined {
    return this.turn.endDueAt();
  }

  isSpeech(f: FrameFeatures): boolean {
    return this.energy?.isSpeech(f) ?? false;
  }

  close(): void {
    this.classifier.close?.();
  }
}
