// What the statistics pass leaves per row, stored as kStatsPerRow floats (the slot list below), and
// what the per-row step hands the gradient pass. Shared by the CPU and CUDA kernels.
#pragma once

#include <cmath>
#include <cstdint>

#include "hd.h"

namespace mixloss {

//   max     = max_j q_j
//   log_sum = log Σ_j exp(q_j − max)      (so p_j = exp(q_j − max − log_sum))
//   ce      = sparse: −log p_y;   dense: Σ_j t_j (lse − q_j)
//   el      = sparse: 1 − p_y;    dense: Σ_j t_j (1 − p_j)
//   mass    = sparse: 1;          dense: Σ_j t_j
//   pt      = sparse: p_y;        dense: Σ_j t_j p_j
//   argmax  = first j with q_j = max (kNeedArgmax), stored as two floats (hi·2^24 + lo)
//   u_ce, u_pt, u_mass = Σ_c u_c (lse − q_c), Σ_c u_c p_c, Σ_c u_c for the label-smoothing
//             vector u (class weights, or ones) of a sparse row (kNeedTargets)
//   cot     = Σ_{j≠y} r_j log r_j, r_j = p_j/(1 − p_y): complement entropy's row sum (kNeedExpLogit)
//   value   = the row's loss before its sample weight (the weights' gradient needs it)
//   t_min   = dense: min_j t_j (+∞ for no classes); sparse: 0. With mass, what tells targets
//             (entries >= 0, rows summing to 1 or all 0) from logits passed in their place
//   log_others = sparse: log Σ_{j≠y} exp(q_j − max) (−∞ with no other class; log(1 − p_y) is
//             log_others − log_sum); dense: 0. Complement entropy's gradient needs the others'
//             lse = max + log_others where 1 − p_y underflows float (the target ~100 above the
//             rest, found by the fuzzer), and exactly: apart from log_sum, whose float rounding
//             would otherwise be in it. Two floats (hi + lo): it is as large as the gap, and
//             r_j = exp(q_j − lse_o) needs it to ~1e-7 absolute
// max and log_sum are kept apart (not folded into one lse) so that p_j keeps full float
// precision for large logits. ce and el of a sparse row come from the other classes' mass,
// so they stay exact when p_y is close to 1 (no cancellation in 1 − p_y or in lse − q_y).
// pt is kept beside el (el + pt = mass) because each is exact where the other is not: a
// gradient that scales with p_y (EL with p_y ≪ 1, the usual case at large C) read from
// 1 − el in float would lose its relative precision (measured: 4% at C = 65537).
struct RowStats {
  float max = 0, log_sum = 0, ce = 0, el = 0, mass = 0, pt = 0;
  int64_t argmax = -1;
  float u_ce = 0, u_pt = 0, u_mass = 0;
  float cot = 0;
  float value = 0;
  float t_min = 0;
  double log_others = 0;
};

// The stored layout, one float per slot in this order: THE list, from which the slot numbers
// below, kStatsPerRow and the map the addon hands TypeScript (statsLayout()) all come. The
// WebGPU kernels and the JavaScript reads (row values, target checks) find slots by these names.
// Each slot holds the field of its name, except argmax (hi·2^24 + lo, each exact in a float)
// and log_others (a double as hi + lo).
#define MIXLOSS_STATS_SLOTS(X) \
  X(max)                       \
  X(log_sum)                   \
  X(ce)                        \
  X(el)                        \
  X(mass)                      \
  X(pt)                        \
  X(argmax_hi)                 \
  X(argmax_lo)                 \
  X(u_ce)                      \
  X(u_pt)                      \
  X(u_mass)                    \
  X(cot)                       \
  X(value)                     \
  X(t_min)                     \
  X(log_others_hi)             \
  X(log_others_lo)

namespace slot {
enum : int {
#define MIXLOSS_SLOT(name) name,
  MIXLOSS_STATS_SLOTS(MIXLOSS_SLOT)
#undef MIXLOSS_SLOT
};
}  // namespace slot
constexpr int kStatsPerRow = 0
#define MIXLOSS_SLOT_COUNT(name) +1
    MIXLOSS_STATS_SLOTS(MIXLOSS_SLOT_COUNT)
#undef MIXLOSS_SLOT_COUNT
    ;

MIXLOSS_HD void store_stats(const RowStats& s, float* out) {
  out[slot::max] = s.max;
  out[slot::log_sum] = s.log_sum;
  out[slot::ce] = s.ce;
  out[slot::el] = s.el;
  out[slot::mass] = s.mass;
  out[slot::pt] = s.pt;
  const int64_t k = s.argmax < 0 ? 0 : s.argmax;
  out[slot::argmax_hi] = static_cast<float>(k >> 24);
  out[slot::argmax_lo] = static_cast<float>(k & ((int64_t{1} << 24) - 1));
  out[slot::u_ce] = s.u_ce;
  out[slot::u_pt] = s.u_pt;
  out[slot::u_mass] = s.u_mass;
  out[slot::cot] = s.cot;
  out[slot::value] = s.value;
  out[slot::t_min] = s.t_min;
  const float hi = static_cast<float>(s.log_others);
  out[slot::log_others_hi] = hi;
  out[slot::log_others_lo] = (s.log_others > -INFINITY && s.log_others < INFINITY) ? static_cast<float>(s.log_others - hi) : 0.0f;
}

MIXLOSS_HD RowStats load_stats(const float* in) {
  RowStats s;
  s.max = in[slot::max];
  s.log_sum = in[slot::log_sum];
  s.ce = in[slot::ce];
  s.el = in[slot::el];
  s.mass = in[slot::mass];
  s.pt = in[slot::pt];
  s.argmax = (static_cast<int64_t>(in[slot::argmax_hi]) << 24) + static_cast<int64_t>(in[slot::argmax_lo]);
  s.u_ce = in[slot::u_ce];
  s.u_pt = in[slot::u_pt];
  s.u_mass = in[slot::u_mass];
  s.cot = in[slot::cot];
  s.value = in[slot::value];
  s.t_min = in[slot::t_min];
  s.log_others = static_cast<double>(in[slot::log_others_hi]) + in[slot::log_others_lo];
  return s;
}

// A kind's own row result for a sparse row: the value ℓ(p) and the gradient
// c·(p_j − [j = y]) + ck·([j = k] − [j = y]) (ck: MPCE's argmax term; 0 for the others).
struct KindRow {
  double value;
  double c;
  double ck = 0.0;
};

// A kind linear in the targets: ℓ_j = alpha·(lse − q_j) + beta·(1 − p_j) per class j, so any
// targets t give Σ_j t_j ℓ_j from row statistics alone.
struct Linear {
  double alpha, beta;
};

// The whole row after options, as the gradient pass uses it (each times the row's weight w):
//   g_j = a·p_j + u_j·(b + d·p_j)                     (u: the dense targets, or the smoothing vector)
//   sparse rows then write g_y = −main·(1 − p_y) + (a − main)·p_y + u_y·(b + d·p_y) − ck
//   and add ck at the argmax k ≠ y.
// Complement entropy adds cot·exp(q_j − cot_lse)·(q_j − cot_lse − cot_value) over j ≠ y, where
// cot_lse = log Σ_{j≠y} exp(q_j) (so exp(q_j − cot_lse) = r_j) and cot_value = Σ r log r.
struct RowGrad {
  float value;
  double a, b, d;
  double main;  // coefficient of p_j − [j = y] inside a (sparse rows)
  double ck;
  double cot = 0.0, cot_lse = 0.0, cot_value = 0.0;
};

}  // namespace mixloss
