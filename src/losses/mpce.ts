// MPCE (kind 'mpce'), the paper's Eq. 7.

import { fusedLoss } from './fused';
import { lossOp } from './op_table';
import type { Labels, Logits, LossOptions, LossValue } from './types';

/**
 * −(p_k − p_y) log p_y with k = argmax_j p_j (first index on ties): zero when the prediction is
 * right. Its gradient has a term at k besides the seam's (spec). Class ids only.
 */
export const mpceLoss = lossOp('mpce', function mpceLoss<
  O extends LossOptions = {},
>(logits: Logits, labels: Labels, options: O = {} as O): LossValue<O> {
  return fusedLoss('mpceLoss', logits, labels, options, { params: {}, own: [] }) as LossValue<O>;
});
