// Sample weights of any broadcastable shape, applied to per-row losses as tfjs applies them
// (tf.losses.computeWeightedLoss), with ignored rows counting as weight 0: SUM_BY_NONZERO_WEIGHTS
// and MEAN leave them out. Shared by the loss ops and the fused head.
import { cast, losses, mul, notEqual, Reduction as TfReduction, reshape, Tensor } from '@tensorflow/tfjs-core';

import type { Reducing } from './checks';

/** A reduction as tf.losses takes it. */
export function tfReduction(r: Reducing): TfReduction {
  return { none: TfReduction.NONE, sum: TfReduction.SUM, mean: TfReduction.MEAN, nonzero: TfReduction.SUM_BY_NONZERO_WEIGHTS }[r];
}

/**
 * rowLoss [...lead] weighted by sampleWeights (any shape tf.losses.computeWeightedLoss takes with
 * it); rows whose label equals `ignored` weigh 0.
 */
export function weightedRows(
  rowLoss: Tensor,
  sampleWeights: Tensor,
  labels: Tensor,
  lead: number[],
  ignored: number | undefined,
  reduction: Reducing,
): Tensor {
  let w = sampleWeights;
  if (ignored !== undefined) w = mul(w, cast(notEqual(reshape(labels, lead), ignored), 'float32'));
  return losses.computeWeightedLoss(rowLoss, w, tfReduction(reduction));
}
