/**
 * Scores one detector's per-frame decisions on one labelled track: frame
 * precision/recall, turn onsets and ends through the real endpointer, and
 * barge-ins through the real barge-in policy (the agent talks throughout a
 * barge track). Pure: decisions and truth in, counts and delays out.
 */
import { BargeInPolicy } from '@parley/core/media/turn/barge-in.js';
import { Endpointer } from '@parley/core/media/turn/endpointer.js';
import { FRAME_MS, type Track } from './corpus.js';

/**
 * Per-frame decisions: silence, speech, or speech the detector doubts (below
 * its confidence; it counts as speech everywhere but in barge-in confirmation).
 */
export const SILENCE = 0;
export const SPEECH = 1;
export const DOUBTED = 2;

export interface TurnParams {
  startMs: number;
  hangoverMs: number;
  /** Hangover when the end-of-turn cue calls a pause final (needs the cue's probabilities); unset: no cue. */
  finalHangoverMs?: number;
  /** The cue's probability at or above which a pause is final. */
  eotThreshold?: number;
  confirmMs: number;
  resumeMs: number;
}

export interface TrackScore {
  tp: number;
  fp: number;
  fn: number;
  /** Turns tracks. */
  turns: number;
  onsetMs: number[];
  missedTurns: number;
  endMs: number[];
  /** Turns the detector ended inside (in one of their pauses). */
  premature: number;
  /** Turns whose end the detector never called before the next turn. */
  unended: number;
  falseStarts: number;
  /** Barge tracks. */
  interruptions: number;
  bargeDelayMs: number[];
  missedInterruptions: number;
  falseBargeIns: number;
  /** False barge-ins by what set them off. */
  falseBy: Record<string, number>;
  /** Holds (agent audio held back) that did not become an interruption, outside real interruptions. */
  falseHolds: number;
  /** Minutes of audio in which no interruption was due (barge tracks). */
  quietMinutes: number;
  minutes: number;
  turnMinutes: number;
}

export function emptyScore(): TrackScore {
  return {
    tp: 0,
    fp: 0,
    fn: 0,
    turns: 0,
    onsetMs: [],
    missedTurns: 0,
    endMs: [],
    premature: 0,
    unended: 0,
    falseStarts: 0,
    interruptions: 0,
    bargeDelayMs: [],
    missedInterruptions: 0,
    falseBargeIns: 0,
    falseBy: {},
    falseHolds: 0,
    quietMinutes: 0,
    minutes: 0,
    turnMinutes: 0,
  };
}

interface Events {
  starts: number[];
  stops: number[];
  interrupts: number[];
  holds: { at: number; interrupted: boolean }[];
}

/** Replays decisions through the endpointer (and, for barge tracks, the barge-in policy). */
export function replay(
  decisions: Uint8Array,
  p: TurnParams,
  agentTalking: boolean,
  eotProb?: Float32Array,
): Events {
  const ep = new Endpointer({
    startMs: p.startMs,
    hangoverMs: p.hangoverMs,
    finalHangoverMs: eotProb ? p.finalHangoverMs : undefined,
    frameMs: FRAME_MS,
  });
  const th = p.eotThreshold ?? 0.5;
  const policy = new BargeInPolicy({ confirmMs: p.confirmMs, resumeMs: p.resumeMs, frameMs: FRAME_MS });
  const ev: Events = { starts: [], stops: [], interrupts: [], holds: [] };
  // After an interruption the agent is quiet until the user's turn ends (it then answers).
  let agentQuiet = false;
  let hold: { at: number; interrupted: boolean } | undefined;
  for (let f = 0; f < decisions.length; f++) {
    // A frame is known once all of it has arrived: its end.
    const at = (f + 1) * FRAME_MS;
    const speech = decisions[f] !== SILENCE;
    const confident = decisions[f] === SPEECH;
    const e = ep.frame(speech, at, eotProb ? () => (eotProb[f] as number) >= th : undefined);
    let action: string | undefined;
    // As the pipeline: the turn's onset starts a pending barge-in, and so does any speech frame
    // over the agent before it (the hold comes at the first speech frame).
    if (e?.type === 'speech_started') {
      ev.starts.push(at);
      if (agentTalking && !agentQuiet && policy.state === 'idle')
        action = policy.turnStarted(at - p.startMs, p.startMs);
      else action = policy.frame(speech, at, agentTalking && !agentQuiet, confident);
    } else if (e?.type === 'speech_stopped') {
      ev.stops.push(at);
      action = policy.turnEnded();
      agentQuiet = false;
    } else action = policy.frame(speech, at, agentTalking && !agentQuiet, confident);
    if (action === 'hold') {
      hold = { at, interrupted: false };
      ev.holds.push(hold);
    }
    if (action === 'interrupt') {
      ev.interrupts.push(at);
      if (hold) hold.interrupted = true;
      agentQuiet = true;
    }
  }
  return ev;
}

