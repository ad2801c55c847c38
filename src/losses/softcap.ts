// Logit soft-capping in stock tfjs ops, where a kernel does not apply it itself (the CUDA device,
// and tfjs's own ops for focal's dense form): cap·tanh(q/cap), with a −∞ logit (a class masked
// out by `where`) kept at −∞ as the fused kernels keep it. A custom gradient, dy·(1 − tanh²)
// (and dy on a −∞ logit): tfjs has no gradient for the comparison that finds them.
import { customGrad, div, equal, GradSaveFunc, mul, onesLike, sub, tanh, Tensor, where as select } from '@tensorflow/tfjs-core';

const capWith = (cap: number) =>
  customGrad(((x: Tensor, save: GradSaveFunc) => {
    const t = tanh(div(x, cap));
    const masked = equal(x, -Infinity);
    save([t, masked]);
    return {
      value: select(masked, x, mul(cap, t)),
      gradFunc: (dy: Tensor, [tt, m]: Tensor[]) => mul(dy, select(m, onesLike(tt), sub(1, mul(tt, tt)))),
    };
  }) as unknown as Parameters<typeof customGrad>[0]);

export function softcapLogits(q: Tensor, cap: number): Tensor {
  return capWith(cap)(q);
}
