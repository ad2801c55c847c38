// Drop-in replacements for tf.losses.softmaxCrossEntropy: the same argument order, defaults
// and results, so replacing `tf.losses.` with `mixloss.losses.` is the whole migration. Like
// tfjs they take tensor-likes (nested arrays, TypedArrays) as well as tensors. Label smoothing
// spreads ε over the last axis's C classes; tf.losses takes shape[1], which differs for logits of
// rank other than 2 (the README lists where the two differ).
import { Reduction as TfReduction, Tensor, zeros } from '@tensorflow/tfjs-core';
import type { TensorLike } from '@tensorflow/tfjs-core';

import { fail, named } from '../validate';
import { inputShape } from './inputs';
import { sameShape } from './weighted_rows';
import type { Labels, Logits } from './types';
import { crossEntropy } from './mixed';

const isTensorLike = (x: unknown) => typeof x === 'number' || Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));

function checkTensorOrLike(op: string, name: string, x: unknown): void {
  if (!(x instanceof Tensor) && !isTensorLike(x)) {
    fail(op, `${name} must be a tf.Tensor or a tensor-like (number, array, TypedArray), got ${x === null ? 'null' : typeof x}`);
  }
}

/**
 * One-hot labels over one class ([..., 1] beside logits [..., 1]): tf.losses reads them as targets,
 * and every row's loss is 0 (−t·log 1) with a zero gradient; the op reads a [..., 1] column as class
 * ids, so the drop-in passes the rows' class id 0 instead.
 */
function oneClassTargets(labels: unknown, logits: unknown): number[] | undefined {
  const q = inputShape(logits);
  return q.length >= 1 && q[q.length - 1] === 1 && sameShape(q, inputShape(labels)) ? q.slice(0, -1) : undefined;
}

function dropIn(
  op: string,
  labels: unknown,
  logits: unknown,
  weights: unknown,
  labelSmoothing: number,
  reduction: TfReduction,
  dense: boolean,
): Tensor {
  checkTensorOrLike(op, 'labels', labels);
  checkTensorOrLike(op, 'logits', logits);
  if (weights !== undefined && weights !== null) checkTensorOrLike(op, 'weights', weights);
  // Tensor-likes go to the op as they are: it checks every entry (tf.tensor would truncate class
  // ids of 1.5, read "1" or null as numbers, and never return from an array that holds itself).
  const rows = dense ? oneClassTargets(labels, logits) : undefined;
  const ids = rows === undefined ? undefined : zeros(rows, 'int32');
  try {
    return crossEntropy(logits as Logits, (ids ?? labels) as Labels, {
      ...(weights !== undefined && weights !== null ? { weights: weights as Tensor } : {}),
      labelSmoothing,
      reduction,
    });
  } catch (e) {
    // The call the user made is this one.
    throw named(e, op, 'mixloss.crossEntropy: ');
  } finally {
    ids?.dispose();
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
  return dropIn('losses.softmaxCrossEntropy', onehotLabels, logits, weights, labelSmoothing, reduction, true);
}

/** The same with class ids [batch] (int32) instead of one-hot labels: no one-hot is ever made. */
export function sparseSoftmaxCrossEntropy(
  labels: Labels | TensorLike,
  logits: Tensor | TensorLike,
  weights?: Tensor | TensorLike,
  labelSmoothing = 0,
  reduction: TfReduction = TfReduction.SUM_BY_NONZERO_WEIGHTS,
): Tensor {
  return dropIn('losses.sparseSoftmaxCrossEntropy', labels, logits, weights, labelSmoothing, reduction, false);
}
