#include "fused_loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "needs_dispatch.h"
#include "row_blocks.h"
#include "row_plan.h"
#include "thread_pool.h"

namespace mixloss {
namespace cpu {

namespace {

// Calls f with the dense targets of a row slice, typed as they are stored.
template <typename F>
void with_targets(Labels labels, int64_t offset, F&& f) {
  if (labels.format == LabelFormat::kDenseFloat32)
    f(static_cast<const float*>(labels.data) + offset);
  else
    f(static_cast<const int32_t*>(labels.data) + offset);
}

// What a call needs beyond its inputs: whether label smoothing's vector u is on, and what it is
// (the class weights, or all ones: then no memory is read for it, the loops take Ones).
struct Context {
  const LossCall& c;
  bool dense;
  unsigned needs;
  bool smoothing;
  float cap;  // softcap (> 0: the loss sees cap·tanh(q/cap)), else 0

  explicit Context(const LossCall& call) : c(call), dense(is_dense(call.labels.format)), cap(call.params.softcap) {
    smoothing = !dense && call.params.label_smoothing > 0.0f;
    needs = kind_needs(call.params.kind) | (smoothing ? kNeedTargets : 0u);
  }
  Context(const Context&) = delete;

  bool ignored(int64_t r) const { return is_ignored(c.labels, r, c.params); }
  // Logit (r, j) as the loss sees it.
  float logit(int64_t r, int64_t j) const {
    const float q = c.logits[r * c.classes + j];
    return cap > 0.0f ? softcap_one(q, cap) : q;
  }
  double row_weight(int64_t r) const { return c.row_weights != nullptr ? c.row_weights[r] : 1.0; }
  double omega(int64_t y) const { return c.class_weights != nullptr ? c.class_weights[y] : 1.0; }
  double u_at(int64_t y) const { return !smoothing ? 0.0 : c.class_weights != nullptr ? c.class_weights[y] : 1.0; }
  // Calls f with the smoothing vector from column `offset`: the class weights, or Ones.
  template <typename F>
  void with_u(int64_t offset, F&& f) const {
    if (c.class_weights != nullptr)
      f(c.class_weights + offset);
    else
      f(Ones{});
  }
};

// The fused pass's groups of short rows: at most kMaxGroup rows, and about kGroupElements logits.
constexpr int64_t kMaxGroup = 16;
constexpr int64_t kGroupElements = 2048;

// Slices of at most this many columns when softcap is on: each thread caps a slice into its
// scratch (256 KiB) before the loops read it.
constexpr int64_t kCappedSlice = int64_t{1} << 16;

// The plan of a pass: at most max_slice columns per slice (0: no limit), kCappedSlice with softcap.
Plan plan_for(const Context& x, int64_t max_slice = 0) {
  return make_plan(x.c.rows, x.c.classes, x.cap > 0.0f && (max_slice == 0 || max_slice > kCappedSlice) ? kCappedSlice : max_slice);
}

// The logits of slice s as the loss sees them, from column s.begin: the row itself, or with
// softcap cap·tanh(q/cap) written into this thread's scratch (one tanh per element per pass; the
// pointer is good until this thread's next call).
std::vector<float>& scratch() {
  thread_local std::vector<float> capped;
  return capped;
}

const float* slice_logits(const Context& x, const Slice& s) {
  const float* q = x.c.logits + s.row * x.c.classes + s.begin;
  if (x.cap <= 0.0f) return q;
  scratch().resize(static_cast<size_t>(s.end - s.begin));
  softcap_store(q, s.end - s.begin, x.cap, scratch().data());
  return scratch().data();
}

// What the gradient pass knows of a slice's capped logits (softcap): nothing (kRaw), that this
// thread's scratch holds them (kHeld: its last slice_logits was this slice's), or that the fused
// pass took the polynomial path (kNear: the stored exponentials carry the chain factor already).
enum class Capped { kRaw, kHeld, kNear };

// With softcap, the chain factor 1 − tanh²(q/cap) on the gradient of slice s, times `scale` in the
// same sweep: from the slice's capped logits where this thread's scratch holds them (see
// softcap_chain), else from the raw logits (capping the slice again for it would cost a tanh and
// a store per logit: measured slower).
void chain_slice(const Context& x, const Slice& s, Capped capped, float* grad, float scale = 1.0f) {
  if (x.cap <= 0.0f) return;
  const int64_t at = s.row * x.c.classes + s.begin;
  if (capped == Capped::kHeld)
    softcap_chain(grad + at, scratch().data(), x.c.logits + at, s.end - s.begin, x.cap, scale);
  else
    softcap_chain_logits(grad + at, x.c.logits + at, s.end - s.begin, x.cap, scale);
}

// The same on one entry of the gradient.
double chain_one(const Context& x, int64_t r, int64_t j) {
  if (x.cap <= 0.0f) return 1.0;
  const double y = std::fabs(static_cast<double>(x.c.logits[r * x.c.classes + j]) / x.cap);
  const double s = std::exp(-2.0 * y);
  return 4.0 * s / ((1.0 + s) * (1.0 + s));
}

// Columns [c0, c1) of row r split around the sparse target y: [c0, mid0) and [mid1, c1).
struct AroundTarget {
  int64_t mid0, mid1;
  // The target's column within slice s, or −1 when the slice does not hold it.
  int64_t skip(const Slice& s) const { return mid1 > mid0 ? mid0 - s.begin : -1; }
};

AroundTarget around_target(Labels labels, const Slice& s) {
  const int64_t y = sparse_label(labels, s.row);
  return {std::clamp(y, s.begin, s.end), std::clamp(y + 1, s.begin, s.end)};
}

// softcap's path for a sparse slice of the plain kinds (no extra statistics) whose |q| are all
// ≤ cap (and ≤ kNearMaxLogit), the common case: one sweep for the max and the range, then the
// exponentials of the capped logits by the polynomial tanh for that range straight from q, with
// no capped copy; in the fused pass (g not null) stored with the chain factor on them (the
// gradient pass then only scales: Capped::kNear). False, having written nothing, for any other
// slice; then *raw_max is the slice's raw max without the target (NaN when the slice holds one),
// which the general path may reuse.
bool slice_near(const Context& x, const Slice& s, const AroundTarget& a, float* g, Partial& acc, float* raw_max = nullptr) {
  const float* q = x.c.logits + s.row * x.c.classes + s.begin;  // q[j − s.begin]: column j
  const int64_t n = s.end - s.begin, skip = a.skip(s);
  const Extent e = slice_extent_without(q, n, skip);
  if (raw_max != nullptr) *raw_max = e.has_nan ? NAN : e.max;
  // NaN fails the test; a slice of the target alone (max −∞) takes the general path.
  if (e.has_nan || !(e.abs_max <= x.cap && e.abs_max <= kNearMaxLogit) || e.max == -INFINITY) return false;
  const NearCap nc = near_cap(x.cap, e.abs_max);
  const float M = softcap_near_one(e.max, nc);
  acc = empty_partial();
  acc.max = M;
  acc.sum = exp_near_without(q, n, skip, nc, M, g == nullptr ? nullptr : g + s.begin);
  return true;
}

// Statistics of one slice. The sparse target is left out here and added in finish_sparse,
// which keeps 1 − p_y exact.
template <unsigned kNeeds>
Partial slice_partial(const Context& x, const Slice& s) {
  constexpr bool kArgmax = (kNeeds & kNeedArgmax) != 0;
  const LossCall& c = x.c;
  Partial acc = empty_partial();
  if (!x.dense && x.ignored(s.row)) return acc;
  if constexpr (kNeeds == 0) {
    if (x.cap > 0.0f && !x.dense && slice_near(x, s, around_target(c.labels, s), nullptr, acc)) return acc;
  }
  const float* q = slice_logits(x, s);  // q[j − s.begin]: column j
  if (x.dense) {
    with_targets(c.labels, s.row * c.classes + s.begin, [&](auto t) { accumulate_dense<kArgmax>(q, t, s.end - s.begin, s.begin, acc); });
    return acc;
  }
  const AroundTarget a = around_target(c.labels, s);
  if (kNeeds & kNeedTargets) {
    x.with_u(0, [&](auto u) {
      accumulate_dense<kArgmax>(q, u + s.begin, a.mid0 - s.begin, s.begin, acc);
      accumulate_dense<kArgmax>(q + (a.mid1 - s.begin), u + a.mid1, s.end - a.mid1, a.mid1, acc);
    });
  } else if (kNeeds & kNeedExpLogit) {
    accumulate_sparse_logit<kArgmax>(q, a.mid0 - s.begin, s.begin, acc);
    accumulate_sparse_logit<kArgmax>(q + (a.mid1 - s.begin), s.end - a.mid1, a.mid1, acc);
  } else if (kArgmax) {
    accumulate_sparse<kArgmax>(q, a.mid0 - s.begin, s.begin, acc);
    accumulate_sparse<kArgmax>(q + (a.mid1 - s.begin), s.end - a.mid1, a.mid1, acc);
  } else {
    accumulate_sparse_without(q, s.end - s.begin, a.skip(s), acc);
  }
  return acc;
}

// The row's gradient scalars; none for an ignored row, whose label may be any number
// (ignoreIndex) and has no class weight to read.
RowGrad row_grad(const Context& x, int64_t r, const RowStats& s) {
  if (x.dense) return dense_row(x.c.params, s);
  if (x.ignored(r)) return RowGrad{};
  const int64_t y = sparse_label(x.c.labels, r);
  return sparse_row(x.c.params, s, x.c.classes, x.omega(y), s.argmax == y);
}

// Finishes row r from its merged partial: statistics and loss value (0 on an ignored row); with
// `grad`, the scalars of the row's gradient there (row_grad's: none on an ignored row).
RowStats finish_row(const Context& x, int64_t r, const Partial& acc, float* row_loss, RowGrad* grad = nullptr) {
  const LossCall& c = x.c;
  const bool counted = x.dense || !x.ignored(r);
  const int64_t y = x.dense || !counted ? 0 : sparse_label(c.labels, r);
  // Initialized in place, not assigned: a RowStats copied right after its fields were written
  // stalls on store forwarding (measured: 9% of the training pass at 256 × 10).
  RowStats s = x.dense ? finish_dense(acc) : counted ? finish_sparse(acc, x.logit(r, y), y, x.u_at(y)) : RowStats{};
  const RowGrad g = row_grad(x, r, s);  // an ignored row's: none, value 0
  s.value = g.value;
  if (grad != nullptr) *grad = g;
  store_stats(s, c.stats + r * kStatsPerRow);
  const double w = x.row_weight(r);
  row_loss[r] = w == 1.0 ? s.value : static_cast<float>(w * s.value);  // 0·∞ stays NaN, as tfjs's mul
  return s;
}

int64_t slice_index(const Plan& plan, const Slice& s) { return s.row * plan.parts + s.begin / plan.slice; }

// Merges each row's slice partials (plan.parts > 1) and finishes the rows.
void finish_split_rows(const Context& x, const Plan& plan, const std::vector<Partial>& partials, float* row_loss) {
  for (int64_t r = 0; r < plan.rows; ++r) {
    Partial acc = partials[r * plan.parts];
    for (int64_t k = 1; k < plan.parts; ++k) merge(acc, partials[r * plan.parts + k]);
    finish_row(x, r, acc, row_loss);
  }
}

// A row whose gradient is NaN whole, in every path and kind: its value is NaN, or its softmax is
// undefined (a NaN logit, a row entirely −∞ or holding +∞: log Σ is NaN) even where the value is
// not (its target's class weight 0). Some entries' arithmetic would otherwise give 0 or a number,
// and differently in the fused and the separate pass.
bool nan_row(const RowStats& s) { return s.value != s.value || s.log_sum != s.log_sum; }

// Gradient of one slice, w·(a p + u (b + d p)), from e_j: the logits (kFromLogits) or the
// exponentials exp(q − e_shift) already stored in grad. The sparse target element (and
// MPCE's argmax term) is written afterwards (fix_sparse_row). Ignored rows get zeros.
// With softcap and stored exponentials, `capped` says what is known of the slice's capped logits.
// `r` is row_grad(x, sl.row, s), which the caller may hold already (the fused pass's whole rows).
template <bool kFromLogits>
void slice_gradient(const Context& x, const RowStats& s, const RowGrad& r, float e_shift, double w, const Slice& sl, float* grad,
                    Capped capped = Capped::kRaw) {
  const LossCall& c = x.c;
  float* g = grad + sl.row * c.classes + sl.begin;
  const int64_t n = sl.end - sl.begin;
  if (!x.dense && x.ignored(sl.row)) {
    std::fill(g, g + n, 0.0f);
    return;
  }
  if (nan_row(s)) {
    std::fill(g, g + n, NAN);
    return;
  }
  // e_j from the logits as the loss sees them, or from the exponentials the fused pass stored in g.
  const float* src = kFromLogits ? slice_logits(x, sl) : g;
  if (kFromLogits) capped = Capped::kHeld;  // slice_logits just capped the slice into scratch()
  // e_j · to_p = p_j. An all-masked stored slice (e_shift −∞) holds zeros.
  const double to_p = e_shift == -INFINITY ? 0.0 : std::exp(static_cast<double>(e_shift) - s.max - s.log_sum);
  const float k = static_cast<float>(w * r.a * to_p), b = static_cast<float>(w * r.b), kd = static_cast<float>(w * r.d * to_p);
  if (x.dense) {
    with_targets(c.labels, sl.row * c.classes + sl.begin, [&](auto t) { dense_gradient<kFromLogits>(src, t, n, e_shift, k, b, kd, g); });
  } else if (x.smoothing) {
    x.with_u(sl.begin, [&](auto u) { dense_gradient<kFromLogits>(src, u, n, e_shift, k, b, kd, g); });
  } else if (r.cot != 0.0 && e_shift != -INFINITY) {
    // Complement entropy: r_j = e_j·exp(e_shift − cot_lse). When 1 − p_y < e^−60 the stored e_j
    // of the classes that matter are subnormal and that factor overflows float: then r_j comes
    // from the logits, shifted by cot_lse (rounded to float; the rounding goes into the factor).
    // The logits as the loss sees them: capped again only when this thread's scratch lacks them.
    const float* x_row = capped != Capped::kHeld ? slice_logits(x, sl)
                         : x.cap > 0.0f          ? scratch().data()
                                                 : c.logits + sl.row * c.classes + sl.begin;
    capped = Capped::kHeld;
    const bool from_logits = kFromLogits || static_cast<double>(e_shift) - r.cot_lse > 60.0;
    const float shift = from_logits ? static_cast<float>(r.cot_lse) : e_shift;
    const float kc = static_cast<float>(w * r.cot * std::exp(static_cast<double>(shift) - r.cot_lse));
    const float kk = from_logits ? static_cast<float>(w * r.a * std::exp(static_cast<double>(shift) - s.max - s.log_sum)) : k;
    const float c0 = static_cast<float>(r.cot_lse + r.cot_value - shift);  // relative to shift (row_blocks.h)
    if (from_logits)
      complement_gradient<true>(x_row, x_row, n, shift, kk, kc, c0, g);
    else
      complement_gradient<false>(src, x_row, n, shift, kk, kc, c0, g);
  } else if (!kFromLogits && x.cap > 0.0f && capped != Capped::kNear) {
    // g = k·e_j·chain_j over the stored exponentials: the scale and the chain factor in one sweep.
    chain_slice(x, sl, capped, grad, k);
    return;
  } else {
    sparse_gradient<kFromLogits>(src, n, e_shift, k, g);
    if (capped == Capped::kNear) return;  // the chain factor is on the stored exponentials
  }
  chain_slice(x, sl, capped, grad);
}

template <bool kFromLogits>
void slice_gradient(const Context& x, const RowStats& s, float e_shift, double w, const Slice& sl, float* grad,
                    Capped capped = Capped::kRaw) {
  slice_gradient<kFromLogits>(x, s, row_grad(x, sl.row, s), e_shift, w, sl, grad, capped);
}

// Sparse row r's target entry from the exact 1 − p_y, and MPCE's term at the argmax, over what
// slice_gradient wrote there (g: row_grad of the row; w: its weight).
void fix_sparse_row(const Context& x, int64_t r, const RowStats& s, const RowGrad& g, double w, float* grad) {
  const LossCall& c = x.c;
  if (x.dense || x.ignored(r) || nan_row(s)) return;  // a NaN row is NaN already (slice_gradient)
  const int64_t y = sparse_label(c.labels, r);
  const bool k_is_y = s.argmax == y;
  float* row = grad + r * c.classes;
  row[y] = static_cast<float>(w * sparse_target_gradient(g, s, x.u_at(y), k_is_y) * chain_one(x, r, y));
  if (g.ck != 0.0 && !k_is_y && s.argmax >= 0 && s.argmax < c.classes)
    row[s.argmax] = static_cast<float>(w * sparse_argmax_gradient(g, s, x.u_at(s.argmax)) * chain_one(x, r, s.argmax));
}

// fix_sparse_row on every row, from the stored statistics (after the passes over split rows).
template <typename Weight>
void fix_sparse_rows(const Context& x, Weight weight, float* grad) {
  const LossCall& c = x.c;
  if (x.dense) return;
  for (int64_t r = 0; r < c.rows; ++r) {
    if (x.ignored(r)) continue;
    const RowStats s = load_stats(c.stats + r * kStatsPerRow);
    if (nan_row(s)) continue;
    fix_sparse_row(x, r, s, row_grad(x, r, s), weight(r), grad);
  }
}

// Pass 1 of the fused pass on one slice: grad = exp(q − M) with the slice's own max M, and
// the slice's partial statistics relative to M. *near says whether the softcap polynomial path
// ran (slice_near).
template <unsigned kNeeds>
Partial fused_slice_exp(const Context& x, const Slice& s, float* grad, bool* near) {
  const LossCall& c = x.c;
  float* g = grad + s.row * c.classes;
  *near = false;
  if (!x.dense && x.ignored(s.row)) return empty_partial();  // its gradient is zero-filled later
  // Where the range sweep ran and the slice holds a logit beyond the cap (and no NaN), its capped
  // max is the cap of its raw max (tanh is monotonic): no second sweep for it.
  float capped_max = NAN;
  if constexpr (kNeeds == 0) {
    if (x.cap > 0.0f && !x.dense) {
      Partial acc;
      float raw_max;
      if ((*near = slice_near(x, s, around_target(c.labels, s), g, acc, &raw_max))) return acc;
      if (raw_max == raw_max) capped_max = softcap_one(raw_max, x.cap);
    }
  }
  const float* q = slice_logits(x, s);  // q[j − s.begin]: column j
  const AroundTarget a = x.dense ? AroundTarget{s.end, s.end} : around_target(c.labels, s);
  const int64_t skip = a.skip(s);
  int nan_a = 0, nan_b = 0;
  float ma = capped_max, mb = capped_max;
  if (capped_max != capped_max) {
    if (kNeeds & kNeedArgmax) {
      ma = slice_max(q, a.mid0 - s.begin, &nan_a);  // the argmax below wants each side's max
      mb = slice_max(q + (a.mid1 - s.begin), s.end - a.mid1, &nan_b);
    } else {
      ma = mb = slice_max_without(q, s.end - s.begin, skip, &nan_a);
    }
  }
  const float M = ma > mb ? ma : mb;
  if (M == -INFINITY && !nan_a && !nan_b) {
    // Everything masked: exp(−∞) = 0, but exp(−∞ − (−∞)) would be NaN.
    std::fill(g + s.begin, g + s.end, 0.0f);
    return slice_partial<kNeeds>(x, s);  // the targets' mass and Σ t·q
  }
  Partial acc = empty_partial();
  if (x.dense) {
    with_targets(c.labels, s.row * c.classes + s.begin, [&](auto t) { exp_store_dense(q, t, s.end - s.begin, M, g + s.begin, acc); });
  } else if (kNeeds & kNeedTargets) {
    x.with_u(0, [&](auto u) {
      exp_store_dense(q, u + s.begin, a.mid0 - s.begin, M, g + s.begin, acc);
      exp_store_dense(q + (a.mid1 - s.begin), u + a.mid1, s.end - a.mid1, M, g + a.mid1, acc);
    });
  } else if (kNeeds & kNeedExpLogit) {
    exp_store_sum_logit(q, a.mid0 - s.begin, M, g + s.begin, acc);
    exp_store_sum_logit(q + (a.mid1 - s.begin), s.end - a.mid1, M, g + a.mid1, acc);
  } else {
    acc.max = M;
    acc.sum = exp_store_sum_without(q, s.end - s.begin, skip, M, g + s.begin);
  }
  if (kNeeds & kNeedArgmax) {
    const int64_t ia = ma == M ? first_index_of_max(q, a.mid0 - s.begin, M) : -1;
    acc.argmax = ia >= 0 ? s.begin + ia : a.mid1 + first_index_of_max(q + (a.mid1 - s.begin), s.end - a.mid1, M);
  }
  if (nan_a || nan_b) acc.sum = NAN;
  return acc;
}

template <unsigned kNeeds>
void forward_impl(const Context& x, float* row_loss) {
  const Plan plan = plan_for(x);
  if (plan.parts == 1) {
    for_each_slice(plan, [&](const Slice& s) { finish_row(x, s.row, slice_partial<kNeeds>(x, s), row_loss); });
  } else {
    std::vector<Partial> partials(static_cast<size_t>(plan.tasks()));
    for_each_slice(plan, [&](const Slice& s) { partials[slice_index(plan, s)] = slice_partial<kNeeds>(x, s); });
    finish_split_rows(x, plan, partials, row_loss);
  }
}

template <unsigned kNeeds>
void forward_backward_impl(const Context& x, float* row_loss, double grad_scale, float* grad) {
  // Slices of at most 2^16 elements (256 KiB): the stored exponentials are rescaled from L2.
  const Plan plan = plan_for(x, int64_t{1} << 16);
  if (plan.parts == 1) {
    // Whole rows, both passes while the rows are in cache, a few short ones at a time: each step
    // over the group's rows before the next. A short row's time is the latency of one chain (its
    // exponentials and their sum, two logs, another exp); the group's chains are independent,
    // and the CPU overlaps them. A row alone in its group (long rows) finds its capped logits
    // still in this thread's scratch (softcap's general path) when its gradient pass comes.
    const int64_t group = std::clamp<int64_t>(kGroupElements / x.c.classes, 1, kMaxGroup);
    const Capped held = group == 1 ? Capped::kHeld : Capped::kRaw;
    ThreadPool::instance().parallel_for(plan.tasks(), plan.grain, [&](int64_t r0, int64_t r1) {
      Partial acc[kMaxGroup];
      RowStats st[kMaxGroup];
      RowGrad rg[kMaxGroup];
      bool near[kMaxGroup];
      for (int64_t g0 = r0; g0 < r1; g0 += group) {
        const int64_t n = std::min(group, r1 - g0);
        for (int64_t i = 0; i < n; ++i) acc[i] = fused_slice_exp<kNeeds>(x, plan.at(g0 + i), grad, &near[i]);
        for (int64_t i = 0; i < n; ++i) st[i] = finish_row(x, g0 + i, acc[i], row_loss, &rg[i]);
        for (int64_t i = 0; i < n; ++i) {
          const double w = grad_scale * x.row_weight(g0 + i);
          slice_gradient<false>(x, st[i], rg[i], acc[i].max, w, plan.at(g0 + i), grad, near[i] ? Capped::kNear : held);
          fix_sparse_row(x, g0 + i, st[i], rg[i], w, grad);
        }
      }
    });
    return;
  }
  // Split rows: every slice's partial, the rows finished, then every slice's gradient.
  std::vector<Partial> partials(static_cast<size_t>(plan.tasks()));
  std::vector<char> near(static_cast<size_t>(plan.tasks()));
  for_each_slice(plan, [&](const Slice& s) {
    bool n;
    partials[slice_index(plan, s)] = fused_slice_exp<kNeeds>(x, s, grad, &n);
    near[slice_index(plan, s)] = n;
  });
  finish_split_rows(x, plan, partials, row_loss);
  for_each_slice(plan, [&](const Slice& s) {
    slice_gradient<false>(x, load_stats(x.c.stats + s.row * kStatsPerRow), partials[slice_index(plan, s)].max,
                          grad_scale * x.row_weight(s.row), s, grad, near[slice_index(plan, s)] ? Capped::kNear : Capped::kRaw);
  });
  fix_sparse_rows(
      x, [&](int64_t r) { return grad_scale * x.row_weight(r); }, grad);
}

}  // namespace

int64_t find_bad_label(const LossCall& c) {
  if (is_dense(c.labels.format)) return -1;
  for (int64_t r = 0; r < c.rows; ++r)
    if (is_bad_label(c.labels, r, c.classes, c.params)) return r;
  return -1;
}

void forward(const LossCall& call, float* row_loss) {
  const Context x(call);
  with_needs(x.needs, [&](auto needs) { forward_impl<decltype(needs)::value>(x, row_loss); });
}

void backward(const LossCall& call, const float* dy, int64_t dy_len, double dy_scale, float* grad) {
  const Context x(call);
  const auto weight = [&](int64_t r) { return static_cast<double>(dy[dy_len == 1 ? 0 : r]) * dy_scale * x.row_weight(r); };
  for_each_slice(plan_for(x), [&](const Slice& s) {
    const RowStats st = load_stats(call.stats + s.row * kStatsPerRow);
    slice_gradient<true>(x, st, st.max, weight(s.row), s, grad);
  });
  fix_sparse_rows(x, weight, grad);
}

void forward_backward(const LossCall& call, float* row_loss, double grad_scale, float* grad) {
  const Context x(call);
  with_needs(x.needs, [&](auto needs) { forward_backward_impl<decltype(needs)::value>(x, row_loss, grad_scale, grad); });
}

void scale_rows(float* grad, int64_t rows, int64_t classes, const float* dy, int64_t dy_len, double scale) {
  for_each_slice(make_plan(rows, classes), [&](const Slice& s) {
    const float k = static_cast<float>(static_cast<double>(dy[dy_len == 1 ? 0 : s.row]) * scale);
    float* g = grad + s.row * classes + s.begin;
    sparse_gradient<false>(g, s.end - s.begin, 0.0f, k, g);
  });
}

}  // namespace cpu

MeanDivisors mean_divisors(const LossCall& c) {
  MeanDivisors d{0.0, 0.0, 0.0, 0.0};
  const bool dense = is_dense(c.labels.format);
  for (int64_t r = 0; r < c.rows; ++r) {
    if (is_ignored(c.labels, r, c.params)) continue;
    const double s = c.row_weights != nullptr ? c.row_weights[r] : 1.0;
    d.class_weights += (!dense && c.class_weights != nullptr) ? c.class_weights[sparse_label(c.labels, r)] : 1.0;
    d.rows += 1.0;
    d.sample_weights += s;
    d.nonzero += s != 0.0 ? 1.0 : 0.0;
  }
  return d;
}

}  // namespace mixloss
