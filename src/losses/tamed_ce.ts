// Tamed cross entropy (kind 'tamedCE').

import { checkOptions } from './checks';
import { fusedLoss } from './fused';
import { kindDefaults, lossOp } from './op_table';
import type { Labels, Logits, LossOptions, LossValue } from './types';
import { registryParam } from './registry';

const DEFAULTS = kindDefaults('tamedCE', { a: 0.5 });

/** Tamed cross entropy ((1 − log p_y)^(1−a) − 1)/(1 − a) (Martinez & Stiefelhagen 2018), a >= 0 (default 0.5). Class ids only. */
export const tamedCrossEntropy = lossOp('tamedCE', function tamedCrossEntropy<
  O extends LossOptions & { a?: number } = {},
>(logits: Logits, labels: Labels, options: O = {} as O): LossValue<O> {
  checkOptions('tamedCrossEntropy', options);
  const a = registryParam('tamedCrossEntropy', 'tamedCE', 'a', 'a', options.a, DEFAULTS.a);
  return fusedLoss('tamedCrossEntropy', logits, labels, options, { params: { a }, own: ['a'] }) as LossValue<O>;
});
