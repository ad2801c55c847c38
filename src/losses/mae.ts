// MAE (kind 'mae'): ‖onehot − p‖₁ = 2(1 − p_y), the paper's Eq. 3.

import { fusedLoss } from './fused';
import { lossOp } from './op_table';
import type { Labels, Logits, LossOptions, LossValue } from './types';

/** Mean absolute error between the one-hot label and the softmax, 2(1 − p_y); targets t: Σ_j t_j·2(1 − p_j). */
export const maeLoss = lossOp('mae', function maeLoss<
  O extends LossOptions = {},
>(logits: Logits, labels: Labels, options: O = {} as O): LossValue<O> {
  return fusedLoss('maeLoss', logits, labels, options, { params: {}, own: [] }) as LossValue<O>;
});
