// Tamed cross entropy (kind 'tamedCE').
import type { Tensor } from '@tensorflow/tfjs-core';

import { fusedLoss, Labels, LossOptions } from './fused';
import { registryParam } from './registry';

/** Tamed cross entropy ((1 − log p_y)^(1−a) − 1)/(1 − a) (Martinez & Stiefelhagen 2018), a >= 0 (default 0.5). Class ids only. */
export function tamedCrossEntropy(logits: Tensor, labels: Labels, options: LossOptions & { a?: number } = {}): Tensor {
  const a = registryParam('tamedCrossEntropy', 'tamedCE', 'a', 'a', options.a, 0.5);
  return fusedLoss('tamedCrossEntropy', logits, labels, options, { kind: 'tamedCE', params: { a }, own: ['a'] });
}
