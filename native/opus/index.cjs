'use strict';
// Loader for the libopus addon (build/Release/parley_opus.node, built by `npm run build:native`).
// Same surface as core/src/media/opus-codec.ts (the @evan/opus WebAssembly build) plus
// *Into variants that write into caller buffers. loadNativeOpus() returns undefined when
// the addon is not built or cannot load; PARLEY_NATIVE=0 disables it.
const { makeBindingLoader } = require('../load-binding.cjs');

const binding = makeBindingLoader(__dirname, 'parley_opus.node', { label: 'libopus addon' });

const APPLICATION = { voip: 2048, audio: 2049, restricted_lowdelay: 2051 };
const VALID_RATES = new Set([8000, 12000, 16000, 24000, 48000]);
// RFC 6716: at most 1275 bytes per frame, 3 frames per packet plus framing.
const MAX_PACKET_BYTES = 4000;
const OPUS_GET_LOOKAHEAD = 4027;
const OPUS_RESET_STATE = 4028;
const OPUS_ERRORS = {
  '-1': 'invalid argument',
  '-2': 'buffer too small',
  '-3': 'internal error',
  '-4': 'corrupted stream',
  '-5': 'request not implemented',
  '-6': 'invalid state',
  '-7': 'memory allocation failed',
};

class NativeOpusError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

function check(n, what) {
  if (n >= 0) return n;
  throw new NativeOpusError(`${what}: ${OPUS_ERRORS[n] ?? `error ${n}`}`, n);
}

class NativeOpusEncoder {
  #b;
  #h;
  #scratch = new Uint8Array(MAX_PACKET_BYTES);

  constructor(opts = {}) {
    this.#b = binding.need();
    this.sampleRate = opts.sampleRate ?? 48000;
    this.channels = opts.channels ?? 1;
    if (!VALID_RATES.has(this.sampleRate)) throw new RangeError(`Opus cannot run at ${this.sampleRate} Hz`);
    this.#h = this.#b.encoderCreate(
      this.sampleRate,
      this.channels,
      APPLICATION[opts.application ?? 'voip'],
      opts.bitrate ?? 32000,
      opts.complexity ?? 5,
      opts.inbandFec === false ? 0 : 1,
      opts.packetLossPercent ?? 5,
      0,
    );
  }

  get lookahead() {
    return this.#b.encoderGet(this.#h, OPUS_GET_LOOKAHEAD);
  }

  /** Encodes one frame into `out`; returns the packet length. */
  encodeInto(pcm, out) {
    return check(this.#b.encode(this.#h, pcm, out), 'opus_encode');
  }

  /** Encodes one frame (2.5-60 ms) to a new Buffer. */
  encode(pcm) {
    const n = check(this.#b.encode(this.#h, pcm, this.#scratch), 'opus_encode');
    return Buffer.from(this.#scratch.subarray(0, n));
  }

  reset() {
    this.#b.encoderSet(this.#h, OPUS_RESET_STATE, 0);
  }

  close() {
    this.#b.close(this.#h);
  }
}

class NativeOpusDecoder {
  #b;
  #h;
  #scratch;

  constructor(sampleRate = 48000, channels = 1) {
    this.#b = binding.need();
    if (!VALID_RATES.has(sampleRate)) throw new RangeError(`Opus cannot run at ${sampleRate} Hz`);
    this.sampleRate = sampleRate;
    this.channels = channels;
    this.#h = this.#b.decoderCreate(sampleRate, channels);
    this.#scratch = new Int16Array((sampleRate / 1000) * 120 * channels);
  }

  /** Decodes into `out` (interleaved); returns samples per channel. Throws on a malformed packet. */
  decodeInto(packet, out) {
    if (packet.length === 0 || packet.length > MAX_PACKET_BYTES)
      throw new NativeOpusError('bad packet length', -4);
    return check(this.#b.decode(this.#h, packet, out, out.length / this.channels, 0), 'opus_decode');
  }

  /** FEC recovery of the `samples`-long frame before `next` into `out`. */
  decodeFecInto(next, samples, out) {
    return check(this.#b.decode(this.#h, next, out, samples, 1), 'opus_decode');
  }

  /** Packet-loss concealment of `samples` per channel into `out`. */
  concealInto(samples, out) {
    return check(this.#b.decode(this.#h, null, out, samples, 0), 'opus_decode');
  }

  decode(packet) {
    const n = this.decodeInto(packet, this.#scratch);
    return this.#scratch.slice(0, n * this.channels);
  }

  decodeFec(next, samples) {
    const n = this.decodeFecInto(next, samples, this.#scratch);
    return this.#scratch.slice(0, n * this.channels);
  }

  conceal(samples) {
    const n = this.concealInto(samples, this.#scratch);
    return this.#scratch.slice(0, n * this.channels);
  }

  close() {
    this.#b.close(this.#h);
  }
}

/** The addon's API, or undefined when it is not built / cannot load. */
function loadNativeOpus() {
  const b = binding.load();
  if (!b) return undefined;
  return { NativeOpusEncoder, NativeOpusDecoder, NativeOpusError, version: b.version() };
}

function nativeOpusLoadError() {
  return binding.loadError();
}

exports.loadNativeOpus = loadNativeOpus;
exports.nativeOpusLoadError = nativeOpusLoadError;
exports.NativeOpusEncoder = NativeOpusEncoder;
exports.NativeOpusDecoder = NativeOpusDecoder;
exports.NativeOpusError = NativeOpusError;
