/**
 * A session's turn-taking settings: which detector, noise suppression, the
 * endpointing trade-off (hangover, minimum speech) and barge-in confirmation.
 * They come from the defaults, then the session token's claim, then
 * `session.update` messages from the client; each layer is validated here
 * (bad values are named errors with the field, never silently clamped).
 */
export type DetectorName = 'energy' | 'silero';

export interface TurnConfig {
  detector: DetectorName;
  /** RNNoise before the VAD and the agent. */
  noiseSuppression: boolean;
  /** Silence after the last speech that ends the user's turn; unset: the detector's own default. */
  hangoverMs?: number;
  /**
   * The shorter hangover for a pause whose intonation says the caller has
   * finished (prosodic end-of-turn cue); unset: the detector's default
   * (DEFAULT_FINAL_HANGOVER_MS); equal to the hangover: the cue is off.
   */
  finalHangoverMs?: number;
  /** Speech in a row before a turn starts. */
  minSpeechMs: number;
  /** Speech over the agent that confirms a barge-in (shorter speech only holds the agent). */
  bargeInConfirmMs: number;
  /** Silence that drops an unconfirmed barge-in. */
  bargeInResumeMs: number;
}

/**
 * Chosen by `npm run bench -- --only turns` (README, "Turn-taking"): Silero
 * where the runtime loads (at 10 dB SNR, behind its gates, precision 0.93 and
 * recall 0.95 against the energy detector's 0.74 and 0.50); barge-in confirmation, counting only
 * speech Silero is >= 0.99 sure of, chosen on the training seeds
 * (loadtest heldout.js --sweep, 10 dB): the shortest that keeps false
 * barge-ins under 0.1 a minute, 700 ms (0.47/min at 500, 0.13 at 600, 0.04
 * at 700 with none of 108 interruptions missed; p50 1.21 s from onset to
 * interruption). The agent's audio stops at the onset either way (held).
 */
export const TURN_DEFAULTS: TurnConfig = {
  detector: 'silero',
  noiseSuppression: false,
  minSpeechMs: 40,
  bargeInConfirmMs: 700,
  bargeInResumeMs: 250,
};

/**
 * Hangover per detector when the session sets none, chosen on the corpus
 * (README, "Turn-taking"). Silero behind the foreground gate stops on the
 * talker's last loud frame, so in-turn pauses need a long hangover (no
 * premature ends at 600 ms on the held-out split); the prosodic cue below
 * cuts it to 250 ms where the voice says the turn is over. The energy
 * detector drops out in every pause and keeps its old 500.
 */
export const DEFAULT_HANGOVER_MS: Record<DetectorName, number> = { silero: 600, energy: 500 };

/**
 * Hangover for a pause the prosodic end-of-turn cue calls final, per
 * detector; absent: no cue (the energy detector's segments are too ragged
 * for it). Chosen on the training seeds (heldout.js --sweep, 10 dB) as the
 * shortest with premature ends at most 2 %: with the talker score keeping
 * the caller's soft last syllables, 250 ms (p >= 0.6) ended turns at p50
 * 368 ms (0.6 % premature) and 200 ms at 308 ms (1.9 %); held-out split
 * 341 ms with 1.8 %, as the level gate's 250 ms did.
 */
export const DEFAULT_FINAL_HANGOVER_MS: Partial<Record<DetectorName, number>> = { silero: 200 };

const LIMITS: Record<Exclude<keyof TurnConfig, 'detector' | 'noiseSuppression'>, [number, number]> = {
  hangoverMs: [100, 3_000],
  finalHangoverMs: [60, 3_000],
  minSpeechMs: [20, 1_000],
  bargeInConfirmMs: [0, 3_000],
  bargeInResumeMs: [60, 3_000],
};

export class TurnConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`turn config ${field}: ${message}`);
    this.name = 'TurnConfigError';
  }
}

/**
 * Validates a partial update (from a token claim or `session.update`'s
 * `turn` object) and applies it over `base`. Unknown fields are errors, so a
 * misspelt setting is not silently ignored.
 */
export function applyTurnUpdate(base: TurnConfig, update: unknown): TurnConfig {
  if (update === undefined || update === null) return base;
  if (typeof update !== 'object' || Array.isArray(update))
    throw new TurnConfigError('turn', 'must be an object');
  const out: TurnConfig = { ...base };
  for (const [k, v] of Object.entries(update as Record<string, unknown>)) {
    if (k === 'detector') {
      if (v !== 'energy' && v !== 'silero') throw new TurnConfigError(k, 'must be "energy" or "silero"');
      out.detector = v;
    } else if (k === 'noiseSuppression') {
      if (typeof v !== 'boolean') throw new TurnConfigError(k, 'must be true or false');
      out.noiseSuppression = v;
    } else if (k in LIMITS) {
      const [lo, hi] = LIMITS[k as keyof typeof LIMITS];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
        throw new TurnConfigError(k, `must be a whole number of ms from ${lo} to ${hi}`);
      out[k as keyof typeof LIMITS] = v;
    } else throw new TurnConfigError(k, 'unknown setting');
  }
  return out;
}

/**
 * The part of an OpenAI-Realtime-style `turn_detection` object that maps onto
 * ours, for clients that speak that dialect in `session.update`:
 * `server_vad.silence_duration_ms` is our hangover. Other fields (threshold,
 * prefix padding, semantic_vad) have no counterpart here and are left alone;
 * null (turn detection off) is not ours to grant: the transceiver always
 * detects turns for barge-in.
 */
export function turnUpdateFromRealtime(turnDetection: unknown): Partial<TurnConfig> {
  if (typeof turnDetection !== 'object' || turnDetection === null) return {};
  const td = turnDetection as Record<string, unknown>;
  if (td.type !== 'server_vad' || td.silence_duration_ms === undefined) return {};
  return { hangoverMs: td.silence_duration_ms as number };
}
