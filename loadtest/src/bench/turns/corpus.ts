/**
 * The labelled turn-taking corpus, made reproducibly from a seed: speech from
 * espeak-ng (several voices, rates and pitches) arranged into turns with
 * pauses of known length, backchannels, coughs and clicks over an agent that
 * is talking, mixed with white noise, babble (overlapping espeak speech) and
 * a fan-like hum (sox) at several SNRs. Ground truth comes from the clean
 * speech before mixing: per 20 ms frame, and per turn / interruption.
 *
 * espeak-ng and sox run once per utterance or noise bed; their output is
 * cached in `dir` under a hash of what was asked, so a rerun only mixes.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from './rng.js';

/** Where built corpora (and the trainers' cached examples) are kept between runs: building one runs espeak-ng and sox. */
export const CORPUS_CACHE_DIR = join(tmpdir(), 'parley-turns-corpus');

export const RATE = 16_000;
export const FRAME_MS = 20;
export const FRAME = (RATE / 1000) * FRAME_MS;

export type NoiseKind = 'white' | 'babble' | 'hum';
export const NOISES: readonly NoiseKind[] = ['white', 'babble', 'hum'];

/** Milliseconds from the start of the track. */
export interface Segment {
  start: number;
  end: number;
}

export interface Distractor extends Segment {
  kind: 'backchannel' | 'cough' | 'click';
  text?: string;
}

export interface Track {
  id: string;
  /** `turns`: the user talks, the agent waits; `barge`: the agent talks throughout, the user reacts. */
  kind: 'turns' | 'barge';
  noise: NoiseKind | 'clean';
  /** null for clean. */
  snrDb: number | null;
  pcm: Int16Array;
  /** Ground truth per 20 ms frame: 1 where the clean speech is active. */
  labels: Uint8Array;
  /** `turns`: the user's turns; `barge`: real interruptions (the agent should stop). */
  turns: Segment[];
  /** Pauses inside turns (a turn must not end in them). */
  pauses: Segment[];
  /** `barge`: what must not interrupt the agent. */
  distractors: Distractor[];
  durationMs: number;
}

export interface CorpusOptions {
  /** Cache for espeak-ng / sox output. */
  dir: string;
  seed?: number;
  snrs?: number[];
  noises?: readonly NoiseKind[];
  turnSeconds?: number;
  bargeSeconds?: number;
  /** espeak-ng voices to draw from (a held-out split uses other voices than training). */
  voices?: readonly string[];
}

export interface Corpus {
  tracks: Track[];
  /** What the corpus was made from, for the report. */
  spec: {
    seed: number;
    snrs: number[];
    noises: readonly NoiseKind[];
    voices: string[];
    rates: number[];
    pausesMs: number[];
    espeak: string;
    sox: string;
    speechMinutes: number;
    totalMinutes: number;
  };
}

export class CorpusToolMissing extends Error {
  constructor(tool: string, cause?: unknown) {
    super(`${tool} is not installed (Debian: apt-get install espeak-ng sox)`, { cause });
    this.name = 'CorpusToolMissing';
  }
}

export const VOICES = ['en-us', 'en-gb', 'en-gb-scotland', 'en-029', 'en-us+f3', 'en-gb-x-rp+f2', 'en-us+m4'];
const RATES = [140, 170, 205];
/** Hesitations inside a turn, on top of the pauses espeak makes at commas. */
const PAUSES_MS = [150, 250, 350];

const PHRASES = [
  'I would like to book a table for two',
  'tomorrow evening, around seven',
  'actually, make that eight o clock',
  'can you tell me what the weather will be like',
  'I need to change my delivery address',
  'the parcel should go to my office instead',
  'what time does the pharmacy close on Sundays',
  'please read me the last message again',
  'no, not that one, the one before',
  'how much would a return ticket cost',
  'I am calling about my internet connection',
  'it keeps dropping every few minutes',
  'could you remind me to call my sister',
  'set an alarm for six thirty',
  'thanks, that is all for now',
  'let me think about it for a second',
];
const INTERRUPTIONS = [
  'wait, that is not what I asked for',
  'sorry, can you stop there please',
  'hold on, I have a different question',
  'no no, I meant next Tuesday',
  'excuse me, could you repeat the price',
  'stop, I want to cancel the order',
];
const BACKCHANNELS = ['mm-hm', 'yeah', 'uh-huh', 'okay', 'right', 'mm', 'yes', 'sure', 'I see', 'oh'];
/**
 * What espeak-ng is given for a backchannel: it spells "mm" and "mm-hm" out as
 * letters ("em em", "em em aitch em": 0.7-0.9 s, four syllables), so those two
 * go in as phonemes (espeak's [[...]] input): a hummed "mm" and "m-hm".
 */