const within = (t: number, a: number, b: number) => t >= a && t <= b;

/** `eotProb`: the end-of-turn cue's probability at each frame where it was asked (NaN elsewhere). */
export function scoreTrack(
  track: Track,
  decisions: Uint8Array,
  p: TurnParams,
  s: TrackScore,
  eotProb?: Float32Array,
): void {
  const n = Math.min(decisions.length, track.labels.length);
  for (let f = 0; f < n; f++) {
    const d = decisions[f] !== SILENCE;
    const l = track.labels[f] === 1;
    if (d && l) s.tp++;
    else if (d) s.fp++;
    else if (l) s.fn++;
  }
  s.minutes += track.durationMs / 60_000;
  const ev = replay(decisions, p, track.kind === 'barge', eotProb);
  if (track.kind === 'turns') {
    s.turnMinutes += track.durationMs / 60_000;
    const turns = track.turns;
    for (let i = 0; i < turns.length; i++) {
      const t = turns[i] as { start: number; end: number };
      const next = turns[i + 1]?.start ?? Number.POSITIVE_INFINITY;
      s.turns++;
      const start = ev.starts.find((x) => within(x, t.start - 200, t.end));
      const openBefore =
        start === undefined &&
        ev.starts.some((x) => x < t.start) &&
        !ev.stops.some((x) => x >= (ev.starts.filter((y) => y < t.start).pop() ?? 0) && x < t.start + 40);
      if (start !== undefined) s.onsetMs.push(Math.max(0, start - t.start));
      else if (openBefore) s.onsetMs.push(0);
      else {
        s.missedTurns++;
        continue;
      }
      if (ev.stops.some((x) => x > t.start && x < t.end)) s.premature++;
      const stop = ev.stops.find((x) => x >= t.end && x < next);
      if (stop === undefined) s.unended++;
      else s.endMs.push(stop - t.end);
    }
    for (const x of ev.starts)
      if (!turns.some((t) => within(x, t.start - 200, t.end + p.hangoverMs))) s.falseStarts++;
    return;
  }
  const due = track.turns;
  let interruptionMs = 0;
  for (const i of due) {
    s.interruptions++;
    interruptionMs += i.end - i.start;
    const hit = ev.interrupts.find((x) => within(x, i.start - 100, i.end + 500));
    if (hit === undefined) s.missedInterruptions++;
    else s.bargeDelayMs.push(hit - i.start);
  }
  s.quietMinutes += (track.durationMs - interruptionMs) / 60_000;
  for (const x of ev.interrupts) {
    if (due.some((i) => within(x, i.start - 100, i.end + 500))) continue;
    s.falseBargeIns++;
    const cause = track.distractors.find((d) => within(x, d.start - 100, d.end + p.hangoverMs + 100));
    const k = cause?.kind ?? 'noise';
    s.falseBy[k] = (s.falseBy[k] ?? 0) + 1;
  }
  for (const h of ev.holds)
    if (!h.interrupted && !due.some((i) => within(h.at, i.start - 100, i.end + 500))) s.falseHolds++;
}

export function mergeScores(into: TrackScore, from: TrackScore): TrackScore {
  for (const k of Object.keys(from) as (keyof TrackScore)[]) {
    const v = from[k];
    if (Array.isArray(v)) (into[k] as number[]).push(...v);
    else if (typeof v === 'number') (into[k] as number) += v;
    else for (const [c, x] of Object.entries(v)) into.falseBy[c] = (into.falseBy[c] ?? 0) + x;
  }
  return into;
}

