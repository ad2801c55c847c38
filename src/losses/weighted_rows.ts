// Sample weights applied to per-row losses with tf.losses.computeWeightedLoss's reductions, and
// with ignored rows counting as weight 0: SUM_BY_NONZERO_WEIGHTS and MEAN leave them out. Shared by
// the loss ops' stock paths and the fused head. One rule with the kernels' per-row weights: a mean
// over weights that sum to 0 (or no non-zero weight) is NaN, with a zero gradient for the losses.
import {
  add,
  broadcastTo,
  cast,
  div,
  equal,
  losses,
  mul,
  notEqual,
  Reduction as TfReduction,
  reshape,
  scalar,
  sum,
  Tensor,
  where,
} from '@tensorflow/tfjs-core';

import type { Reducing } from './checks';
import { constantOf } from './constant_of';

/** A reduction as tf.losses takes it. */
export function tfReduction(r: Reducing): TfReduction {
  return { none: TfReduction.NONE, sum: TfReduction.SUM, mean: TfReduction.MEAN, nonzero: TfReduction.SUM_BY_NONZERO_WEIGHTS }[r];
}

export function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Whether `shape` broadcasts to `to` (numpy's rule) without growing it. */
export function broadcastsTo(shape: number[], to: number[]): boolean {
  if (shape.length > to.length) return false;
  return shape.every((d, i) => d === 1 || d === to[to.length - shape.length + i]);
}

/**
 * rowLoss [...lead] weighted by `weights` and reduced as tf.losses.computeWeightedLoss does. Weights
 * that broadcast to the rows' shape are per-row weights: a mean divides by their sum ('mean') or by
 * the count of non-zero ones ('nonzero'), and when that is 0 the value is NaN (0/0) and the rows'
 * losses get a zero gradient (not 0/0). Weights of a shape that grows the rows' take tf.losses' own.
 */
export function reduceWeighted(rowLoss: Tensor, weights: Tensor, lead: number[], reduction: Reducing): Tensor {
  if (!broadcastsTo(weights.shape, lead)) return losses.computeWeightedLoss(rowLoss, weights, tfReduction(reduction));
  const w = sameShape(weights.shape, lead) ? weights : broadcastTo(weights, lead);
  const weighted = mul(rowLoss, w);
  if (reduction === 'none') return weighted;
  if (reduction === 'sum') return sum(weighted);
  // The count of non-zero weights is a constant in the weights (tf.losses' SUM_BY_NONZERO_WEIGHTS).
  return meanOf(sum(weighted), reduction === 'mean' ? sum(w) : sum(constantOf(w, (v) => notEqual(v, 0))));
}

/**
 * total / divisor, the kernels' rule for a mean over nothing: a divisor of 0 gives NaN (0/0, as
 * PyTorch's mean over no rows) and a zero gradient for the total (not the 0/0 of a plain div).
 */
export function meanOf(total: Tensor, divisor: Tensor): Tensor {
  const empty = cast(
    constantOf(divisor, (d) => equal(d, 0)),
    'bool',
  );
  const safe = where(empty, scalar(1), divisor);
  return add(div(total, safe), where(empty, scalar(NaN), scalar(0)));
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
  return reduceWeighted(rowLoss, w, lead, reduction);
}
