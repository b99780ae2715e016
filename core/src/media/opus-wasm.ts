import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  type DecoderImpl,
  type EncoderImpl,
  type EncoderSettings,
  MAX_PACKET_BYTES,
  maxFrameSamples,
  type OpusBackend,
  OpusError,
} from './opus-backend.js';

/**
 * libopus compiled to WebAssembly (the build shipped in @evan/opus), driven
 * through its exported C API. The package's own JS wrapper always decodes
 * with decode_fec = 0 and a 120 ms output buffer, so concealment and in-band
 * FEC of exactly one 20 ms frame need the raw `opus_decode` call.
 *
 * One module instance per process; every encoder and decoder owns its state
 * and scratch buffers inside that module's memory. Calls are synchronous.
 */

// The ES lib and @types/node 20 do not declare the WebAssembly global; this is the part we use.
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
};

interface OpusExports {
  memory: { buffer: ArrayBuffer };
  malloc(size: number): number;
  free(ptr: number): void;
  opus_strerror(code: number): number;
  opus_decoder_get_size(channels: number): number;
  opus_decoder_init(st: number, rate: number, channels: number): number;
  opus_decode(st: number, data: number, len: number, pcm: number, frameSize: number, fec: number): number;
  opus_decoder_ctl_set(st: number, request: number, value: number): number;
  opus_decoder_ctl_get(st: number, request: number): number;
  opus_encoder_get_size(channels: number): number;
  opus_encoder_init(st: number, rate: number, channels: number, application: number): number;
  opus_encode(st: number, pcm: number, frameSize: number, data: number, maxBytes: number): number;
  opus_encoder_ctl_set(st: number, request: number, value: number): number;
  opus_encoder_ctl_get(st: number, request: number): number;
  _initialize?: () => void;
}

// libopus request codes (opus_defines.h).
const CTL = {
  setBitrate: 4002,
  setComplexity: 4010,
  setInbandFec: 4012,
  setPacketLossPerc: 4014,
  setDtx: 4016,
  setSignal: 4024,
  resetState: 4028,
  getLookahead: 4027,
} as const;
const SIGNAL_VOICE = 3001;
const APPLICATION = { voip: 2048, audio: 2049, restricted_lowdelay: 2051 } as const;

let module: OpusExports | undefined;

function opus(): OpusExports {
  if (module) return module;
  const require = createRequire(import.meta.url);
  // A one-instruction module using i8x16.splat: picks the SIMD build where the runtime has SIMD.
  const simd = WebAssembly.validate(
    Uint8Array.of(
      0,
      97,
      115,
      109,
      1,
      0,
      0,
      0,
      1,
      4,
      1,
      96,
      0,
      0,
      3,
      2,
      1,
      0,
      10,
      9,
      1,
      7,
      0,
      65,
      0,
      253,
      15,
      26,
      11,
    ),
  );
  const file = require.resolve(`@evan/opus/wasm/${simd ? 'simd' : 'opus'}.wasm`);
  const noop = () => 0;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), {
    // The library never does I/O; these satisfy the emscripten runtime's imports.
    wasi_snapshot_preview1: { fd_seek: noop, fd_write: noop, fd_close: noop, proc_exit: noop },
    env: { emscripten_notify_memory_growth: noop },
  });
  module = instance.exports as unknown as OpusExports;
  module._initialize?.();
  return module;
}

function check(code: number, what: string): number {
  if (code >= 0) return code;
  const m = opus();
  const bytes = new Uint8Array(m.memory.buffer);
  let p = m.opus_strerror(code);
  let msg = '';
  while (bytes[p] !== 0 && msg.length < 200) msg += String.fromCharCode(bytes[p++] as number);
  throw new OpusError(`${what}: ${msg || `error ${code}`}`, code);
}

abstract class WasmState {
  protected readonly m = opus();
  protected state = 0;
  protected pcmPtr = 0;
  protected packetPtr = 0;
  protected readonly maxSamples: number;

  constructor(
    readonly sampleRate: number,
    readonly channels: 1 | 2,
    stateBytes: number,
  ) {
    this.maxSamples = maxFrameSamples(sampleRate);
    this.state = this.m.malloc(stateBytes);
    // Scratch for one packet's PCM (120 ms is the longest Opus packet) and one packet's bytes.
    this.pcmPtr = this.m.malloc(this.maxSamples * channels * 2);
    this.packetPtr = this.m.malloc(MAX_PACKET_BYTES);
    if (!this.state || !this.pcmPtr || !this.packetPtr) {
      this.close();
      throw new OpusError('out of WebAssembly memory', -7);
    }
  }

