// Drop-in replacements for tf.losses.softmaxCrossEntropy: the same argument order, defaults
// and results, so replacing `tf.losses.` with `mixloss.losses.` is the whole migration. Like
// tfjs they take tensor-likes (nested arrays, TypedArrays) as well as tensors. Label smoothing
// spreads ε over the last axis's C classes; tf.losses takes shape[1], which differs for logits of
// rank other than 2 (the README lists where the two differ).
import { Reduction as TfReduction, Tensor, tensor } from '@tensorflow/tfjs-core';
import type { TensorLike } from '@tensorflow/tfjs-core';

import { fail } from '../validate';
import type { Labels } from './types';
import { crossEntropy } from './mixed';

function asTensor(op: string, name: string, x: unknown, dtype: 'float32' | 'int32'): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number' || Array.isArray(x) || ArrayBuffer.isView(x)) return tensor(x as TensorLike, undefined, dtype);
  return fail(op, `${name} must be a tf.Tensor or a tensor-like (number, array, TypedArray), got ${x === null ? 'null' : typeof x}`);
}

function dropIn(
  op: string,
  labels: unknown,
  logits: unknown,
  weights: unknown,
  labelSmoothing: number,
  reduction: TfReduction,
  labelsDtype: 'float32' | 'int32',
): Tensor {
  const made: Tensor[] = [];
  const own = (name: string, x: unknown, dtype: 'float32' | 'int32') => {
    const t = asTensor(op, name, x, dtype);
    if (t !== x) made.push(t);
    return t;
  };
  try {
    // Class ids as number[] or Int32Array go to the op as they are: it checks each is an integer
    // (tf.tensor would truncate 1.5 and wrap 2^32).
    const idsAsGiven = labelsDtype === 'int32' && ((Array.isArray(labels) && !Array.isArray(labels[0])) || labels instanceof Int32Array);
    const l = idsAsGiven
      ? labels
      : own('labels', labels, labelsDtype === 'int32' && labels instanceof Float32Array ? 'float32' : labelsDtype);
    const q = own('logits', logits, 'float32');
    const w = weights === undefined || weights === null ? undefined : own('weights', weights, 'float32');
    return crossEntropy(q, l as Labels, { ...(w !== undefined ? { weights: w } : {}), labelSmoothing, reduction });
  } finally {
    for (const t of made) t.dispose();
  }
}

/**
 * tf.losses.softmaxCrossEntropy(onehotLabels, logits, weights?, labelSmoothing = 0,
 * reduction = SUM_BY_NONZERO_WEIGHTS), fused.
 */
export function softmaxCrossEntropy(
  onehotLabels: Tensor | TensorLike,
  logits: Tensor | TensorLike,
  weights?: Tensor | TensorLike,
  labelSmoothing = 0,
  reduction: TfReduction = TfReduction.SUM_BY_NONZERO_WEIGHTS,
): Tensor {
  return dropIn('losses.softmaxCrossEntropy', onehotLabels, logits, weights, labelSmoothing, reduction, 'float32');
}

/** The same with class ids [batch] (int32) instead of one-hot labels: no one-hot is ever made. */
export function sparseSoftmaxCrossEntropy(
  labels: Labels | TensorLike,
  logits: Tensor | TensorLike,
  weights?: Tensor | TensorLike,
  labelSmoothing = 0,
  reduction: TfReduction = TfReduction.SUM_BY_NONZERO_WEIGHTS,
): Tensor {
  return dropIn('losses.sparseSoftmaxCrossEntropy', labels, logits, weights, labelSmoothing, reduction, 'int32');
}
