// What a head's 'mean' divides by, and the z-loss it then runs with: the loss ops' rules
// (PyTorch's weighted mean; Liger's z-loss under it), from the labels and class weights on the host.
import type { LossSpec } from '../kernels/attrs';
import { native } from '../native';

export interface MeanPlan {
  /** Σ class weights of the rows not ignored (their number without class weights). */
  divisor: number;
  /** The spec the kernels run: under a class-weighted mean, z-loss scaled by Σω / n (fused_loss.ts). */
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
  const { softcap: _cap, ...rowLoss } = loss;
  const d = native().meanDivisors({ rows, classes, labels, dense: false, loss: rowLoss, ...(classWeights ? { classWeights } : {}) });
  const z = loss.zLoss;
  const scaled = classWeights !== undefined && typeof z === 'number' && z !== 0 && d.rows > 0;
  return { divisor: d.classWeights, loss: scaled ? { ...loss, zLoss: (z * d.classWeights) / d.rows } : loss };
}