const SAY: Record<string, string> = { 'mm-hm': "[[m'hm]]", mm: "[['m:]]" };
const BABBLE = [
  'the meeting was moved to the other room on the second floor',
  'she said the train would be late again this morning',
  'we should order more paper before the end of the month',
  'did you see the game last night, it went to extra time',
  'the children are going to the museum on Friday',
  'I think the new menu is better than the old one',
];

function tool(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CorpusToolMissing(cmd, err);
    throw err;
  }
}

function readRaw(file: string): Int16Array {
  const b = readFileSync(file);
  return new Int16Array(b.buffer, b.byteOffset, b.byteLength >> 1).slice();
}

class SourceCache {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private cached(key: unknown, make: (out: string) => void): Int16Array {
    const name = createHash('sha1').update(JSON.stringify(key)).digest('hex').slice(0, 16);
    const file = join(this.dir, `${name}.raw`);
    if (!existsSync(file)) {
      const tmp = `${file}.${process.pid}.tmp`;
      make(tmp);
      renameSync(tmp, file);
    }
    return readRaw(file);
  }

  /** One utterance at 16 kHz, its leading and trailing silence cut off. */
  speech(text: string, voice: string, rate: number, pitch: number): Int16Array {
    const pcm = this.cached({ v: 1, text, voice, rate, pitch }, (out) => {
      const wav = `${out}.wav`;
      tool('espeak-ng', ['-v', voice, '-s', String(rate), '-p', String(pitch), '-w', wav, text]);
      tool('sox', [wav, '-r', String(RATE), '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', out]);
    });
    return trimSilence(pcm);
  }

  /** A cough-like burst: band-limited pink noise with a fast attack and a decay (sox, seeded). */
  cough(ms: number, centreHz: number): Int16Array {
    return this.cached({ v: 1, cough: ms, centreHz }, (out) => {
      const s = ms / 1000;
      tool('sox', [
        '-R',
        '-n',
        '-r',
        String(RATE),
        '-c',
        '1',
        '-b',
        '16',
        '-e',
        'signed-integer',
        '-t',
        'raw',
        out,
        'synth',
        String(s),
        'pinknoise',
        'band',
        String(centreHz),
        String(centreHz),
        'fade',
        'q',
        '0.01',
        String(s),
        String(s * 0.6),
        'gain',
        '-n',
        '-3',
      ]);
    });
  }

  /** A fan: brown noise, low-passed, with a slow blade flutter (sox, seeded). */
  fan(seconds: number): Int16Array {
    return this.cached({ v: 1, fan: seconds }, (out) => {
      tool('sox', [
        '-R',
        '-n',
        '-r',
        String(RATE),
        '-c',
        '1',
        '-b',
        '16',
        '-e',
        'signed-integer',
        '-t',
        'raw',
        out,
        'synth',
        String(seconds),
        'brownnoise',
        'lowpass',
        '500',
        'tremolo',
        '7',
        '25',
        'gain',
        '-n',
        '-6',
      ]);
    });
  }
}

function trimSilence(pcm: Int16Array): Int16Array {
  let a = 0;
  let b = pcm.length - 1;
  while (a < b && Math.abs(pcm[a] as number) < 200) a++;
  while (b > a && Math.abs(pcm[b] as number) < 200) b--;
  return pcm.slice(a, b + 1);
}

const msToSamples = (ms: number) => Math.round((ms * RATE) / 1000);
const samplesToMs = (n: number) => (n * 1000) / RATE;

/** A track being laid out: speech (labelled) and other sounds (not speech) on one timeline. */
class Timeline {
  speech: Float32Array;
  other: Float32Array;
  at = 0;

  constructor(readonly seconds: number) {
    this.speech = new Float32Array(seconds * RATE + RATE * 20);
    this.other = new Float32Array(seconds * RATE + RATE * 20);
  }

  get full(): boolean {
    return this.at >= this.seconds * RATE;
  }

  place(pcm: Int16Array, into: 'speech' | 'other', gain = 1): Segment {
    const buf = this[into];
    for (let i = 0; i < pcm.length && this.at + i < buf.length; i++)
      buf[this.at + i] = (buf[this.at + i] as number) + (pcm[i] as number) * gain;
    const seg = { start: samplesToMs(this.at), end: samplesToMs(this.at + pcm.length) };
    this.at += pcm.length;
    return seg;
  }

  skip(ms: number): void {
    this.at += msToSamples(ms);
  }
}

