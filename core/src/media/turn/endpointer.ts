/**
 * Turn boundaries from per-frame speech decisions, on an injected clock.
 *
 * A turn starts after `startMs` of speech frames in a row (one cough frame or
 * click is not a turn) and ends `hangoverMs` after its last speech frame. The
 * hangover is measured on the clock, not in frames: a client that stops
 * sending during silence (Opus DTX), or packets that arrive late in a burst,
 * must still end the turn on time, so `tick(now)` ends it without a frame.
 */
export interface EndpointOptions {
  /** Speech needed, in a row, before a turn starts. 40 ms = 2 frames. */
  startMs?: number;
  /** Silence after the last speech frame that ends a turn. */
  hangoverMs?: number;
  /**
   * The shorter hangover for a pause that an end-of-turn cue (eot-cue.ts)
   * calls final; unset: every pause waits `hangoverMs`.
   */
  finalHangoverMs?: number;
  /** Length of one frame. */
  frameMs?: number;
}

export type TurnEvent =
  | { type: 'speech_started'; at: number }
  /** `lastSpeechAt` is when the turn's last speech frame came in (the hangover ran after it). */
  | { type: 'speech_stopped'; at: number; lastSpeechAt: number };

export class Endpointer {
  speaking = false;
  readonly startMs: number;
  readonly hangoverMs: number;
  readonly frameMs: number;
  readonly finalHangoverMs?: number;
  /** The hangover of the pause under way: `hangoverMs`, or `finalHangoverMs` when the cue said final. */
  pauseHangoverMs: number;
  private runMs = 0;
  private lastSpeechAt = 0;
  private inPause = false;

  constructor(opts: EndpointOptions = {}) {
    this.startMs = opts.startMs ?? 40;
    this.hangoverMs = opts.hangoverMs ?? 500;
    this.frameMs = opts.frameMs ?? 20;
    this.finalHangoverMs = opts.finalHangoverMs;
    this.pauseHangoverMs = this.hangoverMs;
  }

  /**
   * One frame's decision, the frame received at `now` (ms). `isFinal` is
   * asked once per pause, at its first silent frame inside a turn (so the
   * cue's cost is per pause, not per frame).
   */
  frame(speech: boolean, now: number, isFinal?: () => boolean): TurnEvent | undefined {
    if (speech) {
      this.runMs += this.frameMs;
      this.lastSpeechAt = now;
      this.inPause = false;
      this.pauseHangoverMs = this.hangoverMs;
      if (!this.speaking && this.runMs >= this.startMs) {
        this.speaking = true;
        return { type: 'speech_started', at: now };
      }
      return undefined;
    }
    this.runMs = 0;
    if (this.speaking && !this.inPause) {
      this.inPause = true;
      if (this.finalHangoverMs !== undefined && isFinal?.()) this.pauseHangoverMs = this.finalHangoverMs;
    }
    return this.tick(now);
  }

  /** Ends the turn if its hangover has run out by `now`, with or without frames since. */
  tick(now: number): TurnEvent | undefined {
    if (this.speaking && now - this.lastSpeechAt >= this.pauseHangoverMs) {
      this.speaking = false;
      this.inPause = false;
      this.pauseHangoverMs = this.hangoverMs;
      return { type: 'speech_stopped', at: now, lastSpeechAt: this.lastSpeechAt };
    }
    return undefined;
  }

  /** When the current turn ends if no more speech comes; undefined outside a turn. */
  endDueAt(): number | undefined {
    return this.speaking ? this.lastSpeechAt + this.pauseHangoverMs : undefined;
  }
}
