/**
 * The one place RNNoise is used: xiph's RNNoise compiled to WebAssembly by
 * @echogarden/rnnoise-wasm (BSD-3-Clause, RNNoise's own licence), the build
 * that runs in Node (others on the registry are browser-only) and the faster
 * of the two that do here: 0.27 ms of CPU per 10 ms frame against 0.75 ms for
 * @jitsi/rnnoise-wasm's synchronous build (measured 2026-12).
 *
 * RNNoise works on 10 ms frames at 48 kHz in the int16 range; a suppressor
 * resamples the session's frames up and back down (primed, so 20 ms in gives
 * 20 ms out at once: two RNNoise frames per pipeline frame, no buffering
 * beyond the resamplers' ~1 ms).
 *
 * The WebAssembly module compiles asynchronously, once per process;
 * suppressors (one per session) are then made synchronously.
 */
import { Resampler } from '../resampler.js';

export class NoiseSuppressionUnavailable extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'NoiseSuppressionUnavailable';
  }
}

interface RnnoiseWasm {
  HEAPF32: Float32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _rnnoise_create(model: number): number;
  _rnnoise_destroy(st: number): void;
  _rnnoise_process_frame(st: number, out: number, input: number): number;
}

const RN_RATE = 48_000;
const RN_FRAME = 480;

let loading: Promise<RnnoiseModule> | undefined;
let loaded: RnnoiseModule | undefined;

export class RnnoiseModule {
  private constructor(private readonly wasm: RnnoiseWasm) {}

  /** Loads (once per process) and resolves the module; rejects with NoiseSuppressionUnavailable. */
  static load(): Promise<RnnoiseModule> {
    loading ??= (async () => {
      try {
        // A variable specifier: the package ships no types, and this file declares the part it uses.
        const specifier = '@echogarden/rnnoise-wasm';
        const factory = (await import(specifier)).default as () => Promise<RnnoiseWasm>;
        loaded = new RnnoiseModule(await factory());
        return loaded;
      } catch (err) {
        throw new NoiseSuppressionUnavailable(`RNNoise failed to load: ${(err as Error).message}`, err);
      }
    })();
    return loading;
  }

  /** The module if it has finished loading (sessions start synchronously). */
  static get ready(): RnnoiseModule | undefined {
    return loaded;
  }

  suppressor(rate: number): NoiseSuppressor {
    return new NoiseSuppressor(this.wasm, rate);
  }
}

/** One stream's RNNoise state: 20 ms frames in, the same length of denoised audio out. */
export class NoiseSuppressor {
  /** RNNoise's own voice probability for the last 10 ms frame. */
  voiceProbability = 0;
  private readonly st: number;
  private readonly ptr: number;
  private readonly up: Resampler | undefined;
  private readonly down: Resampler | undefined;
  private readonly pending = new Float32Array(RN_FRAME);
  private pendingFill = 0;
  private readonly out48: Int16Array;
  private closed = false;

  constructor(
    private readonly wasm: RnnoiseWasm,
    readonly rate: number,
  ) {
    this.st = wasm._rnnoise_create(0);
    this.ptr = wasm._malloc(RN_FRAME * 4);
    if (rate !== RN_RATE) {
      this.up = new Resampler(rate, RN_RATE, { prime: true });
      this.down = new Resampler(RN_RATE, rate, { prime: true });
    }
    this.out48 = new Int16Array(RN_RATE / 10);
  }

  /** Denoises one frame (any length; 20 ms in the pipeline); returns new audio of the same length. */
  process(pcm: Int16Array): Int16Array {
    if (this.closed) return pcm;
    const x = this.up ? this.up.process(pcm) : pcm;
    const out = x.length <= this.out48.length ? this.out48.subarray(0, x.length) : new Int16Array(x.length);
    let o = 0;
    for (let i = 0; i < x.length; i++) {
      this.pending[this.pendingFill++] = x[i] as number;
      if (this.pendingFill === RN_FRAME) {
        this.pendingFill = 0;
        // HEAPF32 is re-read each time: the module's memory may have grown and been replaced.
        const heap = this.wasm.HEAPF32;
        const at = this.ptr >> 2;
        heap.set(this.pending, at);
        this.voiceProbability = this.wasm._rnnoise_process_frame(this.st, this.ptr, this.ptr);
        for (let k = 0; k < RN_FRAME; k++)
          out[o++] = Math.max(-32768, Math.min(32767, Math.round(heap[at + k] as number)));
      }
    }
    // Pipeline frames are whole multiples of 10 ms, so nothing is left over; other lengths wait a call.
    const done = out.subarray(0, o);
    return this.down ? this.down.process(done) : done.slice();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wasm._rnnoise_destroy(this.st);
    this.wasm._free(this.ptr);
  }
}
