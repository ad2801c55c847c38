// Focal loss (kind 'focal'), softmax form.
import type { Tensor } from '@tensorflow/tfjs-core';

import { checkOptions } from './checks';
import { fusedLoss } from './fused';
import { lossOp } from './op_table';
import type { Labels, Logits, LossOptions, LossValue } from './types';
import { registryParam } from './registry';

export interface FocalLossOptions extends LossOptions {
  /** Focusing parameter γ >= 0 (default 2). */
  gamma?: number;
  /**
   * A number: a global scale (keras' CategoricalFocalCrossentropy, and the kornia version the
   * paper used with α = 0.25); default 1. An array or tensor [C]: the α-balanced form, row r
   * scaled by alpha[y_r], and 'mean' still divides by the number of rows (keras, kornia).
   * (classWeights instead divides 'mean' by the rows' weights, as PyTorch does.)
   */
  alpha?: number | number[] | Float32Array | Tensor;
}

/** Focal loss −α(1 − p_y)^γ log p_y (Eq. 2), softmax form, class ids only. */
export const focalLoss = lossOp('focal', function focalLoss<
  O extends FocalLossOptions = {},
>(logits: Logits, labels: Labels, options: O = {} as O): LossValue<O> {
  checkOptions('focalLoss', options);
  const gamma = registryParam('focalLoss', 'focal', 'gamma', 'gamma', options.gamma, 2);
  const a = options.alpha;
  const perClass = a !== undefined && typeof a !== 'number';
  const alpha = perClass ? 1 : registryParam('focalLoss', 'focal', 'alpha', 'alpha', a, 1);
  return fusedLoss('focalLoss', logits, labels, options, {
    params: { gamma, alpha },
    own: ['gamma', 'alpha'],
    ...(perClass ? { classWeights: a as number[] | Float32Array | Tensor, meanOver: 'rows' as const } : {}),
  }) as LossValue<O>;
});
