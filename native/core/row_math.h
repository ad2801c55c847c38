// The per-row step between the two passes, shared by the CPU and CUDA kernels: from a row's
// statistics, its loss value and the scalars of its gradient (RowGrad), for any kind in the
// registry with the options applied (class weight, label smoothing, z-loss).
//
// Sparse row, class weight ω = w[y] (1 without class weights), smoothing ε, C classes,
// smoothing vector u (the class weights, or ones):
//   value = (1 − ε)·ω·ℓ(p) + (ε/C)·Σ_c u_c ℓ_c(p) + z·lse²
// where ℓ is the kind's own row loss and ℓ_c its per-class form (kinds linear in the targets).
// PyTorch's cross_entropy(weight, label_smoothing) is the case ℓ = CE. Dense targets t:
//   value = Σ_j t_j ℓ_j(p) + z·lse²        (kinds linear in the targets).
#pragma once

#include <cmath>
#include <cstdint>

#include "losses/registry.h"
#include "row_stats.h"

namespace mixloss {

namespace detail {
template <typename K>
MIXLOSS_HD KindRow kind_row(const LossParams& P, const RowStats& s, bool k_is_y) {
  if constexpr (K::kLinear) {
    const Linear l = K::linear(P);
    // α·CE skipped at α = 0: CE is +∞ on a masked target and 0·∞ would be NaN.
    return {(l.alpha != 0.0 ? l.alpha * s.ce : 0.0) + l.beta * s.el, l.alpha + l.beta * s.pt, 0.0};
  } else {
    return K::sparse(P, s, k_is_y);
  }
}

template <typename K>
MIXLOSS_HD Linear kind_linear(const LossParams& P) {
  if constexpr (K::kLinear)
    return K::linear(P);
  else
    return {0.0, 0.0};  // rejected before any kernel
}

MIXLOSS_HD void add_z_loss(const LossParams& P, const RowStats& s, double& value, double& a) {
  if (P.z_loss == 0.0f) return;
  const double lse = static_cast<double>(s.max) + s.log_sum;
  value += P.z_loss * lse * lse;
  a += 2.0 * P.z_loss * lse;  // ∂(z·lse²)/∂q_j = 2z·lse·p_j
}
}  // namespace detail

MIXLOSS_HD RowGrad sparse_row(const LossParams& P, const RowStats& s, int64_t classes, double omega, bool k_is_y) {
  return visit_kind(P.kind, [&](auto kind) {
    using K = decltype(kind);
    const KindRow k = detail::kind_row<K>(P, s, k_is_y);
    const double eps = P.label_smoothing, wm = (1.0 - eps) * omega;
    RowGrad g;
    double value = wm == 0.0 ? 0.0 : wm * k.value;
    g.main = wm * k.c;
    g.ck = wm * k.ck;
    g.a = g.main;
    g.b = 0.0;
    g.d = 0.0;
    if constexpr (K::kComplement) {
      // The authors' normalization: the row sum divided by C. Its gradient over j ≠ y is
      // (ω/C)·r_j (log r_j − Σ r log r), r_j = exp(q_j − lse_o), lse_o = max + log_others.
      const double scale = wm / static_cast<double>(classes);
      value = wm == 0.0 ? 0.0 : scale * k.value;
      if (s.log_others > -INFINITY) {
        g.cot = scale;
        g.cot_lse = static_cast<double>(s.max) + s.log_others;
        g.cot_value = s.cot;
      }
    }
    if (eps > 0.0) {
      // (ε/C)·Σ_c u_c (α(lse − q_c) + β(1 − p_c)): value from the u sums; gradient
      // (ε/C)·(α(U p_j − u_j) + β p_j (Σ u p − u_j)).
      const Linear l = detail::kind_linear<K>(P);
      const double e = eps / static_cast<double>(classes);
      value += e * ((l.alpha != 0.0 ? l.alpha * s.u_ce : 0.0) + l.beta * (static_cast<double>(s.u_mass) - s.u_pt));
      g.a += e * (l.alpha * s.u_mass + l.beta * s.u_pt);
      g.b = -e * l.alpha;
      g.d = -e * l.beta;
    }
    detail::add_z_loss(P, s, value, g.a);
    g.value = static_cast<float>(value);
    return g;
  });
}

// Dense targets (kinds linear in the targets): ∂/∂q_j = p_j (α·T + β·Σ t p) − α t_j − β t_j p_j.
MIXLOSS_HD RowGrad dense_row(const LossParams& P, const RowStats& s) {
  return visit_kind(P.kind, [&](auto kind) {
    const Linear l = detail::kind_linear<decltype(kind)>(P);
    RowGrad g;
    double value = (l.alpha != 0.0 ? l.alpha * static_cast<double>(s.ce) : 0.0) + l.beta * static_cast<double>(s.el);
    g.a = l.alpha * static_cast<double>(s.mass) + l.beta * static_cast<double>(s.pt);
    g.b = -l.alpha;
    g.d = -l.beta;
    g.main = 0.0;
    g.ck = 0.0;
    detail::add_z_loss(P, s, value, g.a);
    g.value = static_cast<float>(value);
    return g;
  });
}

// The sparse target's gradient entry (times the row weight w outside): −main·(1 − p_y) with
// 1 − p_y from the other classes' mass (exact near p_y = 1), the options' terms at y, and −ck.
MIXLOSS_HD double sparse_target_gradient(const RowGrad& g, const RowStats& s, double u_y, bool k_is_y) {
  const double p = s.pt;
  return -g.main * static_cast<double>(s.el) + (g.a - g.main) * p + u_y * (g.b + g.d * p) - (k_is_y ? 0.0 : g.ck);
}

// MPCE's argmax entry k ≠ y (times the row weight outside), whole and in double:
// a·p_k + u_k(b + d·p_k) + ck, p_k = exp(−log_sum) since q_k is the row's max. Adding ck to
// the float a·p_k the row loop wrote cancels: with log p_y = −1.8e5 both are ~1.8e5·w and
// the entry (~w) lost 8 bits (found by the fuzzer, native/fuzz/regressions/).
MIXLOSS_HD double sparse_argmax_gradient(const RowGrad& g, const RowStats& s, double u_k) {
  const double p = exp(-static_cast<double>(s.log_sum));
  return g.a * p + u_k * (g.b + g.d * p) + g.ck;
}

}  // namespace mixloss
