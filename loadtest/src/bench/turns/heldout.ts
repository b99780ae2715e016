/**
 * Turn-taking variants on three splits at 10 dB SNR, so a setting is chosen
 * on one corpus and reported on others:
 *
 *   node loadtest/dist/bench/turns/heldout.js [--variants a,b] [--splits bench,train,heldout]
 *
 * `train`: seeds 101-103 with the training voices (train-eot.ts); `heldout`:
 * seed 201 with the other three voices; `bench`: the bench's own corpus
 * (seed 14, all voices), the 10 dB part of `npm run bench -- --only turns`.
 * Each prints frame precision/recall, end of turn, premature ends, false
 * barge-ins and CPU per session, as the bench scores them.
 */
import { fileURLToPath } from 'node:url';
import { EOT_WEIGHTS } from '@parley/core/media/turn/eot-weights.js';
import { SileroClassifier, type SileroClassifierOptions } from '@parley/core/media/turn/silero-classifier.js';
import { SileroUnavailable, sharedSilero } from '@parley/core/media/turn/silero-onnx.js';
import {
  DEFAULT_FINAL_HANGOVER_MS,
  DEFAULT_HANGOVER_MS,
  TURN_DEFAULTS,
} from '@parley/core/media/turn/turn-config.js';
import { buildCorpus, CORPUS_CACHE_DIR, type Corpus, FRAME, type Track } from './corpus.js';
import { cueProbabilities } from './pauses.js';
import {
  DOUBTED,
  emptyScore,
  mergeScores,
  type ScoreSummary,
  SILENCE,
  SPEECH,
  scoreTrack,
  summarize,
  type TurnParams,
} from './score.js';
import { handleScriptArgs } from './script-usage.js';
import { HELDOUT_SEEDS, HELDOUT_VOICES, TRAIN_SEEDS, TRAIN_VOICES } from './train-eot.js';

export interface HeldoutVariant {
  name: string;
  silero: SileroClassifierOptions;
  params?: Partial<TurnParams>;
}

/**
 * The default and what it was chosen against on the training seeds (README,
 * "Turn-taking"): the talker score (the level tests alone before it, with
 * the cue's final hangover of then; without the limit in a speech-like
 * background; a tighter one), the model's energy gate (quiet quantile and
 * margin), the foreground gate's floor margin and hold, and skipping more
 * steady windows. Rows from before the talker score that set foreground
 * options of their own now get the score too, unless they say `talker: null`.
 */
export const HELDOUT_VARIANTS: HeldoutVariant[] = [
  { name: 'default', silero: {} },
  {
    name: 'level gate only (before)',
    silero: { foreground: { talker: null } },
    params: { finalHangoverMs: 250 },
  },
  { name: 'score without babble limit', silero: { foreground: { maxSinceLoud: Number.POSITIVE_INFINITY } } },
  { name: 'score with babble limit 12', silero: { foreground: { maxSinceLoud: 12 } } },
  { name: 'score with babble limit always', silero: { foreground: { speechyBackground: 0 } } },
  { name: 'floor gate only (before)', silero: { quietMarginDb: false } },
  { name: 'quiet q0.9 m0', silero: { quietMarginDb: 0 } },
  { name: 'quiet q0.8 m1', silero: { quietMarginDb: 1, quietQuantile: 0.8 } },
  { name: 'quiet q0.95 m0', silero: { quietMarginDb: 0, quietQuantile: 0.95 } },
  { name: 'skip 2 of 3 steady', silero: { steadySkip: 2 } },
  { name: 'skip 3 of 4 steady', silero: { steadySkip: 3 } },
  {
    name: 'fg floor 14 hold 5 (before)',
    silero: { foreground: { floorMarginDb: 14, holdFrames: 5, talker: null } },
  },
  { name: 'fg floor 16 hold 5', silero: { foreground: { floorMarginDb: 16, holdFrames: 5 } } },
  { name: 'fg floor 20 hold 5', silero: { foreground: { floorMarginDb: 20, holdFrames: 5 } } },
  { name: 'fg floor 22 hold 5', silero: { foreground: { floorMarginDb: 22, holdFrames: 5 } } },
  { name: 'fg floor 22 hold 7', silero: { foreground: { floorMarginDb: 22, holdFrames: 7 } } },
  { name: 'fg floor 20 hold 8', silero: { foreground: { floorMarginDb: 20, holdFrames: 8 } } },
  { name: 'fg floor 22 hold 10', silero: { foreground: { floorMarginDb: 22, holdFrames: 10 } } },
  { name: 'fg floor 22 below 12', silero: { foreground: { floorMarginDb: 22, belowDb: 12 } } },
  { name: 'fg background floor', silero: { foregroundFloor: 'background' } },
  { name: 'reset after skip (before)', silero: { resetAfterSkip: true }, params: { confirmMs: 600 } },
];

