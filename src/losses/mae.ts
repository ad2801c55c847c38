// MAE (kind 'mae'): ‖onehot − p‖₁ = 2(1 − p_y), the paper's Eq. 3.
import type { Tensor } from '@tensorflow/tfjs-core';

import { fusedLoss, Labels, LossOptions, LossValue } from './fused';

/** Mean absolute error between the one-hot label and the softmax, 2(1 − p_y); targets t: Σ_j t_j·2(1 − p_j). */
export function maeLoss<O extends LossOptions = {}>(logits: Tensor, labels: Labels, options: O = {} as O): LossValue<O> {
  return fusedLoss('maeLoss', logits, labels, options, { kind: 'mae', params: {}, own: [] }) as LossValue<O>;
}
