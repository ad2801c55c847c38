// The demos' digits classifier: 784 pixels → 128 ReLU units → 10 logits, seeded Glorot weights.
import * as tf from '@tensorflow/tfjs';

import { PIXELS } from './digits';

/** A fresh 784-128-10 model that outputs logits; `seeds` for its two kernels' initializers. */
export function digitsClassifier(seeds: [number, number] = [7, 8]): tf.LayersModel {
  const model = tf.sequential();
  model.add(
    tf.layers.dense({
      inputShape: [PIXELS],
      units: 128,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seeds[0] }),
    }),
  );
  model.add(tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seeds[1] }) })); // logits
  return model;
}
