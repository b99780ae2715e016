import { loadNativeOpus, type NativeOpusModule, nativeOpusLoadError } from '@parley/native/opus';
import type { DecoderImpl, EncoderImpl, EncoderSettings, OpusBackend } from './opus-backend.js';
import { OpusError } from './opus-backend.js';

/**
 * The system libopus through the @parley/native addon: the same library as
 * the WebAssembly build, about 1.35x cheaper per encode and decode (see
 * opus-codec.ts). The addon's own classes already take every setting we
 * use; this only maps its errors onto OpusError, so callers (the pipeline
 * drops a malformed packet on `instanceof OpusError`) see one error type.
 */

let lib: NativeOpusModule | undefined | null = null;

export function nativeOpus(): NativeOpusModule | undefined {
  if (lib === null) lib = loadNativeOpus();
  return lib;
}

/** Why the addon did not load, for a log line. */
export function nativeOpusUnavailableReason(): string | undefined {
  return nativeOpus() ? undefined : (nativeOpusLoadError()?.message ?? 'not built');
}

/**
 * The addon reports libopus failures as NativeOpusError, or (from inside the
 * C code: closed handle, failed create) as an Error with a numeric `code`;
 * both become OpusError. TypeErrors (wrong argument types) are our bugs and
 * pass through.
 */
function rethrow(err: unknown): never {
  if (err instanceof Error && !(err instanceof TypeError)) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number') throw new OpusError(err.message, code);
  }
  throw err;
}

class NativeEncoder implements EncoderImpl {
  private readonly enc: InstanceType<NativeOpusModule['NativeOpusEncoder']>;

  constructor(m: NativeOpusModule, s: EncoderSettings) {
    try {
      this.enc = new m.NativeOpusEncoder(s);
    } catch (err) {
      rethrow(err);
    }
  }

  get lookahead(): number {
    try {
      return this.enc.lookahead;
    } catch (err) {
      return rethrow(err);
    }
  }

  encodeInto(pcm: Int16Array, out: Uint8Array): number {
    try {
      return this.enc.encodeInto(pcm, out);
    } catch (err) {
      rethrow(err);
    }
  }

  reset(): void {
    try {
      this.enc.reset();
    } catch (err) {
      rethrow(err);
    }
  }

  close(): void {
    this.enc.close();
  }
}

class NativeDecoder implements DecoderImpl {
  private readonly dec: InstanceType<NativeOpusModule['NativeOpusDecoder']>;

  constructor(m: NativeOpusModule, sampleRate: number, channels: 1 | 2) {
    try {
      this.dec = new m.NativeOpusDecoder(sampleRate, channels);
    } catch (err) {
      rethrow(err);
    }
  }

  decodeInto(packet: Uint8Array, out: Int16Array): number {
    try {
      return this.dec.decodeInto(packet, out);
    } catch (err) {
      rethrow(err);
    }
  }

  decodeFecInto(next: Uint8Array, samples: number, out: Int16Array): number {
    try {
      return this.dec.decodeFecInto(next, samples, out);
    } catch (err) {
      rethrow(err);
    }
  }

  concealInto(samples: number, out: Int16Array): number {
    try {
      return this.dec.concealInto(samples, out);
    } catch (err) {
      rethrow(err);
    }
  }

  close(): void {
    this.dec.close();
  }
}

/** The native backend, or undefined when the addon is not built, fails to load, or PARLEY_NATIVE=0. */
export function nativeBackend(): OpusBackend | undefined {
  const m = nativeOpus();
  if (!m) return undefined;
  backend ??= {
    name: 'libopus',
    encoder: (s) => new NativeEncoder(m, s),
    decoder: (rate, channels) => new NativeDecoder(m, rate, channels),
  };
  return backend;
}
let backend: OpusBackend | undefined;
