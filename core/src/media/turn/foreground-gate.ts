/**
 * Foreground gating: a VAD calls any voice speech, including people talking
 * behind the caller (babble). The caller is nearer the microphone, so their
 * frames are louder: this tracks the talker's speech level (a percentile of
 * the level of frames already taken as the talker's) and turns speech frames
 * more than `belowDb` under it into background. It also trims the tail a
 * neural VAD keeps calling speech after the voice has stopped.
 *
 * Pure: one frame's level and the detector's decision in, the decision out.
 */
export interface ForegroundGateOptions {
  /** Speech frames this far below the talker's level are background. */
  belowDb?: number;
  /**
   * The level tracks this percentile of all speech frames: it rises by
   * `stepDb` on a louder frame and falls by stepDb * (1 - q) / q on a quieter
   * one. A high percentile is the nearest talker even where background talk
   * fills most of the frames; the slow fall lets a talker who moved away be
   * heard again (0.99: 0.2 dB a second of speech).
   */
  quantile?: number;
  stepDb?: number;
  /** Nothing is gated until this many speech frames have set the level. */
  warmupFrames?: number;
  /**
   * Speech frames this soon after a foreground frame stay foreground: the
   * dips between a talker's syllables are as quiet as the background, but
   * they are the talker's (frames, 20 ms each).
   */
  holdFrames?: number;
  /**
   * Only frames within this much of the noise floor can be background: with
   * no noise (floor far down) the talker's quiet syllables are never gated.
   */
  floorMarginDb?: number;
  /** With a probability: a run of foreground frames starts only on a loud frame at least this probable. */
  startProbability?: number;
  /** With a probability: inside a run, a frame at least this probable is foreground however quiet. */
  confidentProbability?: number;
}

export class ForegroundGate {
  /** The talker's level, dBFS; NaN until the first speech frame. */
  level = Number.NaN;
  private seen = 0;
  private readonly belowDb: number;
  private readonly up: number;
  private readonly down: number;
  private readonly warmup: number;
  private readonly hold: number;
  private readonly floorMargin: number;
  private readonly startP: number;
  private readonly confidentP: number;
  private sinceForeground = Number.POSITIVE_INFINITY;

  constructor(opts: ForegroundGateOptions = {}) {
    this.belowDb = opts.belowDb ?? 10;
    const q = opts.quantile ?? 0.99;
    this.up = opts.stepDb ?? 0.4;
    this.down = (this.up * (1 - q)) / q;
    this.warmup = opts.warmupFrames ?? 10;
    this.hold = opts.holdFrames ?? 5;
    this.floorMargin = opts.floorMarginDb ?? 14;
    this.startP = opts.startProbability ?? 0.95;
    this.confidentP = opts.confidentProbability ?? 0.995;
  }

  /**
   * `speech`: the detector's decision for a frame at `db` dBFS; `floorDb`:
   * the noise floor (minimum statistics); `probability`: the detector's
   * speech probability, when it has one (without it only level counts).
   * Returns whether it is the talker's.
   */
  frame(db: number, speech: boolean, floorDb = Number.NEGATIVE_INFINITY, probability?: number): boolean {
    this.sinceForeground++;
    if (!speech) return false;
    if (Number.isNaN(this.level)) this.level = db;
    let loud =
      this.seen < this.warmup || db >= Math.min(this.level - this.belowDb, floorDb + this.floorMargin);
    if (probability !== undefined)
      loud =
        this.sinceForeground <= this.hold
          ? loud || probability >= this.confidentP
          : loud && probability >= this.startP;
    this.seen++;
    this.level += db > this.level ? this.up : -this.down;
    if (loud) {
      this.sinceForeground = 0;
      return true;
    }
    return this.sinceForeground <= this.hold;
  }
}