function corpora(which: string[]): { name: string; corpus: Corpus }[] {
  const dir = CORPUS_CACHE_DIR;
  const out: { name: string; corpus: Corpus }[] = [];
  const size = { snrs: [10], turnSeconds: 120, bargeSeconds: 180 };
  if (which.includes('bench')) out.push({ name: 'bench', corpus: buildCorpus({ dir, ...size }) });
  if (which.includes('train'))
    for (const seed of TRAIN_SEEDS)
      out.push({ name: `train-${seed}`, corpus: buildCorpus({ dir, seed, voices: TRAIN_VOICES, ...size }) });
  if (which.includes('heldout'))
    for (const seed of HELDOUT_SEEDS)
      out.push({
        name: `heldout-${seed}`,
        corpus: buildCorpus({ dir, seed, voices: HELDOUT_VOICES, ...size }),
      });
  return out;
}

const USAGE = `usage: node loadtest/dist/bench/turns/heldout.js [--variants a,b] [--splits bench,train,heldout] [--silero JSON] [--sweep]

Turn-taking variants scored at 10 dB on the bench corpus and the training and held-out splits
(frame precision/recall per noise, end of turn, premature ends, false barge-ins, CPU).
  --variants  comma-separated variant names (default: all)
  --splits    which corpora (default bench,train,heldout)
  --silero    one more variant with these SileroClassifier options (JSON)
  --sweep     also sweep hangover and end-of-turn settings`;

