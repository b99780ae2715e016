/**
 * What OpusEncoder/OpusDecoder (opus-codec.ts) delegate to: one libopus
 * build, either the native addon (@parley/native/opus) or the WebAssembly
 * one (@evan/opus). Both are the same C library, so packets, PLC and FEC
 * are interchangeable; only the cost differs. Calls write into the caller's
 * buffer and return a length, so neither build allocates per packet; every
 * libopus failure surfaces as an OpusError with the libopus code.
 */

export type OpusBackendName = 'libopus' | 'wasm';

export class OpusError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

export type OpusApplication = 'voip' | 'audio' | 'restricted_lowdelay';

export interface EncoderSettings {
  sampleRate: number;
  channels: 1 | 2;
  application: OpusApplication;
  bitrate: number;
  complexity: number;
  inbandFec: boolean;
  packetLossPercent: number;
}

export interface EncoderImpl {
  /** Encoder lookahead in samples. */
  readonly lookahead: number;
  /** Encodes one frame into `out`; returns the packet's length. */
  encodeInto(pcm: Int16Array, out: Uint8Array): number;
  reset(): void;
  close(): void;
}

/** Each returns samples per channel written into `out` (interleaved). */
export interface DecoderImpl {
  decodeInto(packet: Uint8Array, out: Int16Array): number;
  decodeFecInto(next: Uint8Array, samples: number, out: Int16Array): number;
  concealInto(samples: number, out: Int16Array): number;
  close(): void;
}

export interface OpusBackend {
  readonly name: OpusBackendName;
  encoder(settings: EncoderSettings): EncoderImpl;
  decoder(sampleRate: number, channels: 1 | 2): DecoderImpl;
}

/** RFC 6716: at most 1275 bytes per frame, 3 frames per packet plus framing. */
export const MAX_PACKET_BYTES = 4000;
export const VALID_RATES = new Set([8_000, 12_000, 16_000, 24_000, 48_000]);
/** 120 ms, the longest Opus packet, in samples per channel. */
export const maxFrameSamples = (sampleRate: number) => (sampleRate / 1000) * 120;

export function checkRate(sampleRate: number): void {
  if (!VALID_RATES.has(sampleRate)) throw new RangeError(`Opus cannot run at ${sampleRate} Hz`);
}