/**
 * Per-frame truth from the clean speech: a frame is speech when it is within
 * 30 dB of the loudest speech frame; gaps shorter than 120 ms between speech
 * frames (stop closures, word joins) are speech too, as a human labeller and
 * any turn-taking use would count them.
 */
export function labelFrames(speech: Float32Array, frames: number): Uint8Array {
  const db = new Float32Array(frames);
  let peak = -120;
  for (let f = 0; f < frames; f++) {
    let e = 0;
    for (let i = f * FRAME; i < (f + 1) * FRAME; i++) e += (speech[i] ?? 0) ** 2;
    const d = e > 0 ? 10 * Math.log10(e / FRAME / 32768 ** 2) : -120;
    db[f] = d;
    peak = Math.max(peak, d);
  }
  const labels = new Uint8Array(frames);
  for (let f = 0; f < frames; f++) labels[f] = (db[f] as number) > peak - 30 ? 1 : 0;
  const maxGap = 120 / FRAME_MS;
  let last = -1;
  for (let f = 0; f < frames; f++) {
    if (!labels[f]) continue;
    if (last >= 0 && f - last - 1 <= maxGap) labels.fill(1, last + 1, f);
    last = f;
  }
  return labels;
}

interface Layout {
  timeline: Timeline;
  turns: Segment[];
  pauses: Segment[];
  distractors: Distractor[];
}

function layoutTurns(cache: SourceCache, rng: Rng, seconds: number, voices: readonly string[]): Layout {
  const t = new Timeline(seconds);
  const turns: Segment[] = [];
  const pauses: Segment[] = [];
  t.skip(1_000);
  while (!t.full) {
    const voice = rng.pick(voices);
    const rate = rng.pick(RATES);
    const pitch = rng.int(35, 65);
    const parts = rng.int(1, 3);
    let start = Number.NaN;
    let end = 0;
    for (let p = 0; p < parts; p++) {
      if (p > 0) {
        const pause = rng.pick(PAUSES_MS);
        pauses.push({ start: end, end: end + pause });
        t.skip(pause);
      }
      // A phrase the talker goes on from ends with a comma, the turn's last with a full stop: espeak
      // renders them as a continuation rise and a final fall, as talkers do (not always: see README).
      const text = `${rng.pick(PHRASES)}${p < parts - 1 ? ',' : '.'}`;
      const seg = t.place(cache.speech(text, voice, rate, pitch), 'speech', 0.5);
      if (Number.isNaN(start)) start = seg.start;
      end = seg.end;
    }
    turns.push({ start, end });
    t.skip(rng.int(1_500, 2_500));
  }
  return { timeline: t, turns, pauses, distractors: [] };
}

function clicks(rng: Rng): Int16Array {
  const out = new Int16Array(msToSamples(250));
  const n = rng.int(1, 3);
  for (let k = 0; k < n; k++) {
    const at = msToSamples(k * rng.int(40, 90));
    const amp = rng.int(6_000, 20_000);
    for (let i = 0; i < msToSamples(4) && at + i < out.length; i++)
      out[at + i] = Math.round(amp * Math.exp(-i / 12) * (i % 2 ? -1 : 1));
  }
  return out;
}

function layoutBarge(cache: SourceCache, rng: Rng, seconds: number, voices: readonly string[]): Layout {
  const t = new Timeline(seconds);
  const turns: Segment[] = [];
  const distractors: Distractor[] = [];
  t.skip(1_500);
  while (!t.full) {
    const r = rng.next();
    const voice = rng.pick(voices);
    const rate = rng.pick(RATES);
    const pitch = rng.int(35, 65);
    if (r < 0.5) {
      const text = rng.pick(BACKCHANNELS);
      const seg = t.place(cache.speech(SAY[text] ?? text, voice, rate, pitch), 'speech', 0.5);
      distractors.push({ kind: 'backchannel', text, ...seg });
    } else if (r < 0.65) {
      const seg = t.place(cache.cough(rng.pick([180, 250, 320]), rng.pick([500, 800, 1_200])), 'other', 0.8);
      distractors.push({ kind: 'cough', ...seg });
    } else if (r < 0.8) {
      const seg = t.place(clicks(rng), 'other');
      distractors.push({ kind: 'click', ...seg });
    } else {
      const seg = t.place(cache.speech(rng.pick(INTERRUPTIONS), voice, rate, pitch), 'speech', 0.5);
      turns.push(seg);
    }
    t.skip(rng.int(1_500, 4_000));
  }
  return { timeline: t, turns, pauses: [], distractors };
}

function whiteNoise(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.gauss() * 1_000;
  return out;
}

