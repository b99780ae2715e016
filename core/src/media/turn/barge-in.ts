/**
 * Barge-in that ignores backchannels: speech over the agent first only holds
 * the agent's audio back ("pending"); the agent is interrupted once the user's
 * turn has `confirmMs` of speech. A short "mm-hm", a cough or a click ends
 * before that, and the agent's audio goes on after `resumeMs` of silence.
 * Only speech the detector is sure of counts toward `confirmMs` (a cough,
 * a click or background talk that the detector half-believes holds the agent
 * but does not confirm); speech it doubts neither confirms nor releases.
 *
 * Pure: per-frame speech decisions and turn events in, actions out.
 */
export interface BargeInOptions {
  /** Speech in the user's turn that confirms an interruption. */
  confirmMs?: number;
  /** Silence after which a pending (unconfirmed) barge-in is dropped and the agent heard again. */
  resumeMs?: number;
  frameMs?: number;
}

export type BargeInAction = 'hold' | 'interrupt' | 'resume';

export class BargeInPolicy {
  readonly confirmMs: number;
  readonly resumeMs: number;
  private readonly frameMs: number;
  state: 'idle' | 'pending' = 'idle';
  /** When the pending barge-in's turn started (the onset, not the decision). */
  onsetAt = Number.NaN;
  private speechMs = 0;
  private silenceMs = 0;

  constructor(opts: BargeInOptions = {}) {
    this.confirmMs = opts.confirmMs ?? 300;
    this.resumeMs = opts.resumeMs ?? 250;
    this.frameMs = opts.frameMs ?? 20;
  }

  /**
   * The user's turn started while the agent talks. `speechMs` is the speech
   * the detector already heard to decide (its onset run).
   */
  turnStarted(onsetAt: number, speechMs: number): BargeInAction {
    this.state = 'pending';
    this.onsetAt = onsetAt;
    this.speechMs = speechMs;
    this.silenceMs = 0;
    return this.speechMs >= this.confirmMs ? this.confirm() : 'hold';
  }

  /**
   * One frame's decision. `armed`: the user's turn is open and the agent is
   * talking; speech then starts a pending barge-in even without a new turn
   * (a turn kept open by background talk, or after a dropped one).
   * `confident`: the detector is sure the frame is speech (default: any
   * speech frame is).
   */
  frame(speech: boolean, at: number, armed: boolean, confident = speech): BargeInAction | undefined {
    if (this.state !== 'pending') {
      if (!armed || !speech) return undefined;
      return this.turnStarted(at - this.frameMs, confident ? this.frameMs : 0);
    }
    if (speech) {
      this.silenceMs = 0;
      if (!confident) return undefined;
      this.speechMs += this.frameMs;
      if (this.speechMs >= this.confirmMs) return this.confirm();
      return undefined;
    }
    this.silenceMs += this.frameMs;
    if (this.silenceMs >= this.resumeMs) return this.drop();
    return undefined;
  }

  /** The user's turn ended (or the agent stopped talking on its own). */
  turnEnded(): BargeInAction | undefined {
    return this.state === 'pending' ? this.drop() : undefined;
  }

  private confirm(): BargeInAction {
    this.state = 'idle';
    return 'interrupt';
  }

  private drop(): BargeInAction {
    this.state = 'idle';
    return 'resume';
  }
}
