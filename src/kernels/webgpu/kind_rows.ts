// Each loss kind's own row loss in WGSL, by the registry's name: `fn kind_row(s: RowStats,
// k_is_y: bool) -> KindRow` returns the row value ℓ, the scalar c of c·(p − onehot) and MPCE's
// argmax term ck: the math of the kind's `sparse` in native/core/losses/<kind>.h, with the same
// guards. A kind's parameters are the uniforms `p_<name>`. This table is all the WGSL a kind
// writes by hand: its needs, linearity, parameters and whether its gradient has complement
// entropy's term come from the addon (kernels/registry.ts), and kinds linear in the targets need
// no entry (their α and β come from the addon as uniforms).
export const KIND_ROWS: Readonly<Record<string, string>> = {
  // alpha·(−(1 − p_y)^γ log p_y)
  focal: /* wgsl */ `
fn kind_row(s: RowStats, k_is_y: bool) -> KindRow {
  let ce = s.ce; let one_minus_p = s.el; let p = s.pt; let g = uniforms.p_gamma; let scale = uniforms.p_alpha;
  let w = ml_pow(one_minus_p, g);
  var w1 = 0.0;
  if (!(g == 0.0 || one_minus_p == 0.0)) { w1 = g * ml_pow(one_minus_p, g - 1.0); }
  var p_ce = 0.0;
  if (p != 0.0) { p_ce = p * ce; }
  return KindRow(scale * w * ce, scale * (w + w1 * p_ce), 0.0);
}`,

  // (1 − p_y^q)/q, L_q(k) where p_y <= k when truncated
  generalizedCE: /* wgsl */ `
fn kind_row(s: RowStats, k_is_y: bool) -> KindRow {
  let q = uniforms.p_q; let ce = s.ce; let k = uniforms.p_truncation;
  if (k > 0.0 && s.pt <= k) { return KindRow(-ml_expm1(q * log(k)) / q, 0.0, 0.0); }
  return KindRow(-ml_expm1(-q * ce) / q, exp(-q * ce), 0.0);
}`,

  // ((1 − log p_y)^(1−a) − 1)/(1 − a), log(1 − log p_y) at a = 1
  tamedCE: /* wgsl */ `
fn kind_row(s: RowStats, k_is_y: bool) -> KindRow {
  let a = uniforms.p_a; let u = 1.0 + s.ce;
  var v = 0.0;
  if (a == 1.0) { v = log(u); } else { v = (ml_pow(u, 1.0 - a) - 1.0) / (1.0 - a); }
  return KindRow(v, ml_pow(u, -a), 0.0);
}`,

  // −(p_k − p_y) log p_y, k the row's argmax; 0 when k = y
  mpce: /* wgsl */ `
fn kind_row(s: RowStats, k_is_y: bool) -> KindRow {
  if (isnan(s.log_sum)) { return KindRow(ml_nan(), ml_nan(), 0.0); }
  if (k_is_y) { return KindRow(0.0, 0.0, 0.0); }
  let pk = exp(-s.log_sum); let gap = pk - s.pt; let ce = s.ce;
  return KindRow(gap * ce, gap * (1.0 - ce), pk * ce);
}`,

  // (1/C)·Σ_{j≠y} r_j log r_j: the value only; its gradient is row_math's complement block
  complementEntropy: /* wgsl */ `
fn kind_row(s: RowStats, k_is_y: bool) -> KindRow { return KindRow(s.cot, 0.0, 0.0); }`,
};
