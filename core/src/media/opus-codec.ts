import {
  checkRate,
  type DecoderImpl,
  type EncoderImpl,
  MAX_PACKET_BYTES,
  maxFrameSamples,
  type OpusApplication,
  type OpusBackend,
  type OpusBackendName,
} from './opus-backend.js';
import { nativeBackend, nativeOpusUnavailableReason } from './opus-native.js';
import { wasmBackend } from './opus-wasm.js';

/**
 * Opus for the media pipeline: the system libopus through the native addon
 * when it is built, else the WebAssembly build of the same library.
 *
 * Chosen by measurement (same process, 20 ms mono, complexity 5, FEC on;
 * native/bench/native-bench.ts): libopus encodes in 263 us at 16 kHz and
 * 242 us at 48 kHz against 401 and 364 us for WebAssembly, and decodes in 24
 * and 53 us against 33 and 71. PARLEY_OPUS=wasm keeps WebAssembly (e.g. to
 * compare, or on a host whose libopus misbehaves). Either way it is libopus:
 * packets, concealment and FEC are the same, and errors are OpusErrors with
 * the libopus code.
 */

export type { OpusBackendName } from './opus-backend.js';
export { OpusError } from './opus-backend.js';

/** The backend new encoders and decoders use unless told otherwise. */
export function opusBackendName(): OpusBackendName {
  return process.env.PARLEY_OPUS !== 'wasm' && nativeBackend() ? 'libopus' : 'wasm';
}

/** Backends that can run here (WebAssembly always). */
export function availableOpusBackends(): OpusBackendName[] {
  return nativeBackend() ? ['libopus', 'wasm'] : ['wasm'];
}

function backend(name: OpusBackendName): OpusBackend {
  if (name === 'wasm') return wasmBackend;
  const b = nativeBackend();
  if (!b) throw new Error(`libopus addon not available: ${nativeOpusUnavailableReason()}`);
  return b;
}

/** Decodes Opus packets to interleaved PCM16 at `sampleRate`. */
export class OpusDecoder {
  readonly backend: OpusBackendName;
  private readonly impl: DecoderImpl;
  private scratch?: Int16Array;

  constructor(
    readonly sampleRate = 48_000,
    readonly channels: 1 | 2 = 1,
    backendName: OpusBackendName = opusBackendName(),
  ) {
    checkRate(sampleRate);
    this.backend = backendName;
    this.impl = backend(backendName).decoder(sampleRate, channels);
  }

  /** Decodes one packet; throws OpusError on a malformed packet. */
  decode(packet: Uint8Array): Int16Array {
    return this.copy(this.impl.decodeInto(packet, this.buf()));
  }

  /**
   * Recovers a lost frame of `samples` per channel from the in-band FEC data
   * in the packet that followed it; libopus falls back to concealment when
   * that packet carries none.
   */
  decodeFec(next: Uint8Array, samples: number): Int16Array {
    return this.copy(this.impl.decodeFecInto(next, samples, this.buf()));
  }

  /** Packet-loss concealment for `samples` per channel (a multiple of 2.5 ms). */
  conceal(samples: number): Int16Array {
    return this.copy(this.impl.concealInto(samples, this.buf()));
  }

  /**
   * The same three into a caller's buffer (interleaved; room for the longest
   * packet, 120 ms, for `decodeInto`), returning samples per channel: for a
   * caller that copies the PCM on at once, this saves an allocation per packet.
   */
  decodeInto(packet: Uint8Array, out: Int16Array): number {
    return this.impl.decodeInto(packet, out);
  }

  decodeFecInto(next: Uint8Array, samples: number, out: Int16Array): number {
    return this.impl.decodeFecInto(next, samples, out);
  }

  concealInto(samples: number, out: Int16Array): number {
    return this.impl.concealInto(samples, out);
  }

  /** Frees the codec state; further calls throw OpusError. */
  close(): void {
    this.impl.close();
  }

  private buf(): Int16Array {
    this.scratch ??= new Int16Array(maxFrameSamples(this.sampleRate) * this.channels);
    return this.scratch;
  }

  private copy(samples: number): Int16Array {
    return (this.scratch as Int16Array).slice(0, samples * this.channels);
  }
}

export interface EncoderOptions {
  sampleRate?: number;
  channels?: 1 | 2;
  application?: OpusApplication;
  /** bits per second; 24-32 kbit/s is transparent for wideband speech. */
  bitrate?: number;
  /** 0-10: CPU against quality. */
  complexity?: number;
  /** Add in-band FEC (LBRR) so a receiver can rebuild a lost frame from the next one. */
  inbandFec?: boolean;
  /** Expected loss, which sizes the FEC. */
  packetLossPercent?: number;
  /** Which libopus build; default opusBackendName(). */
  backend?: OpusBackendName;
}

/** Encodes PCM16 frames (2.5-60 ms) to Opus packets. */
export class OpusEncoder {
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  readonly backend: OpusBackendName;
  private readonly impl: EncoderImpl;
  private readonly scratch = new Uint8Array(MAX_PACKET_BYTES);

  constructor(opts: EncoderOptions = {}) {
    this.sampleRate = opts.sampleRate ?? 48_000;
    this.channels = opts.channels ?? 1;
    checkRate(this.sampleRate);
    this.backend = opts.backend ?? opusBackendName();
    this.impl = backend(this.backend).encoder({
      sampleRate: this.sampleRate,
      channels: this.channels,
      application: opts.application ?? 'voip',
      bitrate: opts.bitrate ?? 32_000,
      complexity: opts.complexity ?? 5,
      inbandFec: opts.inbandFec !== false,
      packetLossPercent: opts.packetLossPercent ?? 5,
    });
  }

  /** Encoder lookahead in samples (delay the codec adds). */
  get lookahead(): number {
    return this.impl.lookahead;
  }

  encode(pcm: Int16Array): Buffer {
    const n = this.impl.encodeInto(pcm, this.scratch);
    // Small packets come from Buffer's shared pool: no backing store of their own.
    return Buffer.from(this.scratch.subarray(0, n));
  }

  /** Encodes into `out` (4000 bytes always suffice); returns the packet's length. */
  encodeInto(pcm: Int16Array, out: Uint8Array): number {
    return this.impl.encodeInto(pcm, out);
  }

  /** Forgets history, e.g. at the start of a new talkspurt after silence. */
  reset(): void {
    this.impl.reset();
  }

  close(): void {
    this.impl.close();
  }
}
