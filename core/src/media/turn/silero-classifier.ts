import { Resampler } from '../resampler.js';
import { EnergyClassifier, type EnergyOptions, type FrameClassifier } from '../vad.js';
import { ForegroundGate, type ForegroundGateOptions } from './foreground-gate.js';
import { LevelQuantile } from './level-quantile.js';
import { SILERO_RATE, SILERO_WINDOW, type SileroStream } from './silero-onnx.js';
import { FrameSpectrum } from './talker-score.js';

export interface SileroClassifierOptions {
  /** Rate of the frames handed in; resampled to 16 kHz for the model when different. */
  rate?: number;
  /** Speech starts at this probability... */
  threshold?: number;
  /** ...and stays speech down to this one (hysteresis, as Silero's own segmenter does). */
  releaseThreshold?: number;
  /**
   * The cheap gate: a window runs the model only when one of its frames is at
   * least this far above the energy classifier's noise floor (and above
   * `gateMinDbfs`). Below that a frame is silence without asking the model.
   */
  gateDb?: number;
  gateMinDbfs?: number;
  /**
   * Outside speech the gate also wants a frame this far above the level that
   * `quietQuantile` of the background frames stay under (level-quantile.ts;
   * a frame is background once the model, or the gate, has called its window
   * not speech); false: the floor alone. Noise whose level wanders (the
   * corpus's fan and hum) rises a few dB over its 2 s minimum all the time,
   * so against the floor alone the model ran on 94-98 % of hum windows
   * without speech. Chosen on the training seeds (heldout.ts): 0.9 and 1 dB
   * took the model from 49 to 35 % of windows with precision, recall and
   * premature ends no worse.
   */
  quietMarginDb?: number | false;
  quietQuantile?: number;
  /** The noise level the foreground gate's floor test uses: the 2 s minimum, or the background quantile above. */
  foregroundFloor?: 'minimum' | 'background';
  energy?: EnergyOptions;
  /**
   * Foreground gating (foreground-gate.ts): which of the model's speech
   * frames are the talker's, by the talker score over the frame's level,
   * probability and spectrum (talker-score.ts); false: off.
   */
  foreground?: ForegroundGateOptions | false;
  /**
   * In steady speech (the last two windows run at probability >= 0.9) skip
   * every other window, keeping the last probability: halves the model's cost
   * while someone talks. The model's state carries over the gap. On by
   * default (bench: 0.30 -> 0.22 % of a core, recall within 0.01).
   */
  skipSteady?: boolean;
  /** In steady speech, windows skipped after each one run (1: every other window). */
  steadySkip?: number;
  /**
   * Reset the model's state when the gate skipped windows since its last run
   * (it did not hear them). Off by default: the state after the last window
   * it heard (background, nearly always) is a better start than a blank one,
   * which meets every onset in noise cold. Chosen on the training seeds
   * (heldout.js): premature ends 2.5 -> 1.9 %, and with barge-in confirmation
   * at 700 ms instead of 600 the same false barge-ins (0.04/min) and delay (1.21 s).
   */
  resetAfterSkip?: boolean;
  /** Probability that counts a window as steady speech. */
  steadyProbability?: number;
  /**
   * A speech frame at or above this probability is `confident`: only those
   * confirm a barge-in, so background talk and coughs the model half-believes
   * (babble mostly scores 0.8-0.99 at 10 dB) hold the agent without stopping it.
   */
  confidentProbability?: number;
}

/**
 * Silero VAD as a frame classifier. 20 ms frames are gathered into the
 * model's 32 ms windows; each frame takes the latest window's probability.
 * Outside speech, windows the energy gate calls silent are not run (their
 * probability is 0 and the model's state is reset, since it did not hear
 * them), which keeps the cost per session near the share of non-silent audio.
 */
export class SileroClassifier implements FrameClassifier {
  readonly name = 'silero';
  readonly energy: EnergyClassifier;
  /** Probability behind the last decision. */
  probability = 0;
  /** Windows run and skipped by the gate (the bench reports the share). */
  windows = { run: 0, skipped: 0 };
  private readonly buf = new Float32Array(SILERO_WINDOW * 2);
  private fill = 0;
  private windowOpen = false;
  private speech = false;
  private skippedSinceRun = 0;
  private readonly threshold: number;
  private readonly release: number;
  private readonly gateDb: number;
  private readonly gateMinDbfs: number;
  private readonly quiet?: LevelQuantile;
  private readonly quietMargin: number;
  private readonly fgFloor: 'minimum' | 'background';
  /** Levels of the frames in the window under way (a 32 ms window spans at most 3 frames). */
  private readonly pending = new Float32Array(4);
  private pendingN = 0;
  private readonly toModel?: Resampler;
  readonly foreground?: ForegroundGate;
  /** Band levels of each frame at 16 kHz, for the foreground gate's talker score. */
  readonly spectrum?: FrameSpectrum;
  private readonly skipSteady: boolean;
  private steady = 0;
  private readonly confidentP: number;
  private decision = false;
  private skippedInRow = 0;
  private readonly steadySkip: number;
  private readonly steadyP: number;
  private readonly resetAfterSkip: boolean;

