// MPCE −(p_k − p_y) log p_y in WGSL (native/core/losses/mpce.h); needs the row's argmax.
import type { WgslKind } from '../wgsl/row_math';

export const mpce: WgslKind = {
  name: 'mpce',
  params: [],
  linear: false,
  argmax: true,
  code: /* wgsl */ `
fn kind_row(s: RowStats, k_is_y: bool) -> KindRow {
  if (isnan(s.log_sum)) { return KindRow(ml_nan(), ml_nan(), 0.0); }
  if (k_is_y) { return KindRow(0.0, 0.0, 0.0); }
  let pk = exp(-s.log_sum); let gap = pk - s.pt; let ce = s.ce;
  return KindRow(gap * ce, gap * (1.0 - ce), pk * ce);
}`,
};
