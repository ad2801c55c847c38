// Generalized cross entropy L_q and its truncated form (kind 'generalizedCE').

import { checkOptions } from './checks';
import { fusedLoss } from './fused';
import { kindDefaults, lossOp } from './op_table';
import type { Labels, Logits, LossOptions, LossValue } from './types';
import { registryParam } from './registry';

export interface GeneralizedCEOptions extends LossOptions {
  /** q in (0, 1] (default 0.7): q → 0 is CE, q = 1 is EL. */
  q?: number;
  /**
   * The truncated L_q's threshold k in [0, 1) (default 0: none): below p_y = k the loss is the
   * constant L_q(k) and the gradient 0. Zhang & Sabuncu use k = 0.5.
   */
  truncation?: number;
}

const DEFAULTS = kindDefaults('generalizedCE', { q: 0.7, truncation: 0 });

/** Generalized cross entropy (1 − p_y^q)/q (Zhang & Sabuncu 2018). Class ids only. */
export const generalizedCrossEntropy = lossOp('generalizedCE', function generalizedCrossEntropy<
  O extends GeneralizedCEOptions = {},
>(logits: Logits, labels: Labels, options: O = {} as O): LossValue<O> {
  checkOptions('generalizedCrossEntropy', options);
  const q = registryParam('generalizedCrossEntropy', 'generalizedCE', 'q', 'q', options.q, DEFAULTS.q);
  const truncation = registryParam(
    'generalizedCrossEntropy',
    'generalizedCE',
    'truncation',
    'truncation',
    options.truncation,
    DEFAULTS.truncation,
  );
  return fusedLoss('generalizedCrossEntropy', logits, labels, options, {
    params: { q, truncation },
    own: ['q', 'truncation'],
  }) as LossValue<O>;
});
