// Per-row loss math shared by the CPU and CUDA kernels: the "one seam" of docs/spec.
//
// Every loss here is computed from a handful of row statistics (RowStats) produced by one
// pass over the logits. For a sparse label y the gradient is c·(p_j − [j = y]); for dense
// targets t it is a·p_j + b·t_j + d·t_j·p_j. Kernels only ever need these row scalars.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define MIXLOSS_HD __host__ __device__ __forceinline__
#else
#define MIXLOSS_HD inline
#endif

namespace mixloss {

// Loss kinds on the seam. MIXED covers CE (α=1, β=0), EL (α=0, β=1), Poly-1 (α=1, β=ε)
// and MAE (α=0, β=2). The others are functions of p_y alone (sparse labels only).
enum class LossKind : int32_t {
  kMixed = 0,
  kFocal = 1,         // param0 = γ
  kGeneralizedCE = 2, // param0 = q
  kTamedCE = 3,       // param0 = a
};

struct LossParams {
  LossKind kind;
  float alpha;   // mixed: weight of CE
  float beta;    // mixed: weight of EL
  float param0;  // focal γ, generalized-CE q, tamed-CE a
};

// What the statistics pass leaves per row (stored as kStatsPerRow floats, in this order).
//   max     = max_j q_j
//   log_sum = log Σ_j exp(q_j − max)      (so p_j = exp(q_j − max − log_sum))
//   ce      = sparse: −log p_y;   dense: Σ_j t_j (lse − q_j)
//   el      = sparse: 1 − p_y;    dense: Σ_j t_j (1 − p_j)
//   mass    = sparse: 1;          dense: Σ_j t_j
//   pt      = sparse: p_y;        dense: Σ_j t_j p_j
// max and log_sum are kept apart (not folded into one lse) so that p_j keeps full float
// precision for large logits. ce and el of a sparse row come from the other classes' mass,
// so they stay exact when p_y is close to 1 (no cancellation in 1 − p_y or in lse − q_y).
// pt is kept beside el (el + pt = mass) because each is exact where the other is not: a
// gradient that scales with p_y (EL with p_y ≪ 1, the usual case at large C) read from
// 1 − el in float would lose its relative precision (measured: 4% at C = 65537).
struct RowStats {
  float max;
  float log_sum;
  float ce;
  float el;
  float mass;
  float pt;
};
constexpr int kStatsPerRow = 6;

MIXLOSS_HD void store_stats(const RowStats& s, float* out) {
  out[0] = s.max;
  out[1] = s.log_sum;
  out[2] = s.ce;
  out[3] = s.el;
  out[4] = s.mass;
  out[5] = s.pt;
}

MIXLOSS_HD RowStats load_stats(const float* in) { return {in[0], in[1], in[2], in[3], in[4], in[5]}; }

// Sparse rows: loss value and the scalar c of the gradient c·(p_j − [j = y]).
struct SparseRow {
  float value;
  float c;
};

// Dense rows: loss value and the gradient a·p_j + b·t_j + d·t_j·p_j.
struct DenseRow {
  float value;
  float a;
  float b;
  float d;
};

MIXLOSS_HD SparseRow sparse_row(const LossParams& P, const RowStats& s) {
  // Work in double for the scalar step: it costs nothing per row and keeps c exact.
  const double ce = s.ce;                 // −log p_y
  const double one_minus_p = s.el;        // 1 − p_y
  const double p = s.pt;                  // p_y
  switch (P.kind) {
    case LossKind::kMixed: {
      // Eq. 12/13: α·CE + β·EL, c = α + β·p_y.
      const double v = (P.alpha != 0.0f ? P.alpha * ce : 0.0) + P.beta * one_minus_p;
      return {static_cast<float>(v), static_cast<float>(P.alpha + P.beta * p)};
    }
    case LossKind::kFocal: {
      // −(1−p)^γ log p;  c = (1−p)^γ − γ p (1−p)^(γ−1) log p.
      const double g = P.param0;
      const double w = pow(one_minus_p, g);
      // The second term tends to 0 as p → 1 (log p ≈ −(1 − p)); avoid 0·∞ there.
      const double w1 = (g == 0.0 || one_minus_p == 0.0) ? 0.0 : g * pow(one_minus_p, g - 1.0);
      // −p·log p tends to 0 as p → 0 (a masked target, CE = +∞): avoid 0·∞ there too.
      const double p_ce = p == 0.0 ? 0.0 : p * ce;
      return {static_cast<float>(w * ce), static_cast<float>(w + w1 * p_ce)};
    }
    case LossKind::kGeneralizedCE: {
      // (1 − p^q)/q;  c = p^q. p^q = exp(−q·CE) keeps it accurate for tiny p.
      const double q = P.param0;
      const double pq = exp(-q * ce);
      return {static_cast<float>(-expm1(-q * ce) / q), static_cast<float>(pq)};
    }
    case LossKind::kTamedCE: {
      // ((1 − log p)^(1−a) − 1)/(1 − a);  c = (1 − log p)^(−a).
      const double a = P.param0;
      const double u = 1.0 + ce;
      const double v = (a == 1.0) ? log(u) : (pow(u, 1.0 - a) - 1.0) / (1.0 - a);
      return {static_cast<float>(v), static_cast<float>(pow(u, -a))};
    }
  }
  return {NAN, NAN};
}

// Dense targets define each loss as Σ_j t_j ℓ(p_j); only the mixture is linear in p, so only
// it reduces to row statistics: ∂/∂q_j = p_j (α·T + β·Σ t p) − α t_j − β t_j p_j.
MIXLOSS_HD DenseRow dense_row(const LossParams& P, const RowStats& s) {
  const double pt = s.pt;  // Σ_j t_j p_j
  const double v = (P.alpha != 0.0f ? P.alpha * static_cast<double>(s.ce) : 0.0) +
                   P.beta * static_cast<double>(s.el);
  return {static_cast<float>(v), static_cast<float>(P.alpha * static_cast<double>(s.mass) + P.beta * pt),
          -P.alpha, -P.beta};
}

// Partial statistics of a slice of one row, as the statistics pass accumulates them.
// sum = Σ exp(q_j − max) over the slice (the target class excluded for sparse labels);
// dense targets also carry Σ t_j q_j, Σ t_j and Σ t_j exp(q_j − max).
// An all −∞ slice has sum 0 and max −∞; merging skips it, so masked classes never
// produce exp(−∞ + ∞) = NaN. A NaN anywhere makes sum NaN, which survives every merge.
struct Partial {
  float max;
  double sum;
  double t_logit;  // dense: Σ t_j q_j (terms with t_j = 0 skipped, so −∞ logits are fine)
  double mass;     // dense: Σ t_j
  double t_exp;    // dense: Σ t_j exp(q_j − max)
};

MIXLOSS_HD Partial empty_partial() { return {-INFINITY, 0.0, 0.0, 0.0, 0.0}; }

// Moves a partial to a new (larger or equal) max.
MIXLOSS_HD void rebase(Partial& p, float new_max) {
  if (p.sum == 0.0 && p.t_exp == 0.0) { p.max = new_max; return; }
  const double f = exp(static_cast<double>(p.max) - static_cast<double>(new_max));
  p.sum *= f;
  p.t_exp *= f;
  p.max = new_max;
}

MIXLOSS_HD void merge(Partial& into, Partial other) {
  into.t_logit += other.t_logit;
  into.mass += other.mass;
  if (other.sum == 0.0 && other.t_exp == 0.0) return;  // empty or all −∞
  if (into.sum == 0.0 && into.t_exp == 0.0) {
    other.t_logit = into.t_logit; other.mass = into.mass;
    into = other;
    return;
  }
  if (other.max > into.max) rebase(into, other.max); else if (into.max > other.max) rebase(other, into.max);
  into.sum += other.sum;
  into.t_exp += other.t_exp;
}

// Final row statistics of a sparse row from the other classes' partial and the target logit.
MIXLOSS_HD RowStats finish_sparse(Partial others, float target_logit) {
  if (target_logit > others.max) rebase(others, target_logit);
  const double d = static_cast<double>(target_logit) - others.max;  // q_y − max ≤ 0; NaN if all −∞
  const double e_y = exp(d);
  const double s = others.sum + e_y;
  RowStats r;
  r.max = others.max;
  r.log_sum = static_cast<float>(log(s));
  // −log p_y = log(s) − d. When the target holds most of the mass, log1p of the others'
  // share keeps CE exact near p_y = 1; otherwise log(s) − d is a sum of two non-negative
  // terms (no cancellation) and stays finite when e_y underflows (q_y ≥ ~745 below the max).
  // +∞ when q_y = −∞.
  r.ce = static_cast<float>(others.sum <= e_y ? log1p(others.sum / e_y) : log(s) - d);
  r.el = static_cast<float>(others.sum / s);            // 1 − p_y
  r.mass = 1.0f;
  r.pt = static_cast<float>(e_y / s);                   // p_y
  return r;
}

MIXLOSS_HD RowStats finish_dense(const Partial& p) {
  const double log_sum = log(p.sum);
  const double lse = static_cast<double>(p.max) + log_sum;
  RowStats r;
  r.max = p.max;
  r.log_sum = static_cast<float>(log_sum);
  r.ce = static_cast<float>(p.mass * lse - p.t_logit);
  r.el = static_cast<float>(p.mass - p.t_exp / p.sum);
  r.mass = static_cast<float>(p.mass);
  r.pt = static_cast<float>(p.t_exp / p.sum);
  return r;
}

}  // namespace mixloss
