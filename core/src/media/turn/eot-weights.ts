/**
 * Weights of the prosodic end-of-turn model (eot-cue.ts), written by
 * `node loadtest/dist/bench/turns/train-eot.js --write` (loadtest/src/bench/turns/train-eot.ts);
 * do not edit by hand. Fitted on espeak-ng speech only: see trainedOn.
 */
import type { EotWeights } from './eot-cue.js';

export const EOT_WEIGHTS: EotWeights = {
  mean: [0.9616, -1.3872, 1.5866, -25.2282, 141.6456],
  std: [16.4438, 2.1049, 2.7037, 37.2412, 116.9954],
  weights: [-0.9452, -0.9331, 0.0426, -0.0175, -0.2714],
  bias: -0.8219,
  threshold: 0.6,
  trainedOn:
    'seeds 101,102,103 voices en-us,en-gb,en-us+f3,en-029 (1584 pauses): final recall 0.612, false final 0.063; held out seeds 201 voices en-gb-scotland,en-gb-x-rp+f2,en-us+m4 (495 pauses): final recall 0.516, false final 0.032',
};
