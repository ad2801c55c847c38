// Generalized cross entropy (1 − p_y^q)/q, optionally truncated, in WGSL
// (native/core/losses/generalized_ce.h).
import type { WgslKind } from '../wgsl/row_math';

export const generalizedCE: WgslKind = {
  name: 'generalizedCE',
  params: ['q', 'truncation'],
  linear: false,
  code: /* wgsl */ `
fn kind_row(s: RowStats, k_is_y: bool) -> KindRow {
  let q = uniforms.p_q; let ce = s.ce; let k = uniforms.p_truncation;
  if (k > 0.0 && s.pt <= k) { return KindRow(-ml_expm1(q * log(k)) / q, 0.0, 0.0); }
  return KindRow(-ml_expm1(-q * ce) / q, exp(-q * ce), 0.0);
}`,
};
