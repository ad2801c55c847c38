// Complement entropy (1/C)·Σ_{j≠y} r_j log r_j in WGSL (native/core/losses/complement_entropy.h);
// its gradient term over j ≠ y is row_math's complement block.
import type { WgslKind } from '../wgsl/row_math';

export const complementEntropy: WgslKind = {
  name: 'complementEntropy',
  params: [],
  linear: false,
  complement: true,
  expLogit: true,
  code: 'fn kind_row(s: RowStats, k_is_y: bool) -> KindRow { return KindRow(s.cot, 0.0, 0.0); }',
};