  constructor(
    private readonly stream: SileroStream,
    opts: SileroClassifierOptions = {},
  ) {
    this.energy = new EnergyClassifier(opts.energy);
    this.threshold = opts.threshold ?? 0.5;
    this.release = opts.releaseThreshold ?? 0.35;
    this.gateDb = opts.gateDb ?? 3;
    this.gateMinDbfs = opts.gateMinDbfs ?? -60;
    this.fgFloor = opts.foregroundFloor ?? 'minimum';
    const margin = opts.quietMarginDb ?? 1;
    this.quietMargin = margin === false ? 0 : margin;
    if (margin !== false) this.quiet = new LevelQuantile(opts.quietQuantile ?? 0.9);
    this.skipSteady = opts.skipSteady ?? true;
    this.steadySkip = opts.steadySkip ?? 1;
    this.steadyP = opts.steadyProbability ?? 0.9;
    this.resetAfterSkip = opts.resetAfterSkip ?? false;
    this.confidentP = opts.confidentProbability ?? 0.99;
    if (opts.foreground !== false) {
      this.foreground = new ForegroundGate(opts.foreground);
      this.spectrum = new FrameSpectrum();
    }
    const rate = opts.rate ?? SILERO_RATE;
    if (rate !== SILERO_RATE) this.toModel = new Resampler(rate, SILERO_RATE, { prime: true });
  }

  classify(pcm: Int16Array): boolean {
    // The energy classifier's own decision is not used; its floor and features are the gate.
    const floor = this.energy.floorDb;
    this.energy.classify(pcm);
    const db = this.energy.last.dbfs;
    // While the model hears speech it keeps running: soft speech near the floor (a word's tail,
    // a quiet talker in noise) is exactly what the gate would cut and the model would keep.
    const quiet = this.quiet?.level ?? Number.NaN;
    const open =
      this.speech ||
      (db > this.gateMinDbfs &&
        db > floor + this.gateDb &&
        (Number.isNaN(quiet) || db > quiet + this.quietMargin));
    // The frame's level counts as background once its window is known not to be speech.
    if (this.quiet && this.pendingN < this.pending.length) this.pending[this.pendingN++] = db;
    if (open) this.windowOpen = true;
    const x = this.toModel ? this.toModel.process(pcm) : pcm;
    this.spectrum?.push(x);
    for (let i = 0; i < x.length; i++) {
      this.buf[this.fill++] = (x[i] as number) / 32768;
      if (this.fill === SILERO_WINDOW) {
        this.endWindow();
        // The rest of this frame falls in the next window.
        if (open) this.windowOpen = true;
      }
    }
    // The gate filters the decision only: the model's own state and the gate above follow the model.
    const fgFloor =
      this.fgFloor === 'background' && this.quiet && !Number.isNaN(this.quiet.level)
        ? Math.max(floor, this.quiet.level)
        : floor;
    this.decision = this.foreground
      ? this.foreground.frame(db, this.speech, fgFloor, this.probability, this.spectrum)
      : this.speech;
    return this.decision;
  }

  /** The last frame is speech and the model is at least `confidentProbability` sure of it. */
  get confident(): boolean {
    return this.decision && this.probability >= this.confidentP;
  }

  private endWindow(): void {
    this.fill = 0;
    if (this.windowOpen && this.skipSteady && this.steady >= 2 && this.skippedInRow < this.steadySkip) {
      this.skippedInRow++;
      this.windows.skipped++;
      this.windowOpen = false;
      // Steady speech: not background.
      this.pendingN = 0;
      return;
    }
    this.skippedInRow = 0;
    if (this.windowOpen) {
      if (this.skippedSinceRun > 0 && this.resetAfterSkip) this.stream.reset();
      this.skippedSinceRun = 0;
      this.probability = this.stream.prob(this.buf.subarray(0, SILERO_WINDOW));
      this.windows.run++;
      this.steady = this.probability >= this.steadyP ? this.steady + 1 : 0;
    } else {
      this.probability = 0;
      this.steady = 0;
      this.skippedSinceRun++;
      this.windows.skipped++;
    }
    this.windowOpen = false;
    this.speech = this.probability >= (this.speech ? this.release : this.threshold);
    if (this.quiet) {
      if (!this.speech) for (let i = 0; i < this.pendingN; i++) this.quiet.push(this.pending[i] as number);
      this.pendingN = 0;
    }
  }
}
