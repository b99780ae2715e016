/**
 * `npm run bench -- --only turns`: every detector (energy, Silero, each with
 * and without RNNoise in front) over the labelled corpus, one fresh detector
 * per track as a session would have, timed in CPU. Then the endpointer and
 * barge-in policy replay each detector's decisions, and sweeps of hangover
 * and barge-in confirmation give the trade-off curves.
 */
import { EOT_WEIGHTS } from '@parley/core/media/turn/eot-weights.js';
import { RnnoiseModule } from '@parley/core/media/turn/rnnoise-wasm.js';
import { SileroClassifier } from '@parley/core/media/turn/silero-classifier.js';
import { SileroUnavailable, sharedSilero } from '@parley/core/media/turn/silero-onnx.js';
import {
  DEFAULT_FINAL_HANGOVER_MS,
  DEFAULT_HANGOVER_MS,
  type DetectorName,
  TURN_DEFAULTS,
} from '@parley/core/media/turn/turn-config.js';
import { EnergyClassifier, type FrameClassifier } from '@parley/core/media/vad.js';
import { buildCorpus, CORPUS_CACHE_DIR, type Corpus, FRAME, RATE, type Track } from './corpus.js';
import { cueProbabilities } from './pauses.js';
import {
  DOUBTED,
  emptyScore,
  type FrameErrors,
  frameErrors,
  mergeScores,
  type ScoreSummary,
  SILENCE,
  SPEECH,
  scoreTrack,
  summarize,
  type TrackScore,
  type TurnParams,
} from './score.js';

export interface DetectorRow {
  /** clean, or an SNR over all noise kinds. */
  condition: string;
  summary: ScoreSummary;
}

export interface DetectorResult {
  name: string;
  available: boolean;
  unavailable?: string;
  /** CPU time per second of audio, as % of one core: what one session costs. */
  cpuPercentPerSession?: number;
  /** Endpointing and barge-in settings it was scored with (its default hangover). */
  params?: TurnParams;
  /** Share of Silero windows the energy gate let through to the model. */
  modelWindowShare?: number;
  rows: DetectorRow[];
  /** At 10 dB, per noise kind. */
  byNoiseAt10: DetectorRow[];
  /** Where the frame errors fall, per track (clean and 10 dB). */
  errors?: FrameErrors[];
}

export interface CurvePoint {
  value: number;
  summary: ScoreSummary;
}

export interface CuePoint {
  hangoverMs: number;
  finalHangoverMs: number;
  threshold: number;
  summary: ScoreSummary;
}

export interface TurnsBenchResult {
  corpus: Corpus['spec'];
  params: TurnParams;
  detectors: DetectorResult[];
  /** At 10 dB SNR, all noise kinds, for the named detector. */
  curves: { detector: string; hangoverMs: CurvePoint[]; confirmMs: CurvePoint[]; cue?: CuePoint[] }[];
  defaultDetector: string;
  /** The variant that is the default path (detector, gate, cue as TURN_DEFAULTS say). */
  defaultVariant: string;
}

interface Variant {
  name: string;
  /** Whose default hangover applies. */
  detector: DetectorName;
  /** The prosodic end-of-turn cue with the detector's default final hangover. */
  cue?: boolean;
  /** The cue's final hangover, if not the detector's default (a comparison row's own). */
  finalHangoverMs?: number;
  make: () => {
    classify: (pcm: Int16Array) => boolean;
    /** After classify: the classifier is sure of its speech decision (undefined: no such notion). */
    confident: () => boolean | undefined;
    close: () => void;
    stats?: () => [number, number];
  };
}

function withSuppressor(rn: RnnoiseModule, inner: () => FrameClassifier) {
  return () => {
    const ns = rn.suppressor(RATE);
    const c = inner();
    return {
      classify: (pcm: Int16Array) => c.classify(ns.process(pcm)),
      confident: () => c.confident,
      close: () => {
        ns.close();
        c.close?.();
      },
      stats:
        c instanceof SileroClassifier
          ? () => [c.windows.run, c.windows.skipped] as [number, number]
          : undefined,
    };
  };
}

function plain(inner: () => FrameClassifier) {
  return () => {
    const c = inner();
    return {
      classify: (pcm: Int16Array) => c.classify(pcm),
      confident: () => c.confident,
      close: () => c.close?.(),
      stats:
        c instanceof SileroClassifier
          ? () => [c.windows.run, c.windows.skipped] as [number, number]
          : undefined,
    };
  };
}

