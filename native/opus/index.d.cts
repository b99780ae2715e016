export interface NativeEncoderOptions {
  /** 8000, 12000, 16000, 24000 or 48000 (default 48000) */
  sampleRate?: number;
  channels?: 1 | 2;
  application?: 'voip' | 'audio' | 'restricted_lowdelay';
  /** bits per second (default 32000) */
  bitrate?: number;
  /** 0-10 (default 5) */
  complexity?: number;
  /** in-band FEC (LBRR), default on */
  inbandFec?: boolean;
  /** expected loss, sizes the FEC (default 5) */
  packetLossPercent?: number;
}

export declare class NativeOpusError extends Error {
  readonly code: number;
}

/** libopus encoder; same settings and surface as core/src/media/opus-codec.ts OpusEncoder. */
export declare class NativeOpusEncoder {
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  constructor(opts?: NativeEncoderOptions);
  readonly lookahead: number;
  encode(pcm: Int16Array): Buffer;
  /** Writes the packet into `out`; returns its length. */
  encodeInto(pcm: Int16Array, out: Uint8Array): number;
  reset(): void;
  close(): void;
}

/** libopus decoder; same surface as core/src/media/opus-codec.ts OpusDecoder. */
export declare class NativeOpusDecoder {
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  constructor(sampleRate?: number, channels?: 1 | 2);
  decode(packet: Uint8Array): Int16Array;
  decodeFec(next: Uint8Array, samples: number): Int16Array;
  conceal(samples: number): Int16Array;
  /** Write into `out` (interleaved PCM16), return samples per channel. */
  decodeInto(packet: Uint8Array, out: Int16Array): number;
  decodeFecInto(next: Uint8Array, samples: number, out: Int16Array): number;
  concealInto(samples: number, out: Int16Array): number;
  close(): void;
}

export interface NativeOpusModule {
  NativeOpusEncoder: typeof NativeOpusEncoder;
  NativeOpusDecoder: typeof NativeOpusDecoder;
  NativeOpusError: typeof NativeOpusError;
  /** e.g. "libopus 1.3.1" */
  version: string;
}

/** undefined when the addon is not built, cannot be loaded, or PARLEY_NATIVE=0. */
export declare function loadNativeOpus(): NativeOpusModule | undefined;
export declare function nativeOpusLoadError(): Error | undefined;
