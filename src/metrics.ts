// tfjs-layers metrics for models that output logits, with labels as model.fit passes them
// (one-hot or soft targets [B, C]) or as fitDataset usually yields them (class ids [B] or
// [B, 1]). tfjs-layers' own 'accuracy' picks binary, categorical or sparse accuracy from the
// shapes, and on logits with class ids it picks the binary one: it reports ~10% for a model at
// 85%. These decide by the labels' shape against the logits' class count, as the losses do.
import { argMax, cast, equal, reshape, Tensor, tidy } from '@tensorflow/tfjs-core';

import { crossEntropy as crossEntropyOp } from './losses';
import { fail, labelsAreDense, layersTensors } from './validate';

function classIds(name: string, yTrue: Tensor, yPred: Tensor): Tensor {
  layersTensors(`metrics.${name}`, yTrue, yPred);
  for (const [what, t] of [
    ['labels', yTrue],
    ['logits', yPred],
  ] as const) {
    if (t.dtype !== 'float32' && t.dtype !== 'int32') fail(`metrics.${name}`, `${what} must be float32 or int32, got ${t.dtype}`);
  }
  const classes = yPred.shape[yPred.rank - 1];
  const lead = yPred.shape.slice(0, -1);
  if (labelsAreDense(yTrue.shape, yTrue.dtype, classes, yPred.rank - 1)) return argMax(yTrue, -1);
  const rows = lead.reduce((a, b) => a * b, 1);
  if (yTrue.size !== rows) {
    fail(
      `metrics.${name}`,
      `labels of shape [${yTrue.shape}] do not match logits of shape [${yPred.shape}]: ` +
        `use one-hot targets [${[...lead, classes]}] or class ids [${lead}]`,
    );
  }
  return cast(reshape(yTrue, lead), 'int32');
}

/**
 * Accuracy of logits (or any scores whose argmax is the prediction) against one-hot targets or
 * class ids: per-example 1 or 0, which tfjs-layers averages. Ties go to the first class, as
 * argMax does. Named 'accuracy', so history keys are `accuracy` / `val_accuracy`.
 */
function accuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  return tidy(() => {
    const ids = classIds('accuracy', yTrue, yPred);
    return cast(equal(argMax(yPred, -1), ids), 'float32');
  });
}

/**
 * Plain softmax cross entropy of logits, per example: the metric to monitor (early stopping,
 * checkpoints) when the loss itself changes during training, as it does under a focus
 * schedule. Named 'crossEntropy' (history keys `crossEntropy` / `val_crossEntropy`).
 */
function crossEntropy(yTrue: Tensor, yPred: Tensor): Tensor {
  layersTensors('metrics.crossEntropy', yTrue, yPred);
  return crossEntropyOp(yPred, yTrue, { reduction: 'none' });
}

/** Metrics for `model.compile({metrics: [metrics.accuracy, metrics.crossEntropy]})`. */
export const metrics = { accuracy, crossEntropy };