/** The default path's row: Silero (every other window in steady speech), foreground gate, prosodic cue (TURN_DEFAULTS). */
export const DEFAULT_VARIANT = 'silero + gate + cue';
/** The default before barge-in counted only confident speech (every speech frame confirmed), on the same corpus. */
export const PREVIOUS_VARIANT = 'silero + gate + cue, every speech frame confirms (before)';
/** The default before the model's gate also tested the background's level quantile (the floor alone). */
export const FLOOR_GATE_VARIANT = 'silero + gate + cue, model gate on the floor alone (before)';
/**
 * The default's detector before this round: foreground floor test at 14 dB with 5 frames of hold,
 * the model gated on the floor alone and reset after skipped windows (cue weights and barge-in
 * confirmation are today's).
 */
export const OLD_FOREGROUND_VARIANT =
  'silero + gate + cue as before (floor 14 dB, hold 5, floor-only model gate, reset)';
/**
 * The default before the talker score (talker-score.ts): the foreground gate's level tests alone,
 * with the cue's final hangover of then (250 ms).
 */
export const LEVEL_GATE_VARIANT = 'silero + gate + cue, level tests alone, final 250 ms (before)';
/** The foreground gate with the model's probability (opt-in: recall up, turn ends later). */
const PROBABILITY_GATE_VARIANT = 'silero + probability gate + cue';
/** The earlier default's hangover for plain Silero (no gate, no cue), for its comparison row. */
const PLAIN_SILERO_HANGOVER_MS = 300;

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

