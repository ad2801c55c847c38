// Tamed cross entropy ((1 − log p_y)^(1−a) − 1)/(1 − a) in WGSL (native/core/losses/tamed_ce.h).
import type { WgslKind } from '../wgsl/row_math';

export const tamedCE: WgslKind = {
  name: 'tamedCE',
  params: ['a'],
  linear: false,
  code: /* wgsl */ `
fn kind_row(s: RowStats, k_is_y: bool) -> KindRow {
  let a = uniforms.p_a; let u = 1.0 + s.ce;
  var v = 0.0;
  if (a == 1.0) { v = log(u); } else { v = (ml_pow(u, 1.0 - a) - 1.0) / (1.0 - a); }
  return KindRow(v, ml_pow(u, -a), 0.0);
}`,
};
