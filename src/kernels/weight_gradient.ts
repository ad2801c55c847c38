// The gradient of the loss with respect to sample weights s (a kernel input): each row's loss
// before its weight, ℓ_r, is among the saved row statistics, so for 'none' and 'sum' it is
// dy·ℓ_r; for tf.Reduction.MEAN (Σ s ℓ / Σ s over the counted rows) dy·(ℓ_r − loss·m_r)/Σ s
// with m_r = 0 on ignored rows; for SUM_BY_NONZERO_WEIGHTS (a count, piecewise constant in s)
// dy·ℓ_r/count. Stock ops on [B] tensors: tfjs asks for it only when the weights depend on
// what is differentiated.
import { cast, div, mul, notEqual, reshape, slice, sub, sum, Tensor, tidy } from '@tensorflow/tfjs-core';

import type { FusedLossAttrs } from './attrs';
import { statsLayout, statsSlot } from './registry';

export function sampleWeightGradient(stats: Tensor, labels: Tensor, weights: Tensor, dy: Tensor, a: FusedLossAttrs): Tensor {
  return tidy(() => {
    const rows = weights.shape[0];
    const { perRow } = statsLayout();
    const rowStats = reshape(slice(stats, [0], [rows * perRow]), [rows, perRow]);
    const value = reshape(slice(rowStats, [0, statsSlot('value')], [rows, 1]), [rows]); // ℓ_r, 0 when ignored
    if (a.reduction !== 'mean') return mul(dy, value);
    const divisor = reshape(slice(stats, [rows * perRow + 1], [1]), []);
    if (a.meanOver !== 'sampleWeights') return mul(dy, div(value, divisor));
    const counted = a.loss.ignoreIndex === undefined ? 1 : cast(notEqual(reshape(labels, [rows]), a.loss.ignoreIndex as number), 'float32');
    const loss = div(sum(mul(weights, value)), divisor);
    return mul(dy, div(sub(value, mul(loss, counted)), divisor));
  });
}
