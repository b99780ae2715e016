import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

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
/** RFC 6716: at most 1275 bytes per frame, 3 frames per packet plus framing. */
const MAX_PACKET_BYTES = 4000;
const VALID_RATES = new Set([8_000, 12_000, 16_000, 24_000, 48_000]);

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

export class OpusError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

abstract class WasmState {
  protected readonly m = opus();
  protected state = 0;
  protected pcmPtr = 0;
  protected packetPtr = 0;

  constructor(
    readonly sampleRate: number,
    readonly channels: 1 | 2,
    stateBytes: number,
  ) {
    if (!VALID_RATES.has(sampleRate)) throw new RangeError(`Opus cannot run at ${sampleRate} Hz`);
    this.state = this.m.malloc(stateBytes);
    // 120 ms is the longest Opus packet; scratch for one packet's PCM either way.
    this.pcmPtr = this.m.malloc((sampleRate / 1000) * 120 * channels * 2);
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

/** Decodes Opus packets to interleaved PCM16 at `sampleRate`. */
export class OpusDecoder extends WasmState {
  constructor(sampleRate = 48_000, channels: 1 | 2 = 1) {
    super(sampleRate, channels, opus().opus_decoder_get_size(channels));
    check(this.m.opus_decoder_init(this.state, sampleRate, channels), 'opus_decoder_init');
  }

  /** Decodes one packet; throws OpusError on a malformed packet. */
  decode(packet: Uint8Array): Int16Array {
    if (packet.length === 0 || packet.length > MAX_PACKET_BYTES) throw new OpusError('bad packet length', -4);
    return this.run(packet, (this.sampleRate / 1000) * 120, 0);
  }

  /**
   * Recovers a lost frame of `samples` per channel from the in-band FEC data
   * in the packet that followed it; libopus falls back to concealment when
   * that packet carries none.
   */
  decodeFec(next: Uint8Array, samples: number): Int16Array {
    return this.run(next, samples, 1);
  }

  /** Packet-loss concealment for `samples` per channel (a multiple of 2.5 ms). */
  conceal(samples: number): Int16Array {
    return this.run(undefined, samples, 0);
  }

  private run(packet: Uint8Array | undefined, maxSamples: number, fec: 0 | 1): Int16Array {
    this.live();
    if (packet) new Uint8Array(this.m.memory.buffer, this.packetPtr, packet.length).set(packet);
    const n = check(
      this.m.opus_decode(
        this.state,
        packet ? this.packetPtr : 0,
        packet?.length ?? 0,
        this.pcmPtr,
        maxSamples,
        fec,
      ),
      'opus_decode',
    );
    return new Int16Array(this.m.memory.buffer, this.pcmPtr, n * this.channels).slice();
  }
}

export interface EncoderOptions {
  sampleRate?: number;
  channels?: 1 | 2;
  application?: keyof typeof APPLICATION;
  /** bits per second; 24-32 kbit/s is transparent for wideband speech. */
  bitrate?: number;
  /** 0-10: CPU against quality. */
  complexity?: number;
  /** Add in-band FEC (LBRR) so a receiver can rebuild a lost frame from the next one. */
  inbandFec?: boolean;
  /** Expected loss, which sizes the FEC. */
  packetLossPercent?: number;
}

/** Encodes PCM16 frames (2.5-60 ms) to Opus packets. */
export class OpusEncoder extends WasmState {
  constructor(opts: EncoderOptions = {}) {
    const channels = opts.channels ?? 1;
    super(opts.sampleRate ?? 48_000, channels, opus().opus_encoder_get_size(channels));
    check(
      this.m.opus_encoder_init(
        this.state,
        this.sampleRate,
        channels,
        APPLICATION[opts.application ?? 'voip'],
      ),
      'opus_encoder_init',
    );
    this.ctl(CTL.setSignal, SIGNAL_VOICE);
    this.ctl(CTL.setBitrate, opts.bitrate ?? 32_000);
    this.ctl(CTL.setComplexity, opts.complexity ?? 5);
    this.ctl(CTL.setInbandFec, opts.inbandFec === false ? 0 : 1);
    this.ctl(CTL.setPacketLossPerc, opts.packetLossPercent ?? 5);
    this.ctl(CTL.setDtx, 0);
  }

  /** Encoder lookahead in samples (delay the codec adds). */
  get lookahead(): number {
    this.live();
    return this.m.opus_encoder_ctl_get(this.state, CTL.getLookahead);
  }

  encode(pcm: Int16Array): Buffer {
    this.live();
    const samples = pcm.length / this.channels;
    new Int16Array(this.m.memory.buffer, this.pcmPtr, pcm.length).set(pcm);
    const n = check(
      this.m.opus_encode(this.state, this.pcmPtr, samples, this.packetPtr, MAX_PACKET_BYTES),
      'opus_encode',
    );
    return Buffer.from(new Uint8Array(this.m.memory.buffer, this.packetPtr, n));
  }

  /** Forgets history, e.g. at the start of a new talkspurt after silence. */
  reset(): void {
    this.live();
    this.m.opus_encoder_ctl_set(this.state, CTL.resetState, 0);
  }

  private ctl(request: number, value: number): void {
    check(this.m.opus_encoder_ctl_set(this.state, request, value), `opus_encoder_ctl(${request})`);
  }
}
