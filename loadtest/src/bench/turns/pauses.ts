/**
 * Pause examples for the end-of-turn cue: every place where a detector's
 * decisions go from speech to silence inside a labelled turn, with the cue's
 * features there and whether that pause really ended the turn. Training
 * (train-eot.ts) fits on them; the bench replays the cue at the same points.
 */
import { EndOfTurnCue, type EotFeatures } from '@parley/core/media/turn/eot-cue.js';
import { FRAME, RATE, type Track } from './corpus.js';

export interface PauseExample {
  /** Frame index of the first silent frame. */
  frame: number;
  /** Undefined where the cue could not tell (too little voice). */
  features?: EotFeatures;
  /** The pause is the turn's end (not a hesitation or a comma inside it). */
  final: boolean;
  /** How long the detector's silence lasted (to the next speech frame or the track's end). */
  gapMs: number;
  /** The track's condition, e.g. babble/10dB. */
  condition: string;
}

/**
 * Walks one turns track: the cue hears every frame (as in the pipeline) and
 * is asked at each speech-to-silence step. `probability`, when given, is
 * filled per frame with the cue's answer there (NaN elsewhere), for replay.
 */
export function pauseExamples(track: Track, decisions: Uint8Array, cue = new EndOfTurnCue({ rate: RATE })) {
  const out: PauseExample[] = [];
  const at = new Map<number, EotFeatures | undefined>();
  for (let f = 0; f < decisions.length; f++) {
    cue.push(track.pcm.subarray(f * FRAME, (f + 1) * FRAME), decisions[f] !== 0);
    if (f === 0 || decisions[f] !== 0 || decisions[f - 1] === 0) continue;
    const features = cue.features();
    at.set(f, features);
    const ms = (f + 1) * 20;
    const turn = track.turns.find((t) => ms > t.start && ms < t.end + 800);
    if (!turn) continue;
    let g = f;
    while (g < decisions.length && decisions[g] === 0) g++;
    out.push({
      frame: f,
      features,
      final: ms > turn.end - 60,
      gapMs: (g - f) * 20,
      condition: `${track.noise}${track.snrDb === null ? '' : `/${track.snrDb}dB`}`,
    });
  }
  return { examples: out, at };
}

/**
 * The cue's probability at every speech-to-silence step of a track's
 * decisions (NaN at other frames; 0 where it could not tell), as the
 * endpointer would ask it: for replay with any threshold.
 */
export function cueProbabilities(track: Track, decisions: Uint8Array): Float32Array {
  const out = new Float32Array(decisions.length).fill(Number.NaN);
  const cue = new EndOfTurnCue({ rate: RATE });
  for (let f = 0; f < decisions.length; f++) {
    cue.push(track.pcm.subarray(f * FRAME, (f + 1) * FRAME), decisions[f] !== 0);
    if (f > 0 && decisions[f] === 0 && decisions[f - 1] !== 0) out[f] = cue.finalProbability() ?? 0;
  }
  return out;
}
