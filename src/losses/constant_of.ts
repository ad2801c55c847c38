// Values a loss reads from a tensor on the gradient's path but treats as constants: a mask of its
// non-zero entries, a count of them, whether a divisor is 0. tfjs has no gradient for the
// comparisons that make them, and refuses to differentiate through them ("gradient function not
// found for NotEqual") even where their derivative is 0 everywhere it exists. Computed inside a
// custom gradient whose gradient is 0 (tfjs records no op inside one), as softcap.ts does.
import { cast, customGrad, GradSaveFunc, Tensor, zerosLike } from '@tensorflow/tfjs-core';

/** f(x) as float32 (a bool mask as 0/1), with a zero gradient for x. */
export function constantOf(x: Tensor, f: (x: Tensor) => Tensor): Tensor {
  const op = customGrad(((v: Tensor, _save: GradSaveFunc) => ({
    value: cast(f(v), 'float32'),
    gradFunc: () => zerosLike(v),
  })) as unknown as Parameters<typeof customGrad>[0]);
  return op(x);
}
