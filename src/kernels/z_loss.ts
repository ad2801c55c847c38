// z-loss under a class-weighted 'mean', as Liger-Kernel computes it: the z term is not scaled by
// the row's class weight and is divided by the rows counted, while the rest of the loss is divided
// by their class weights. The kernels divide every row by Σω, so they run with z·Σω/n. Shared by
// the loss ops and the fused head.
import type { MeanDivisors } from '../native';
import type { LossSpec } from './attrs';

export function zLossUnderWeightedMean(loss: LossSpec, d: Pick<MeanDivisors, 'classWeights' | 'rows'>): LossSpec {
  const z = loss.zLoss;
  return typeof z !== 'number' || z === 0 || d.rows === 0 ? loss : { ...loss, zLoss: (z * d.classWeights) / d.rows };
}
