// The one accumulator of the statistics pass, shared by the CPU and CUDA kernels: partial
// statistics of a slice of a row, element by element (add), slice by slice (merge), and the
// finished row (finish_sparse, finish_dense). The CPU's vectorized loops (row_blocks.cpp) sum
// a block in float lanes and hand the block's totals to the same Partial.
#pragma once

#include <cmath>
#include <cstdint>

#include "hd.h"
#include "loss_spec.h"
#include "row_stats.h"

namespace mixloss {

// sum = Σ exp(q_j − max) over the slice (the target class excluded for sparse labels);
// against a vector t (dense targets, or the smoothing vector: kNeedTargets) also Σ t_j q_j,
// Σ t_j and Σ t_j exp(q_j − max); argmax (kNeedArgmax) is the first index holding max.
// An all −∞ slice has sum 0 and max −∞; merging skips it, so masked classes never produce
// exp(−∞ + ∞) = NaN. A NaN anywhere makes sum NaN, which survives every merge and add.
// Fields ordered so that the struct has no padding (the two floats together): the CUDA kernels
// move a Partial between lanes a 32-bit word at a time.
struct Partial {
  float max;
  float t_min;  // min_j t_j (kNeedTargets; +∞ when none): a negative entry means these are not targets
  double sum;
  double t_logit;  // Σ t_j q_j (terms with t_j = 0 skipped, so −∞ logits are fine); double: t·q overflows float
  double mass;     // Σ t_j
  double t_exp;    // Σ t_j exp(q_j − max)
  int64_t argmax;
  double e_logit;  // Σ exp(q_j − max)·(q_j − max) (kNeedExpLogit; masked terms are 0)
};

MIXLOSS_HD Partial empty_partial() {
  Partial p;
  p.max = -INFINITY;
  p.t_min = INFINITY;
  p.sum = p.t_logit = p.mass = p.t_exp = p.e_logit = 0.0;
  p.argmax = -1;
  return p;
}

MIXLOSS_HD bool is_empty(const Partial& p) { return p.sum == 0.0 && p.t_exp == 0.0; }

// Moves a partial to a new (larger or equal) max.
MIXLOSS_HD void rebase(Partial& p, float new_max) {
  if (is_empty(p)) {
    p.max = new_max;
    return;
  }
  const double shift = static_cast<double>(p.max) - static_cast<double>(new_max);  // ≤ 0
  const double f = exp(shift);
  // Σ e'(q − new) = f·(Σ e (q − old) + (old − new)·Σ e); only when there is a sum to move.
  if (p.e_logit != 0.0 || p.sum != 0.0) p.e_logit = f * (p.e_logit + shift * p.sum);
  p.sum *= f;
  p.t_exp *= f;
  p.max = new_max;
}

// Adds element j (logit x, target t) to a partial: the per-thread loop of the CUDA kernels.
template <unsigned kNeeds>
MIXLOSS_HD void add(Partial& a, float x, float t, int64_t j) {
  constexpr bool kTargets = (kNeeds & kNeedTargets) != 0;
  if (kTargets) {
    a.mass += t;
    if (t < a.t_min) a.t_min = t;
    if (t != 0.0f) a.t_logit += static_cast<double>(t) * x;
  }
  if (x != x) {
    a.sum = NAN;
    return;
  }
  if (x == -INFINITY) return;  // masked: exp(−∞) = 0
  if (x > a.max) {
    const double f = a.max == -INFINITY ? 0.0 : static_cast<double>(expf(a.max - x));
    if (kNeeds & kNeedExpLogit) a.e_logit = f == 0.0 ? 0.0 : f * (a.e_logit + (static_cast<double>(a.max) - x) * a.sum);
    a.sum = a.sum * f + 1.0;
    if (kTargets) a.t_exp = a.t_exp * f + t;
    a.max = x;
    if (kNeeds & kNeedArgmax) a.argmax = j;
  } else {
    const float e = expf(x - a.max);
    a.sum += e;
    if (kTargets) a.t_exp += static_cast<double>(t) * e;
    if (kNeeds & kNeedExpLogit) a.e_logit += static_cast<double>(e) * (x - a.max);
  }
}

MIXLOSS_HD void merge(Partial& into, Partial other) {
  into.t_logit += other.t_logit;
  into.mass += other.mass;
  if (other.t_min < into.t_min) into.t_min = other.t_min;
  if (is_empty(other)) return;  // empty or all −∞
  if (is_empty(into)) {
    other.t_logit = into.t_logit;
    other.mass = into.mass;
    other.t_min = into.t_min;
    into = other;
    return;
  }
  if (other.max > into.max || (other.max == into.max && other.argmax >= 0 && other.argmax < into.argmax))
    into.argmax = other.argmax;  // the first index of the larger max
  if (other.max > into.max)
    rebase(into, other.max);
  else if (into.max > other.max)
    rebase(other, into.max);
  into.sum += other.sum;
  into.t_exp += other.t_exp;
  into.e_logit += other.e_logit;
}

// Final row statistics of a sparse row from the other classes' partial, the target logit
// q_y of class y and (kNeedTargets) the smoothing vector's value u_y at the target.
MIXLOSS_HD RowStats finish_sparse(Partial others, float target_logit, int64_t y, double u_y) {
  RowStats r;
  r.argmax = (others.argmax < 0 || target_logit > others.max || (target_logit == others.max && y < others.argmax)) ? y : others.argmax;
  // What depends on the other classes alone is read in their own frame, before a rebase to q_y:
  // log Σ_{j≠y} exp(q_j − max) (max: the row's) and complement entropy's Σ_{j≠y} r log r = Σ e (q − m)/E − log E
  // (the same for every m). Rebased, the others' sum is scaled by exp(m − q_y), which leaves
  // double's normal range when q_y is ~708 above them (found by the fuzzer: Σ r log r 25% off
  // at a gap of 732, and 0 beyond 745).
  const double own_shift = target_logit > others.max ? static_cast<double>(others.max) - target_logit : 0.0;  // ≤ 0
  const double log_own = log(others.sum);         // each log once: they are most of a short row's time
  const double log_others = log_own + own_shift;  // log Σ_{j≠y} exp(q_j − max), max after the rebase
  // Σ_{j≠y} r log r; 0 when there are no others.
  if (others.sum > 0.0)
    r.cot = static_cast<float>(others.e_logit / others.sum - log_own);
  else if (others.sum != 0.0)
    r.cot = NAN;
  if (target_logit > others.max) rebase(others, target_logit);
  const double d = static_cast<double>(target_logit) - others.max;  // q_y − max ≤ 0; NaN if all −∞
  // A row entirely −∞, or holding +∞ (d is NaN then), has no softmax: NaN, complement entropy's
  // statistic included (its others' sum alone can be 0 or finite there).
  if (d != d) r.cot = NAN;
  const double e_y = exp(d);
  const double s = others.sum + e_y;
  const double log_s = log(s);
  r.max = others.max;
  r.log_sum = static_cast<float>(log_s);
  // −log p_y = log(s) − d. When the target holds most of the mass, log1p of the others'
  // share keeps CE exact near p_y = 1; otherwise log(s) − d is a sum of two non-negative
  // terms (no cancellation) and stays finite when e_y underflows (q_y ≥ ~745 below the max).
  // +∞ when q_y = −∞.
  r.ce = static_cast<float>(others.sum <= e_y ? log1p(others.sum / e_y) : log_s - d);
  r.el = static_cast<float>(others.sum / s);  // 1 − p_y
  r.log_others = log_others;                  // −∞ when there are no others
  r.mass = 1.0f;
  r.pt = static_cast<float>(e_y / s);  // p_y
  if (others.mass != 0.0 || u_y != 0.0) {
    // The smoothing vector's sums over every class, the target's terms added here.
    const double lse = static_cast<double>(others.max) + log_s;
    const double u_logit = others.t_logit + (u_y != 0.0 ? u_y * target_logit : 0.0);
    r.u_mass = static_cast<float>(others.mass + u_y);
    r.u_ce = static_cast<float>((others.mass + u_y) * lse - u_logit);
    r.u_pt = static_cast<float>((others.t_exp + u_y * e_y) / s);
  }
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
  r.argmax = p.argmax;
  r.t_min = p.t_min;
  return r;
}

}  // namespace mixloss
