// Focal loss (kind 'focal'), softmax form.
import { cast, expm1, isFinite, maximum, mul, neg, notEqual, pow, sum, Tensor, where as select, zerosLike } from '@tensorflow/tfjs-core';

import { checkOptions } from './checks';
import { constantOf } from './constant_of';
import { fusedLoss } from './fused';
import { kindDefaults, lossOp } from './op_table';
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

const DEFAULTS = kindDefaults('focal', { gamma: 2, alpha: 1 });

/**
 * Focal loss −α(1 − p_y)^γ log p_y (Eq. 2), softmax form. Class ids run the fused kernels; dense
 * (one-hot or soft) targets and label smoothing take keras' CategoricalFocalCrossentropy form
 * Σ_c −α_c (1 − p_c)^γ t_c log p_c, in stock tfjs ops.
 */
export const focalLoss = lossOp(
  'focal',
  function focalLoss<O extends FocalLossOptions = {}>(logits: Logits, labels: Labels, options: O = {} as O): LossValue<O> {
    checkOptions('focalLoss', options);
    const gamma = registryParam('focalLoss', 'focal', 'gamma', 'gamma', options.gamma, DEFAULTS.gamma);
    const a = options.alpha;
    const perClass = a !== undefined && typeof a !== 'number';
    const alpha = perClass ? 1 : registryParam('focalLoss', 'focal', 'alpha', 'alpha', a, DEFAULTS.alpha);
    return fusedLoss('focalLoss', logits, labels, options, {
      params: { gamma, alpha },
      own: ['gamma', 'alpha'],
      denseRows: (logp, t) => focalDenseRows(logp, t, gamma, alpha),
      ...(perClass ? { classWeights: a as number[] | Float32Array | Tensor, meanOver: 'rows' as const } : {}),
    }) as LossValue<O>;
  },
  true,
);

/** Σ_c −α (1 − p_c)^γ t_c log p_c per row; a class with t_c = 0 adds 0 (also where log p_c = −∞). */
function focalDenseRows(logp: Tensor, t: Tensor, gamma: number, alpha: number): Tensor {
  // log p, but 0 where it is −∞ and t = 0: no 0·∞ in the value or its gradient on masked
  // classes, while a zero target keeps its own gradient, −α(1 − p)^γ log p (learned targets).
  const kept = maximum(
    constantOf(t, (v) => notEqual(v, 0)),
    constantOf(logp, (v) => isFinite(v)),
  );
  const lp = select(cast(kept, 'bool'), logp, zerosLike(logp));
  // 1 − p as −expm1(log p), kept off 0 so that (1 − p)^γ has a finite slope for γ < 1.
  const weighted = gamma === 0 ? t : mul(pow(maximum(neg(expm1(lp)), 1e-30), gamma), t);
  return mul(sum(mul(weighted, neg(lp)), -1), alpha);
}