  /** Frees the codec state; further calls throw. */
  close(): void {
    for (const p of [this.state, this.pcmPtr, this.packetPtr]) if (p) this.m.free(p);
    this.state = this.pcmPtr = this.packetPtr = 0;
  }

  protected live(): void {
    if (!this.state) throw new OpusError('codec is closed', -6);
  }
}

class WasmDecoder extends WasmState implements DecoderImpl {
  constructor(sampleRate: number, channels: 1 | 2) {
    super(sampleRate, channels, opus().opus_decoder_get_size(channels));
    check(this.m.opus_decoder_init(this.state, sampleRate, channels), 'opus_decoder_init');
  }

  decodeInto(packet: Uint8Array, out: Int16Array): number {
    if (packet.length === 0 || packet.length > MAX_PACKET_BYTES) throw new OpusError('bad packet length', -4);
    return this.run(packet, Math.min(this.maxSamples, out.length / this.channels), 0, out);
  }

  decodeFecInto(next: Uint8Array, samples: number, out: Int16Array): number {
    return this.run(next, samples, 1, out);
  }

  concealInto(samples: number, out: Int16Array): number {
    return this.run(undefined, samples, 0, out);
  }

  private run(packet: Uint8Array | undefined, frame: number, fec: 0 | 1, out: Int16Array): number {
    this.live();
    // The same limits the native addon applies: never write past the scratch or `out`.
    if (frame <= 0 || frame * this.channels > out.length)
      throw new OpusError('opus_decode: buffer too small', -2);
    if (frame > this.maxSamples) throw new OpusError('opus_decode: invalid argument', -1);
    if (packet && packet.length > MAX_PACKET_BYTES) throw new OpusError('bad packet length', -4);
    if (packet) new Uint8Array(this.m.memory.buffer, this.packetPtr, packet.length).set(packet);
    const n = check(
      this.m.opus_decode(
        this.state,
        packet ? this.packetPtr : 0,
        packet?.length ?? 0,
        this.pcmPtr,
        frame,
        fec,
      ),
      'opus_decode',
    );
    out.set(new Int16Array(this.m.memory.buffer, this.pcmPtr, n * this.channels));
    return n;
  }
}

class WasmEncoder extends WasmState implements EncoderImpl {
  constructor(s: EncoderSettings) {
    super(s.sampleRate, s.channels, opus().opus_encoder_get_size(s.channels));
    check(
      this.m.opus_encoder_init(this.state, s.sampleRate, s.channels, APPLICATION[s.application]),
      'opus_encoder_init',
    );
    this.ctl(CTL.setSignal, SIGNAL_VOICE);
    this.ctl(CTL.setBitrate, s.bitrate);
    this.ctl(CTL.setComplexity, s.complexity);
    this.ctl(CTL.setInbandFec, s.inbandFec ? 1 : 0);
    this.ctl(CTL.setPacketLossPerc, s.packetLossPercent);
    this.ctl(CTL.setDtx, 0);
  }

  get lookahead(): number {
    this.live();
    return this.m.opus_encoder_ctl_get(this.state, CTL.getLookahead);
  }

  encodeInto(pcm: Int16Array, out: Uint8Array): number {
    this.live();
    if (pcm.length % this.channels || pcm.length > this.maxSamples * this.channels)
      throw new OpusError('opus_encode: invalid argument', -1);
    new Int16Array(this.m.memory.buffer, this.pcmPtr, pcm.length).set(pcm);
    const n = check(
      this.m.opus_encode(
        this.state,
        this.pcmPtr,
        pcm.length / this.channels,
        this.packetPtr,
        Math.min(MAX_PACKET_BYTES, out.length),
      ),
      'opus_encode',
    );
    out.set(new Uint8Array(this.m.memory.buffer, this.packetPtr, n));
    return n;
  }

  reset(): void {
    this.live();
    this.m.opus_encoder_ctl_set(this.state, CTL.resetState, 0);
  }

  private ctl(request: number, value: number): void {
    check(this.m.opus_encoder_ctl_set(this.state, request, value), `opus_encoder_ctl(${request})`);
  }
}

export const wasmBackend: OpusBackend = {
  name: 'wasm',
  encoder: (s) => new WasmEncoder(s),
  decoder: (rate, channels) => new WasmDecoder(rate, channels),
};
