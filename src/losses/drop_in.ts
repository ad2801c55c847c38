// Drop-in replacements for tf.losses.softmaxCrossEntropy: the same argument order, defaults
// and results, so replacing `tf.losses.` with `mixloss.losses.` is the whole migration.
import { Reduction as TfReduction, Tensor } from '@tensorflow/tfjs-core';

import { Labels } from './fused';
import { crossEntropy } from './mixed';

/**
 * tf.losses.softmaxCrossEntropy(onehotLabels, logits, weights?, labelSmoothing = 0,
 * reduction = SUM_BY_NONZERO_WEIGHTS), fused.
 */
export function softmaxCrossEntropy(onehotLabels: Tensor, logits: Tensor, weights?: Tensor | number,
  labelSmoothing = 0, reduction: TfReduction = TfReduction.SUM_BY_NONZERO_WEIGHTS): Tensor {
  return crossEntropy(logits, onehotLabels, { ...(weights !== undefined && weights !== null ? { weights } : {}), labelSmoothing, reduction });
}

/** The same with class ids [batch] (int32) instead of one-hot labels: no one-hot is ever made. */
export function sparseSoftmaxCrossEntropy(labels: Labels, logits: Tensor, weights?: Tensor | number,
  labelSmoothing = 0, reduction: TfReduction = TfReduction.SUM_BY_NONZERO_WEIGHTS): Tensor {
  return crossEntropy(logits, labels, { ...(weights !== undefined && weights !== null ? { weights } : {}), labelSmoothing, reduction });
}