export function percentile(xs: number[], p: number): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export interface ScoreSummary {
  precision: number;
  recall: number;
  onsetP50Ms?: number;
  endP50Ms?: number;
  endP95Ms?: number;
  turns: number;
  missedTurnPct: number;
  prematurePct: number;
  unendedPct: number;
  falseStartsPerMin: number;
  bargeDelayP50Ms?: number;
  bargeDelayP95Ms?: number;
  interruptions: number;
  missedInterruptions: number;
  falseBargeIns: number;
  falseBargeInsPerMin: number;
  falseBy: Record<string, number>;
  falseHoldsPerMin: number;
}

const r = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

export function summarize(s: TrackScore): ScoreSummary {
  const detected = s.turns - s.missedTurns;
  const quiet = Math.max(s.quietMinutes, 1e-9);
  return {
    precision: r(s.tp / Math.max(1, s.tp + s.fp)),
    recall: r(s.tp / Math.max(1, s.tp + s.fn)),
    onsetP50Ms: percentile(s.onsetMs, 50),
    endP50Ms: percentile(s.endMs, 50),
    endP95Ms: percentile(s.endMs, 95),
    turns: s.turns,
    missedTurnPct: r((100 * s.missedTurns) / Math.max(1, s.turns), 1),
    prematurePct: r((100 * s.premature) / Math.max(1, detected), 1),
    unendedPct: r((100 * s.unended) / Math.max(1, detected), 1),
    falseStartsPerMin: s.turnMinutes > 0 ? r(s.falseStarts / s.turnMinutes, 2) : 0,
    bargeDelayP50Ms: percentile(s.bargeDelayMs, 50),
    bargeDelayP95Ms: percentile(s.bargeDelayMs, 95),
    interruptions: s.interruptions,
    missedInterruptions: s.missedInterruptions,
    falseBargeIns: s.falseBargeIns,
    falseBargeInsPerMin: s.quietMinutes > 0 ? r(s.falseBargeIns / quiet, 2) : 0,
    falseBy: s.falseBy,
    falseHoldsPerMin: s.quietMinutes > 0 ? r(s.falseHolds / quiet, 2) : 0,
  };
}

/** Where a detector's frame errors fall on one track, for finding what to fix (bench JSON). */
export interface FrameErrors {
  track: string;
  /** Missed speech frames in a labelled run's first 100 ms, its last 100 ms, or between. */
  missedOnset: number;
  missedOffset: number;
  missedInside: number;
  /** False speech frames within 200 ms after a labelled run (a tail), within 100 ms before one, or away from speech. */
  falseTail: number;
  falseLead: number;
  falseAway: number;
}

export function frameErrors(track: Track, decisions: Uint8Array): FrameErrors {
  const n = Math.min(decisions.length, track.labels.length);
  const lab = track.labels;
  const out: FrameErrors = {
    track: track.id,
    missedOnset: 0,
    missedOffset: 0,
    missedInside: 0,
    falseTail: 0,
    falseLead: 0,
    falseAway: 0,
  };
  const edge = 100 / FRAME_MS;
  const tail = 200 / FRAME_MS;
  let runStart = -1;
  let lastSpeech = Number.NEGATIVE_INFINITY;
  for (let f = 0; f < n; f++) {
    const l = lab[f] === 1;
    if (l && (f === 0 || lab[f - 1] !== 1)) runStart = f;
    const d = decisions[f] !== SILENCE;
    if (l && !d) {
      let end = f;
      while (end < n && lab[end] === 1 && end - f <= edge) end++;
      if (f - runStart < edge) out.missedOnset++;
      else if (end - f <= edge && (end >= n || lab[end] !== 1)) out.missedOffset++;
      else out.missedInside++;
    } else if (!l && d) {
      let next = f;
      while (next < n && lab[next] !== 1 && next - f <= edge) next++;
      if (f - lastSpeech <= tail) out.falseTail++;
      else if (next < n && lab[next] === 1) out.falseLead++;
      else out.falseAway++;
    }
    if (l) lastSpeech = f;
  }
  return out;
}
