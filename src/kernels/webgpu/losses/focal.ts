// Focal loss in WGSL (native/core/losses/focal.h): alpha·(−(1 − p_y)^γ log p_y).
import type { WgslKind } from '../wgsl/row_math';

export const focal: WgslKind = {
  name: 'focal',
  params: ['gamma', 'alpha'],
  linear: false,
  code: /* wgsl */ `
fn kind_row(s: RowStats, k_is_y: bool) -> KindRow {
  let ce = s.ce; let one_minus_p = s.el; let p = s.pt; let g = uniforms.p_gamma; let scale = uniforms.p_alpha;
  let w = ml_pow(one_minus_p, g);
  var w1 = 0.0;
  if (!(g == 0.0 || one_minus_p == 0.0)) { w1 = g * ml_pow(one_minus_p, g - 1.0); }
  var p_ce = 0.0;
  if (p != 0.0) { p_ce = p * ce; }
  return KindRow(scale * w * ce, scale * (w + w1 * p_ce), 0.0);
}`,
};
