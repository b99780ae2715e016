/**
 * CPU cost of one session's media pipeline, per 20 ms frame, on this machine:
 * the codec alone, and the echo path as the pipeline runs it (Opus at the
 * agent's rate when Opus supports it, else 48 kHz plus our resampler). Prints the share of one core per session and what that
 * allows per core. Run after a build:
 *
 *   node core/dist/media/bench/pipeline-bench.js [seconds-of-audio=60] [complexity=VOICE_OPUS_COMPLEXITY]
 *
 * Opus runs on the backend the transceiver would pick (native libopus when the
 * addon is built); PARLEY_OPUS=wasm measures the WebAssembly build instead.
 * The first line says which one ran. Pin it to one core to compare the two:
 *
 *   taskset -c 0 node core/dist/media/bench/pipeline-bench.js 60 5
 *   PARLEY_OPUS=wasm taskset -c 0 node core/dist/media/bench/pipeline-bench.js 60 5
 *
 * Single-threaded and synchronous, as in the transceiver; process.cpuUsage
 * counts user+system time, so other load on the machine does not inflate it
 * (much: shared caches still do).
 */

import { OpusDecoder, OpusEncoder, opusBackendName } from '../opus-codec.js';
import { nativeOpus } from '../opus-native.js';
import { VOICE_OPUS_COMPLEXITY } from '../outbound-audio.js';
import { Resampler } from '../resampler.js';
import { FrameAssembler } from '../rtp-pacer.js';
import { VoiceActivityDetector } from '../vad.js';

const seconds = Number(process.argv[2] ?? 60);
// The transceiver's own setting unless told otherwise.
const complexity = Number(process.argv[3] ?? VOICE_OPUS_COMPLEXITY);
const FRAME = 960;
const frames = Math.round(seconds * 50);

function speechLike(i: number): Int16Array {
  const out = new Int16Array(FRAME);
  for (let j = 0; j < FRAME; j++) {
    const t = (i * FRAME + j) / 48_000;
    const f0 = 140 + 40 * Math.sin(2 * Math.PI * 0.7 * t);
    let s = 0;
    for (let h = 1; h <= 8; h++) s += Math.sin(2 * Math.PI * f0 * h * t) / h;
    out[j] = Math.round(4_000 * s * (0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t)));
  }
  return out;
}

function cpuMs(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

// What the client would send: real Opus from a separate encoder.
const client = new OpusEncoder({ complexity: 5 });
const packets = Array.from({ length: frames }, (_, i) => client.encode(speechLike(i)));
client.close();

function report(name: string, ms: number): void {
  const perFrameUs = (ms * 1000) / frames;
  const share = (perFrameUs * 50) / 1e6; // fraction of one core at 50 frames/s
  console.log(
    `${name.padEnd(44)} ${perFrameUs.toFixed(1).padStart(6)} us/frame  ${(share * 100).toFixed(2).padStart(5)}% of a core per session  ~${Math.floor(1 / share)} sessions/core`,
  );
}

/** Decode (at `rate`), optionally VAD + a resampling round trip to `agentRate`, encode (at `rate`). */
const run = (rate: number, pipeline?: { agentRate: number }) => {
  const dec = new OpusDecoder(rate);
  const enc = new OpusEncoder({ sampleRate: rate, complexity });
  const down = pipeline ? new Resampler(rate, pipeline.agentRate, { prime: true }) : undefined;
  const up = pipeline ? new Resampler(pipeline.agentRate, rate, { prime: true }) : undefined;
  const vad = new VoiceActivityDetector();
  const frames20 = new FrameAssembler<number>(rate / 50);
  const decoded = new Int16Array((rate / 1000) * 120);
  const step = (p: Buffer, i: number) => {
    // As the pipeline decodes: into a reused buffer.
    const pcm = decoded.subarray(0, dec.decodeInto(p, decoded));
    if (pipeline) {
      vad.process(pcm, i * 20);
      const back = up?.process(down?.process(pcm) as Int16Array) as Int16Array;
      for (const f of frames20.push(back, i)) enc.encode(f.pcm);
    } else enc.encode(pcm);
  };
  // Warm up the JIT and the WebAssembly tiers before measuring.
  for (let i = 0; i < 200; i++) step(packets[i % frames] as Buffer, i);
  const ms = cpuMs(() => packets.forEach(step));
  dec.close();
  enc.close();
  return ms;
};

const backend = opusBackendName();
console.log(
  `${seconds} s of speech-like audio, 20 ms mono frames, encoder complexity ${complexity}, ${process.version}, ` +
    `Opus backend: ${backend === 'libopus' ? `${nativeOpus()?.version} (native addon)` : 'WebAssembly (@evan/opus)'}`,
);
report('Opus decode + encode at 48 kHz (codec only)', run(48_000));
report('echo path, 16 kHz agent (as run: codec at 16 kHz)', run(16_000, { agentRate: 16_000 }));
report('echo path, 24 kHz agent (as run: codec at 24 kHz)', run(24_000, { agentRate: 24_000 }));
report('echo path, 44.1 kHz agent (codec 48 kHz + resampling)', run(48_000, { agentRate: 44_100 }));
const dec = new OpusDecoder(16_000);
report(
  '  Opus decode at 16 kHz',
  cpuMs(() => {
    for (const p of packets) dec.decode(p);
  }),
);
const enc = new OpusEncoder({ sampleRate: 16_000, complexity });
const pcm16 = new Resampler(48_000, 16_000, { prime: true }).process(speechLike(0));
report(
  '  Opus encode at 16 kHz',
  cpuMs(() => {
    for (let i = 0; i < frames; i++) enc.encode(pcm16);
  }),
);
const down = new Resampler(48_000, 16_000, { prime: true });
const up = new Resampler(16_000, 48_000, { prime: true });
const pcm48 = speechLike(0);
report(
  '  resampling 48 > 16 > 48 kHz (when needed)',
  cpuMs(() => {
    for (let i = 0; i < frames; i++) up.process(down.process(pcm48));
  }),
);
const vad = new VoiceActivityDetector();
report(
  '  VAD',
  cpuMs(() => {
    for (let i = 0; i < frames; i++) vad.process(pcm16, i * 20);
  }),
);
