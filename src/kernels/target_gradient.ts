// The gradient of the loss with respect to dense targets t, for the rare caller who asks for
// it (learned soft labels, distillation into the targets): the loss is Σ_j t_j ℓ_j with
// ℓ_j = α(lse − q_j) + β(1 − p_j), so ∂loss_r/∂t_rj = ℓ_rj. tfjs calls this only when the
// targets are on the path from the variables being differentiated, so it costs nothing in
// ordinary training; it is written with stock ops (one [B, C] pass, like the op it serves).
import { add, div, exp, logSoftmax, mul, reshape, slice, sub, Tensor, tidy, zeros } from '@tensorflow/tfjs-core';

import { softcapLogits } from '../losses/softcap';
import { native } from '../native';
import type { FusedLossAttrs } from './attrs';
import { statsLayout } from './registry';

/** stats: the forward's saved statistics (the mean's divisor follows the rows'); weights: sample weights [B]. */
export function denseTargetGradient(logits: Tensor, dy: Tensor, a: FusedLossAttrs, stats: Tensor, weights?: Tensor): Tensor {
  return tidy(() => {
    const [rows] = logits.shape;
    // ℓ_j = α(lse − q_j) + β(1 − p_j) of the kind (the registry gives α, β); z-loss has no t.
    const [alpha, beta] = native().linearCoefficients(a.loss) ?? [0, 0];
    // The loss saw the capped logits: ℓ_j is theirs.
    const cap = a.loss.softcap;
    const logp = logSoftmax(typeof cap === 'number' ? softcapLogits(logits, cap) : logits);
    const terms: Tensor[] = [];
    if (alpha !== 0) terms.push(mul(-alpha, logp)); // α(lse − q_j); +∞ on a masked class
    if (beta !== 0) terms.push(mul(beta, sub(1, exp(logp)))); // β(1 − p_j)
    const perEntry = terms.length === 0 ? zeros(logits.shape) : terms.length === 1 ? terms[0] : add(terms[0], terms[1]);
    let weight =
      a.reduction === 'none'
        ? reshape(dy, [rows, 1])
        : a.reduction === 'mean'
          ? div(dy, reshape(slice(stats, [rows * statsLayout().perRow + 1], [1]), []))
          : dy;
    if (weights !== undefined) weight = mul(weight, reshape(weights, [rows, 1]));
    return mul(perEntry, weight);
  });
}
