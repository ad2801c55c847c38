// MAE = 2(1 − p_y) in WGSL (native/core/losses/mae.h): the mixture with α = 0, β = 2.
import type { WgslKind } from '../wgsl/row_math';

export const mae: WgslKind = {
  name: 'mae',
  params: [],
  linear: true,
  code: 'fn kind_linear() -> Linear { return Linear(0.0, 2.0); }',
};
