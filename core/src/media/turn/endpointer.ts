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
  private runMs = 0;
  private lastSpeechAt = 0;

  constructor(opts: EndpointOptions = {}) {
    this.startMs = opts.startMs ?? 40;
    this.hangoverMs = opts.hangoverMs ?? 500;
    this.frameMs = opts.frameMs ?? 20;
  }

  /** One frame's decision, the frame received at `now` (ms). */
  frame(speech: boolean, now: number): TurnEvent | undefined {
    if (speech) {
      this.runMs += this.frameMs;
      this.lastSpeechAt = now;
      if (!this.speaking && this.runMs >= this.startMs) {
        this.speaking = true;
        return { type: 'speech_started', at: now };
      }
      return undefined;
    }
    this.runMs = 0;
    return this.tick(now);
  }

  /** Ends the turn if its hangover has run out by `now`, with or without frames since. */
  tick(now: number): TurnEvent | undefined {
    if (this.speaking && now - this.lastSpeechAt >= this.hangoverMs) {
      this.speaking = false;
      return { type: 'speech_stopped', at: now, lastSpeechAt: this.lastSpeechAt };
    }
    return undefined;
  }

  /** When the current turn ends if no more speech comes; undefined outside a turn. */
  endDueAt(): number | undefined {
    return this.speaking ? this.lastSpeechAt + this.hangoverMs : undefined;
  }
}
