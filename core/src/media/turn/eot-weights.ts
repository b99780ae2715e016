/**
 * Weights of the prosodic end-of-turn model (eot-cue.ts), written by
 * `node loadtest/dist/bench/turns/train-eot.js --write` (loadtest/src/bench/turns/train-eot.ts);
 * do not edit by hand. Fitted on espeak-ng speech only: see trainedOn.
 */
import type { EotWeights } from './eot-cue.js';

export const EOT_WEIGHTS: EotWeights = {
  mean: [1.1945, -1.3698, 1.674, -23.9459, 138.4131],
  std: [16.6108, 2.1279, 3.0386, 37.4901, 113.4195],
  weights: [-0.911, -1.1233, 0.2326, 0.0399, -0.0167],
  bias: -0.8215,
  threshold: 0.6,
  trainedOn:
    'seeds 101,102,103 voices en-us,en-gb,en-us+f3,en-029 (1589 pauses): final recall 0.638, false final 0.052; held out seeds 201 voices en-gb-scotland,en-gb-x-rp+f2,en-us+m4 (497 pauses): final recall 0.519, false final 0.032',
};