/** Six talkers at once, each a loop of other sentences from other voices, offset at random. */
function babble(cache: SourceCache, rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let talker = 0; talker < 6; talker++) {
    const voice = VOICES[talker % VOICES.length] as string;
    const parts = BABBLE.map((s, i) =>
      cache.speech(s, voice, RATES[(talker + i) % RATES.length] as number, 50),
    );
    let at = -rng.int(0, RATE * 3);
    let k = talker;
    while (at < n) {
      const p = parts[k++ % parts.length] as Int16Array;
      for (let i = 0; i < p.length; i++)
        if (at + i >= 0 && at + i < n) out[at + i] = (out[at + i] as number) + (p[i] as number);
      at += p.length + msToSamples(rng.int(50, 300));
    }
  }
  return out;
}

/** Fan noise plus mains hum (100 Hz and harmonics, slowly wandering in level). */
function hum(cache: SourceCache, n: number): Float32Array {
  const fan = cache.fan(Math.ceil(n / RATE));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const mains =
      2_000 * Math.sin(2 * Math.PI * 100 * t) +
      900 * Math.sin(2 * Math.PI * 200 * t + 0.3) +
      400 * Math.sin(2 * Math.PI * 300 * t + 1.1);
    out[i] = (fan[i % fan.length] as number) + mains * (0.8 + 0.2 * Math.sin(2 * Math.PI * 0.3 * t));
  }
  return out;
}

function rms(x: Float32Array, labels?: Uint8Array): number {
  let e = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    if (labels && !labels[Math.floor(i / FRAME)]) continue;
    e += (x[i] as number) ** 2;
    n++;
  }
  return Math.sqrt(e / Math.max(1, n));
}

function mix(
  layout: Layout,
  labels: Uint8Array,
  noise: Float32Array | undefined,
  snrDb: number | null,
): Int16Array {
  const { speech, other } = layout.timeline;
  const n = labels.length * FRAME;
  // SNR against the speech's active level (its labelled frames), as ITU P.56 does in spirit.
  const g = noise && snrDb !== null ? rms(speech, labels) / (rms(noise) * 10 ** (snrDb / 20)) : 0;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const v = (speech[i] as number) + (other[i] as number) + (noise ? (noise[i] as number) * g : 0);
    out[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return out;
}

export function buildCorpus(opts: CorpusOptions): Corpus {
  const seed = opts.seed ?? 14;
  const snrs = opts.snrs ?? [20, 10, 5];
  const noises = opts.noises ?? NOISES;
  const cache = new SourceCache(opts.dir);
  const espeak = tool('espeak-ng', ['--version']).trim();
  const sox = tool('sox', ['--version']).trim();
  const voices = opts.voices ?? VOICES;
  const layouts = {
    turns: layoutTurns(cache, new Rng(seed), opts.turnSeconds ?? 90, voices),
    barge: layoutBarge(cache, new Rng(seed + 1), opts.bargeSeconds ?? 60, voices),
  };
  const tracks: Track[] = [];
  let speechFrames = 0;
  for (const kind of ['turns', 'barge'] as const) {
    const layout = layouts[kind];
    const frames = Math.floor(layout.timeline.at / FRAME) + 25;
    const labels = labelFrames(layout.timeline.speech, frames);
    const base = {
      kind,
      labels,
      turns: layout.turns,
      pauses: layout.pauses,
      distractors: layout.distractors,
      durationMs: frames * FRAME_MS,
    };
    tracks.push({
      id: `${kind}/clean`,
      noise: 'clean',
      snrDb: null,
      pcm: mix(layout, labels, undefined, null),
      ...base,
    });
    const nrng = new Rng(seed + 100);
    for (const noise of noises) {
      const bed =
        noise === 'white'
          ? whiteNoise(nrng, frames * FRAME)
          : noise === 'babble'
            ? babble(cache, nrng, frames * FRAME)
            : hum(cache, frames * FRAME);
      for (const snr of snrs)
        tracks.push({
          id: `${kind}/${noise}/${snr}dB`,
          noise,
          snrDb: snr,
          pcm: mix(layout, labels, bed, snr),
          ...base,
        });
    }
    speechFrames += labels.reduce((a, b) => a + b, 0);
  }
  const total = tracks.reduce((a, t) => a + t.durationMs, 0);
  return {
    tracks,
    spec: {
      seed,
      snrs,
      noises,
      voices: [...voices],
      rates: RATES,
      pausesMs: PAUSES_MS,
      espeak,
      sox: sox.replace(/^.*SoX /, 'SoX '),
      speechMinutes: Math.round((speechFrames * FRAME_MS) / 600) / 100,
      totalMinutes: Math.round(total / 600) / 100,
    },
  };
}
