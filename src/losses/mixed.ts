// The mixture α·CE + β·EL (kind 'mixed') and its special cases: CE, EL, Poly-1.

import { checkOptions } from './checks';
import { fusedLoss } from './fused';
import { kindDefaults, lossOp } from './op_table';
import type { Labels, Logits, LossOptions, LossValue } from './types';
import { registryParam } from './registry';
import { shown } from '../validate';

const DEFAULTS = kindDefaults('mixed', { alpha: 1, beta: 1 });

export interface MixedLossOptions extends LossOptions {
  /** Weight of cross entropy (default 1). */
  alpha?: number;
  /** Weight of the expectation loss 1 − p_y (default 1); may be negative down to −alpha (the loss stays >= 0). */
  beta?: number;
}

/**
 * α·CE + β·EL (Battash, Hazan & Wolf, Eq. 12) from logits, fused: one pass for the row
 * statistics, one for the closed-form gradient (Eq. 13). Never forms a softmax or one-hot.
 * Dense targets t give Σ_j t_j (α·(−log p_j) + β·(1 − p_j)). α >= 0, β >= −α (the paper's are >= 0).
 */
export const mixedLoss = lossOp('mixed', function mixedLoss<
  O extends MixedLossOptions = {},
>(logits: Logits, labels: Labels, options: O = {} as O): LossValue<O> {
  checkOptions('mixedLoss', options);
  // The registry's ranges (α >= 0) and constraint (β >= −α: the loss stays >= 0, as Poly-1 with
  // ε < 0); the paper's mixtures have β >= 0.
  const alpha = registryParam('mixedLoss', 'mixed', 'alpha', 'alpha', options.alpha, DEFAULTS.alpha);
  const beta = registryParam('mixedLoss', 'mixed', 'beta', 'beta', options.beta, DEFAULTS.beta);
  return fusedLoss('mixedLoss', logits, labels, options, { params: { alpha, beta }, own: ['alpha', 'beta'] }) as LossValue<O>;
});

/** Softmax cross entropy −log p_y from logits (Eq. 1); PyTorch's cross_entropy with its options. */
export const crossEntropy = lossOp('mixed', function crossEntropy<
  O extends LossOptions = {},
>(logits: Logits, labels: Labels, options: O = {} as O): LossValue<O> {
  return fusedLoss('crossEntropy', logits, labels, options, { params: { alpha: 1, beta: 0 }, own: [] }) as LossValue<O>;
});

/** The expectation loss 1 − p_y from logits (Eq. 9). */
export const expectationLoss = lossOp('mixed', function expectationLoss<
  O extends LossOptions = {},
>(logits: Logits, labels: Labels, options: O = {} as O): LossValue<O> {
  return fusedLoss('expectationLoss', logits, labels, options, { params: { alpha: 0, beta: 1 }, own: [] }) as LossValue<O>;
});

/**
 * Poly-1 (Leng et al. 2022): CE + ε(1 − p_y), the mixture with α = 1, β = ε. ε >= −1 (the
 * paper recommends ε = −1 for some tasks; CE − (1 − p_y) stays >= 0). Default ε = 1.
 */
export const polyLoss = lossOp('mixed', function polyLoss<
  O extends LossOptions & { epsilon?: number } = {},
>(logits: Logits, labels: Labels, options: O = {} as O): LossValue<O> {
  checkOptions('polyLoss', options);
  const e = options.epsilon ?? 1;
  if (typeof e !== 'number' || !Number.isFinite(e) || e < -1) {
    throw new Error(`mixloss.polyLoss: epsilon must be a finite number >= -1, got ${shown(e)}`);
  }
  return fusedLoss('polyLoss', logits, labels, options, { params: { alpha: 1, beta: e }, own: ['epsilon'] }) as LossValue<O>;
});
