/**
 * Weights of the prosodic end-of-turn model (eot-cue.ts), written by
 * `node loadtest/dist/bench/turns/train-eot.js --write` (loadtest/src/bench/turns/train-eot.ts);
 * do not edit by hand. Fitted on espeak-ng speech only: see trainedOn.
 */
import type { EotWeights } from './eot-cue.js';

export const EOT_WEIGHTS: EotWeights = {
  mean: [1.0539, -1.3701, 1.6414, -24.44, 138.3396],
  std: [16.6188, 2.1179, 2.9223, 37.2072, 113.8122],
  weights: [-0.8887, -1.1561, 0.2519, 0.0438, -0.012],
  bias: -0.8409,
  threshold: 0.6,
  trainedOn:
    'seeds 101,102,103 voices en-us,en-gb,en-us+f3,en-029 (1590 pauses): final recall 0.641, false final 0.052; held out seeds 201 voices en-gb-scotland,en-gb-x-rp+f2,en-us+m4 (497 pauses): final recall 0.519, false final 0.028',
};
