/**
 * A running quantile of frame levels (dB) without storing them: the estimate
 * rises by `stepDb` on a frame above it and falls by stepDb * (1 - q) / q on
 * one below, so it settles where a share 1 - q of frames lie above it. Used
 * for the level that background noise alone reaches (silero-classifier.ts):
 * noise whose level wanders (a fan's flutter, hum that swells) keeps rising a
 * few dB over its minimum, so a gate against the minimum lets most of it
 * through to the model; against this quantile it does not.
 *
 * Pure: levels in, the estimate out.
 */
export class LevelQuantile {
  /** The estimate, dB; NaN before the first frame. */
  level = Number.NaN;
  private readonly up: number;
  private readonly down: number;

  constructor(quantile = 0.9, stepDb = 1) {
    if (!(quantile > 0 && quantile < 1)) throw new RangeError(`quantile must be in (0, 1), got ${quantile}`);
    this.up = stepDb;
    this.down = (stepDb * (1 - quantile)) / quantile;
  }

  push(db: number): void {
    if (Number.isNaN(this.level)) this.level = db;
    else this.level += db > this.level ? this.up : -this.down;
  }
}