async function main(): Promise<void> {
  handleScriptArgs(USAGE, ['--variants', '--splits', '--silero', '--sweep', '--fresh']);
  const arg = (k: string) => {
    const i = process.argv.indexOf(k);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const splits = (arg('--splits') ?? 'bench,train,heldout').split(',');
  const names = arg('--variants')?.split(',');
  const variants = HELDOUT_VARIANTS.filter((v) => !names || names.includes(v.name));
  // --silero '{"foreground":{"holdFrames":8}}': one more variant with those classifier options.
  const custom = arg('--silero');
  if (custom !== undefined)
    variants.push({ name: custom, silero: JSON.parse(custom) as SileroClassifierOptions });
  const silero = sharedSilero();
  if (silero instanceof SileroUnavailable) throw silero;
  const base: TurnParams = {
    startMs: TURN_DEFAULTS.minSpeechMs,
    hangoverMs: DEFAULT_HANGOVER_MS.silero,
    finalHangoverMs: DEFAULT_FINAL_HANGOVER_MS.silero,
    eotThreshold: EOT_WEIGHTS.threshold,
    confirmMs: TURN_DEFAULTS.bargeInConfirmMs,
    resumeMs: TURN_DEFAULTS.bargeInResumeMs,
  };
  const sets = corpora(splits);
  // Train seeds are pooled into one line; each other split is its own.
  const groups = new Map<string, Corpus[]>();
  for (const s of sets) {
    const g = s.name.startsWith('train') ? 'train' : s.name;
    groups.set(g, [...(groups.get(g) ?? []), s.corpus]);
  }
  for (const v of variants) {
    const p = { ...base, ...v.params };
    for (const [g, cs] of groups) {
      const all = emptyScore();
      const byNoise = new Map<string, ReturnType<typeof emptyScore>>();
      let cpuUs = 0;
      let audioMs = 0;
      let run = 0;
      let skipped = 0;
      const kept: Kept[] = [];
      for (const c of cs)
        for (const t of c.tracks) {
          const n = Math.floor(t.pcm.length / FRAME);
          const d = new Uint8Array(n);
          const cl = new SileroClassifier(silero.stream(), v.silero);
          const c0 = process.cpuUsage();
          for (let f = 0; f < n; f++)
            d[f] = cl.classify(t.pcm.subarray(f * FRAME, (f + 1) * FRAME))
              ? cl.confident
                ? SPEECH
                : DOUBTED
              : SILENCE;
          const cue = cueProbabilities(t, d);
          const u = process.cpuUsage(c0);
          cpuUs += u.user + u.system;
          audioMs += n * 20;
          run += cl.windows.run;
          skipped += cl.windows.skipped;
          if (t.snrDb !== 10) continue;
          kept.push({ track: t, decisions: d, cue });
          const one = emptyScore();
          scoreTrack(t, d, p, one, cue);
          mergeScores(all, one);
          const k = t.noise;
          const bn = byNoise.get(k) ?? emptyScore();
          scoreTrack(t, d, p, bn, cue);
          byNoise.set(k, bn);
        }
      const s = summarize(all);
      const noiseP = [...byNoise].map(([k, x]) => `${k} ${summarize(x).precision}/${summarize(x).recall}`);
      console.log(
        `${v.name.padEnd(28)} ${g.padEnd(12)} ${line(s)} | ${noiseP.join(', ')} | CPU ${((cpuUs / 1000 / audioMs) * 100).toFixed(3)} % (model ${(run / Math.max(1, run + skipped)).toFixed(3)})`,
      );
      if (process.argv.includes('--sweep')) sweep(kept, p, g);
    }
  }
}

interface Kept {
  track: Track;
  decisions: Uint8Array;
  cue: Float32Array;
}

const line = (s: ScoreSummary) =>
  `P ${s.precision} R ${s.recall} | end ${s.endP50Ms}/${s.endP95Ms} ms, premature ${s.prematurePct} % (${s.turns} turns), unended ${s.unendedPct} % | false barge ${s.falseBargeInsPerMin}/min ${JSON.stringify(s.falseBy)}, barge p50 ${s.bargeDelayP50Ms} ms, missed ${s.missedInterruptions}/${s.interruptions}`;

/** Endpointing and barge-in settings replayed over one split's decisions (the detector is not rerun). */
function sweep(kept: Kept[], base: TurnParams, split: string): void {
  const score = (p: TurnParams, kind: Track['kind']) => {
    const all = emptyScore();
    for (const k of kept.filter((x) => x.track.kind === kind)) {
      const one = emptyScore();
      scoreTrack(k.track, k.decisions, p, one, k.cue);
      mergeScores(all, one);
    }
    return summarize(all);
  };
  for (const hangoverMs of [600, 700])
    for (const finalHangoverMs of [150, 200, 250, 300])
      for (const eotThreshold of [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8]) {
        const s = score({ ...base, hangoverMs, finalHangoverMs, eotThreshold }, 'turns');
        console.log(
          `  ${split} hangover ${hangoverMs} final ${finalHangoverMs} at p >= ${eotThreshold}: end ${s.endP50Ms}/${s.endP95Ms} ms, premature ${s.prematurePct} %, unended ${s.unendedPct} %`,
        );
      }
  for (const confirmMs of [500, 600, 700, 800, 1_000]) {
    const s = score({ ...base, confirmMs }, 'barge');
    console.log(
      `  ${split} confirm ${confirmMs}: false barge ${s.falseBargeInsPerMin}/min ${JSON.stringify(s.falseBy)}, barge p50 ${s.bargeDelayP50Ms} ms, missed ${s.missedInterruptions}/${s.interruptions}`,
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