export async function benchTurns(opts: {
  quick: boolean;
  progress: (line: string) => void;
}): Promise<TurnsBenchResult> {
  const { progress } = opts;
  const t0 = performance.now();
  const corpus = buildCorpus({
    dir: CORPUS_CACHE_DIR,
    // Quick: 10 dB only (the targets' condition); full: 20, 10 and 5 dB. Three minutes of barge-in
    // per condition (about 8 quiet minutes at 10 dB over the three noises), so the false barge-in
    // target (1 per 10 minutes) is at least near what the corpus can resolve.
    snrs: opts.quick ? [10] : [20, 10, 5],
    turnSeconds: opts.quick ? 30 : 120,
    bargeSeconds: opts.quick ? 30 : 180,
  });
  progress(
    `corpus: ${corpus.tracks.length} tracks, ${corpus.spec.totalMinutes} min (${corpus.spec.speechMinutes} min of speech per condition) in ${Math.round(performance.now() - t0)} ms`,
  );

  const variants: Variant[] = [
    { name: 'energy', detector: 'energy', make: plain(() => new EnergyClassifier()) },
  ];
  const unavailable: DetectorResult[] = [];
  const silero = sharedSilero();
  if (silero instanceof SileroUnavailable)
    unavailable.push({
      name: 'silero',
      available: false,
      unavailable: silero.message,
      rows: [],
      byNoiseAt10: [],
    });
  else {
    variants.push({
      name: 'silero (plain)',
      detector: 'silero',
      make: plain(
        () =>
          new SileroClassifier(silero.stream(), {
            foreground: false,
            skipSteady: false,
            quietMarginDb: false,
          }),
      ),
    });
    variants.push({
      name: 'silero + foreground gate',
      detector: 'silero',
      make: plain(() => new SileroClassifier(silero.stream(), { skipSteady: false })),
    });
    variants.push({
      name: PREVIOUS_VARIANT,
      detector: 'silero',
      cue: true,
      make: plain(
        () =>
          new SileroClassifier(silero.stream(), {
            confidentProbability: 0,
          }),
      ),
    });
    variants.push({
      name: FLOOR_GATE_VARIANT,
      detector: 'silero',
      cue: true,
      make: plain(() => new SileroClassifier(silero.stream(), { quietMarginDb: false })),
    });
    variants.push({
      name: OLD_FOREGROUND_VARIANT,
      detector: 'silero',
      cue: true,
      make: plain(
        () =>
          new SileroClassifier(silero.stream(), {
            quietMarginDb: false,
            resetAfterSkip: true,
            foreground: { floorMarginDb: 14, holdFrames: 5, talker: null },
          }),
      ),
    });
    variants.push({
      name: LEVEL_GATE_VARIANT,
      detector: 'silero',
      cue: true,
      finalHangoverMs: 250,
      make: plain(() => new SileroClassifier(silero.stream(), { foreground: { talker: null } })),
    });
    variants.push({
      name: 'silero + gate + cue, talker score without the babble limit',
      detector: 'silero',
      cue: true,
      make: plain(
        () =>
          new SileroClassifier(silero.stream(), { foreground: { maxSinceLoud: Number.POSITIVE_INFINITY } }),
      ),
    });
    variants.push({
      name: PROBABILITY_GATE_VARIANT,
      detector: 'silero',
      cue: true,
      make: plain(
        () =>
          new SileroClassifier(silero.stream(), {
            foreground: { startProbability: 0.95, confidentProbability: 0.995, talker: null },
          }),
      ),
    });
    variants.push({
      name: DEFAULT_VARIANT,
      detector: 'silero',
      cue: true,
      make: plain(() => new SileroClassifier(silero.stream())),
    });
    variants.push({
      name: 'silero + gate + cue, model on every window',
      detector: 'silero',
      cue: true,
      make: plain(
        () =>
          new SileroClassifier(silero.stream(), {
            gateDb: -1e9,
            gateMinDbfs: -1e9,
            quietMarginDb: false,
            skipSteady: false,
          }),
      ),
    });
  }
  try {
    const rn = await RnnoiseModule.load();
    variants.push({
      name: 'rnnoise + energy',
      detector: 'energy',
      make: withSuppressor(rn, () => new EnergyClassifier()),
    });
    if (!(silero instanceof SileroUnavailable))
      variants.push({
        name: 'rnnoise + silero + gate + cue',
        detector: 'silero',
        cue: true,
        make: withSuppressor(rn, () => new SileroClassifier(silero.stream())),
      });
  } catch (err) {
    unavailable.push({
      name: 'rnnoise',
      available: false,
      unavailable: (err as Error).message,
      rows: [],
      byNoiseAt10: [],
    });
  }

  const params: TurnParams = {
    startMs: TURN_DEFAULTS.minSpeechMs,
    hangoverMs: TURN_DEFAULTS.hangoverMs ?? DEFAULT_HANGOVER_MS[TURN_DEFAULTS.detector],
    confirmMs: TURN_DEFAULTS.bargeInConfirmMs,
    resumeMs: TURN_DEFAULTS.bargeInResumeMs,
  };
  const decisions = new Map<string, Map<string, Uint8Array>>();
  const cues = new Map<string, Map<string, Float32Array>>();
  const results: DetectorResult[] = [];
  for (const v of variants) {
    const perTrack = new Map<string, Uint8Array>();
    let cpuUs = 0;
    let audioMs = 0;
    let run = 0;
    let skipped = 0;
    for (const track of corpus.tracks) {
      const frames = Math.floor(track.pcm.length / FRAME);
      const out = new Uint8Array(frames);
      const det = v.make();
      const c0 = process.cpuUsage();
      for (let f = 0; f < frames; f++)
        out[f] = det.classify(track.pcm.subarray(f * FRAME, (f + 1) * FRAME))
          ? det.confident() === false
            ? DOUBTED
            : SPEECH
          : SILENCE;
      const c = process.cpuUsage(c0);
      cpuUs += c.user + c.system;
      audioMs += frames * 20;
      const st = det.stats?.();
      if (st) {
        run += st[0];
        skipped += st[1];
      }
      det.close();
      perTrack.set(track.id, out);
    }
    decisions.set(v.name, perTrack);
    // The cue hears every frame and is asked at each pause; timed with the rest of the session's cost.
    const cueTrack = new Map<string, Float32Array>();
    const finalHangoverMs = v.cue ? (v.finalHangoverMs ?? DEFAULT_FINAL_HANGOVER_MS[v.detector]) : undefined;
    if (finalHangoverMs !== undefined) {
      const c0 = process.cpuUsage();
      for (const track of corpus.tracks)
        cueTrack.set(track.id, cueProbabilities(track, perTrack.get(track.id) as Uint8Array));
      const c = process.cpuUsage(c0);
      cpuUs += c.user + c.system;
      cues.set(v.name, cueTrack);
    }
    const vp: TurnParams = {
      ...params,
      hangoverMs: TURN_DEFAULTS.hangoverMs ?? DEFAULT_HANGOVER_MS[v.detector],
      ...(finalHangoverMs !== undefined ? { finalHangoverMs, eotThreshold: EOT_WEIGHTS.threshold } : {}),
    };
    if (v.name === 'silero (plain)') vp.hangoverMs = PLAIN_SILERO_HANGOVER_MS;
    const res: DetectorResult = {
      name: v.name,
      available: true,
      params: vp,
      cpuPercentPerSession: round((cpuUs / 1000 / audioMs) * 100, 3),
      modelWindowShare: run + skipped > 0 ? round(run / (run + skipped), 3) : undefined,
      rows: [],
      byNoiseAt10: [],
      errors: corpus.tracks
        .filter((t) => t.snrDb === 10 || t.snrDb === null)
        .map((t) => frameErrors(t, perTrack.get(t.id) as Uint8Array)),
    };
    const score = (pick: (t: Track) => boolean, p = vp): ScoreSummary => {
      const s = emptyScore();
      for (const t of corpus.tracks.filter(pick)) {
        const one: TrackScore = emptyScore();
        scoreTrack(t, perTrack.get(t.id) as Uint8Array, p, one, cueTrack.get(t.id));
        mergeScores(s, one);
      }
      return summarize(s);
    };
    res.rows.push({ condition: 'clean', summary: score((t) => t.noise === 'clean') });
    for (const snr of corpus.spec.snrs)
      res.rows.push({ condition: `${snr} dB`, summary: score((t) => t.snrDb === snr) });
    for (const noise of corpus.spec.noises)
      res.byNoiseAt10.push({ condition: noise, summary: score((t) => t.noise === noise && t.snrDb === 10) });
    results.push(res);
    const at10 = res.rows.find((r) => r.condition === '10 dB')?.summary;
    progress(
      `${v.name}: ${res.cpuPercentPerSession} % of a core per session; at 10 dB P ${at10?.precision} R ${at10?.recall}, end p50 ${at10?.endP50Ms} ms, premature ${at10?.prematurePct} %, false barge-ins ${at10?.falseBargeInsPerMin}/min`,
    );
  }

  const curves: TurnsBenchResult['curves'] = [];
  for (const name of ['energy', 'silero + foreground gate', DEFAULT_VARIANT]) {
    const perTrack = decisions.get(name);
    if (!perTrack) continue;
    const cueTrack = cues.get(name);
    const at10 = corpus.tracks.filter((t) => t.snrDb === 10);
    const det: DetectorName = name === 'energy' ? 'energy' : 'silero';
    const base: TurnParams = {
      ...params,
      hangoverMs: DEFAULT_HANGOVER_MS[det],
      ...(cueTrack
        ? { finalHangoverMs: DEFAULT_FINAL_HANGOVER_MS[det], eotThreshold: EOT_WEIGHTS.threshold }
        : {}),
    };
    const sweep = (p: TurnParams) => {
      const s = emptyScore();
      for (const t of at10) {
        const one = emptyScore();
        scoreTrack(t, perTrack.get(t.id) as Uint8Array, p, one, cueTrack?.get(t.id));
        mergeScores(s, one);
      }
      return summarize(s);
    };
    curves.push({
      detector: name,
      hangoverMs: (cueTrack ? [] : [200, 300, 400, 500, 600, 700, 1_000]).map((h) => ({
        value: h,
        summary: sweep({ ...base, hangoverMs: h }),
      })),
      confirmMs: [0, 150, 300, 450, 500, 600, 800].map((c) => ({
        value: c,
        summary: sweep({ ...base, confirmMs: c }),
      })),
      cue: cueTrack
        ? [500, 600, 700].flatMap((hangoverMs) =>
            [200, 250].flatMap((finalHangoverMs) =>
              [0.55, 0.6, 0.65, 0.7].map((threshold) => ({
                hangoverMs,
                finalHangoverMs,
                threshold,
                summary: sweep({ ...base, hangoverMs, finalHangoverMs, eotThreshold: threshold }),
              })),
            ),
          )
        : undefined,
    });
  }
  return {
    corpus: corpus.spec,
    params,
    detectors: [...results, ...unavailable],
    curves,
    defaultDetector: TURN_DEFAULTS.detector,
    defaultVariant: DEFAULT_VARIANT,
  };
}
