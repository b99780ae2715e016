import { EnergyClassifier, type FrameClassifier } from '../vad.js';
import { SileroClassifier } from './silero-classifier.js';
import { SileroUnavailable, sharedSilero } from './silero-onnx.js';
import type { DetectorName } from './turn-config.js';

export interface MadeClassifier {
  classifier: FrameClassifier;
  /** What runs (energy when Silero was asked for and cannot load). */
  detector: DetectorName;
  /** Why Silero is not running, when it was asked for. */
  fallback?: string;
}

/** The asked-for detector for frames at `rate`; the energy detector where the ONNX runtime is unavailable. */
export function makeClassifier(detector: DetectorName, rate: number): MadeClassifier {
  if (detector === 'silero') {
    const model = sharedSilero();
    if (!(model instanceof SileroUnavailable))
      return { classifier: new SileroClassifier(model.stream(), { rate }), detector: 'silero' };
    return { classifier: new EnergyClassifier(), detector: 'energy', fallback: model.message };
  }
  return { classifier: new EnergyClassifier(), detector: 'energy' };
}

/**
 * Loads the Silero model now (0.1-0.6 s of CPU, synchronous) so the first
 * session's setup does not pay for it; returns why it cannot load, if so.
 */
export function preloadTurnDetection(): string | undefined {
  const model = sharedSilero();
  return model instanceof SileroUnavailable ? model.message : undefined;
}
