// What a head's 'mean' divides by, and the z-loss it then runs with: the loss ops' rules
// (PyTorch's weighted mean; Liger's z-loss under it), from the labels and class weights on the host.
import type { LossSpec } from '../kernels/attrs';
import { zLossUnderWeightedMean } from '../kernels/z_loss';
import { native } from '../native';

export interface MeanPlan {
  /** Σ class weights of the rows not ignored (their number without class weights). */
  divisor: number;
  /** The spec the kernels run: under a class-weighted mean, Liger's z-loss. */
  loss: LossSpec;
}

export function meanPlan(
  loss: LossSpec,
  labels: Int32Array | Float32Array,
  rows: number,
  classes: number,
  classWeights?: Float32Array,
): MeanPlan {
  if (classWeights === undefined && loss.ignoreIndex === undefined) return { divisor: rows, loss };
  const d = native().meanDivisors({ rows, classes, labels, dense: false, loss, ...(classWeights ? { classWeights } : {}) });
  return { divisor: d.classWeights, loss: classWeights !== undefined ? zLossUnderWeightedMean(loss, d) : loss };
}
