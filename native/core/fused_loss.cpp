#include "fused_loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "row_blocks.h"
#include "row_plan.h"

namespace mixloss {

namespace {

// Calls f with the dense targets of a row slice, typed as they are stored.
template <typename F>
void with_targets(Labels labels, int64_t offset, F&& f) {
  if (labels.format == LabelFormat::kDenseFloat32) f(static_cast<const float*>(labels.data) + offset);
  else f(static_cast<const int32_t*>(labels.data) + offset);
}

// Columns [c0, c1) of row r split around the sparse target y: [c0, mid0) and [mid1, c1).
struct AroundTarget {
  int64_t mid0, mid1;
};

AroundTarget around_target(Labels labels, const Slice& s) {
  const int64_t y = sparse_label(labels, s.row);
  return {std::clamp(y, s.begin, s.end), std::clamp(y + 1, s.begin, s.end)};
}

// Statistics of one slice. The sparse target is left out here and added in finish_sparse,
// which keeps 1 − p_y exact.
Partial slice_partial(const float* logits, Labels labels, int64_t classes, const Slice& s) {
  const float* row = logits + s.row * classes;
  Partial acc = empty_partial();
  if (is_dense(labels.format)) {
    with_targets(labels, s.row * classes + s.begin, [&](auto t) { accumulate_dense(row + s.begin, t, s.end - s.begin, acc); });
  } else {
    const AroundTarget a = around_target(labels, s);
    accumulate_sparse(row + s.begin, a.mid0 - s.begin, acc);
    accumulate_sparse(row + a.mid1, s.end - a.mid1, acc);
  }
  return acc;
}

// Finishes row r from its merged partial: statistics and loss value.
RowStats finish_row(const float* logits, int64_t classes, Labels labels, const LossParams& P, int64_t r,
                    const Partial& acc, float* stats, float* row_loss) {
  const RowStats s = is_dense(labels.format) ? finish_dense(acc) : finish_sparse(acc, logits[r * classes + sparse_label(labels, r)]);
  store_stats(s, stats + r * kStatsPerRow);
  row_loss[r] = is_dense(labels.format) ? dense_row(P, s).value : sparse_row(P, s).value;
  return s;
}

int64_t slice_index(const Plan& plan, const Slice& s) { return s.row * plan.parts + s.begin / plan.slice; }

// Merges each row's slice partials (plan.parts > 1) and finishes the rows.
void finish_split_rows(const float* logits, Labels labels, const LossParams& P, const Plan& plan,
                       const std::vector<Partial>& partials, float* stats, float* row_loss) {
  for (int64_t r = 0; r < plan.rows; ++r) {
    Partial acc = partials[r * plan.parts];
    for (int64_t k = 1; k < plan.parts; ++k) merge(acc, partials[r * plan.parts + k]);
    finish_row(logits, plan.classes, labels, P, r, acc, stats, row_loss);
  }
}

double sum(const float* x, int64_t n) {
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) total += x[i];
  return total;
}

// Gradient of one slice, w·(a p + b t + d t p), from e_j: the logits (kFromLogits) or the
// exponentials exp(q − e_shift) already stored in grad. The sparse target element is written
// afterwards (fix_sparse_targets).
template <bool kFromLogits>
void slice_gradient(const float* logits, Labels labels, int64_t classes, const LossParams& P, const RowStats& s,
                    float e_shift, double w, const Slice& sl, float* grad) {
  const float* src = (kFromLogits ? logits : grad) + sl.row * classes + sl.begin;
  float* g = grad + sl.row * classes + sl.begin;
  const int64_t n = sl.end - sl.begin;
  // e_j · to_p = p_j. An all-masked stored slice (e_shift −∞) holds zeros.
  const double to_p = e_shift == -INFINITY ? 0.0 : std::exp(static_cast<double>(e_shift) - s.max - s.log_sum);
  if (!is_dense(labels.format)) {
    sparse_gradient<kFromLogits>(src, n, e_shift, static_cast<float>(w * sparse_row(P, s).c * to_p), g);
    return;
  }
  const DenseRow d = dense_row(P, s);
  const float k = static_cast<float>(w * d.a * to_p), b = static_cast<float>(w * d.b), kd = static_cast<float>(w * d.d * to_p);
  with_targets(labels, sl.row * classes + sl.begin, [&](auto t) { dense_gradient<kFromLogits>(src, t, n, e_shift, k, b, kd, g); });
}

// −w·c·(1 − p_y) at each row's target, with 1 − p_y from the other classes' mass: exact near p_y = 1.
template <typename Weight>
void fix_sparse_targets(Labels labels, int64_t rows, int64_t classes, const LossParams& P, const float* stats,
                        Weight weight, float* grad) {
  if (is_dense(labels.format)) return;
  for (int64_t r = 0; r < rows; ++r) {
    const RowStats s = load_stats(stats + r * kStatsPerRow);
    grad[r * classes + sparse_label(labels, r)] = static_cast<float>(-weight(r) * sparse_row(P, s).c * s.el);
  }
}

// Pass 1 of the fused pass on one slice: grad = exp(q − M) with the slice's own max M, and
// the slice's partial statistics relative to M.
Partial fused_slice_exp(const float* logits, Labels labels, int64_t classes, const Slice& s, float* grad) {
  const float* row = logits + s.row * classes;
  float* g = grad + s.row * classes;
  const bool dense = is_dense(labels.format);
  const AroundTarget a = dense ? AroundTarget{s.end, s.end} : around_target(labels, s);
  int nan_a = 0, nan_b = 0;
  const float ma = slice_max(row + s.begin, a.mid0 - s.begin, &nan_a);
  const float mb = slice_max(row + a.mid1, s.end - a.mid1, &nan_b);
  const float M = ma > mb ? ma : mb;
  if (M == -INFINITY && !nan_a && !nan_b) {
    // Everything masked: exp(−∞) = 0, but exp(−∞ − (−∞)) would be NaN.
    std::fill(g + s.begin, g + s.end, 0.0f);
    return dense ? slice_partial(logits, labels, classes, s) : empty_partial();  // dense: mass and Σ t·q
  }
  Partial acc = empty_partial();
  if (dense) {
    with_targets(labels, s.row * classes + s.begin,
                 [&](auto t) { exp_store_dense(row + s.begin, t, s.end - s.begin, M, g + s.begin, acc); });
  } else {
    acc.max = M;
    acc.sum = exp_store_sum(row + s.begin, a.mid0 - s.begin, M, g + s.begin) +
              exp_store_sum(row + a.mid1, s.end - a.mid1, M, g + a.mid1);
  }
  if (nan_a || nan_b) acc.sum = NAN;
  return acc;
}

}  // namespace

int64_t find_bad_label(Labels labels, int64_t rows, int64_t classes) {
  if (is_dense(labels.format)) return -1;
  for (int64_t r = 0; r < rows; ++r)
    if (is_bad_label(labels, r, classes)) return r;
  return -1;
}

double loss_forward(const float* logits, int64_t rows, int64_t classes, Labels labels, const LossParams& params,
                    float* stats, float* row_loss) {
  const Plan plan = make_plan(rows, classes);
  if (plan.parts == 1) {
    for_each_slice(plan, [&](const Slice& s) {
      finish_row(logits, classes, labels, params, s.row, slice_partial(logits, labels, classes, s), stats, row_loss);
    });
  } else {
    std::vector<Partial> partials(static_cast<size_t>(plan.tasks()));
    for_each_slice(plan, [&](const Slice& s) { partials[slice_index(plan, s)] = slice_partial(logits, labels, classes, s); });
    finish_split_rows(logits, labels, params, plan, partials, stats, row_loss);
  }
  return sum(row_loss, rows);
}

void loss_backward(const float* logits, int64_t rows, int64_t classes, Labels labels, const LossParams& params,
                   const float* stats, const float* dy, int64_t dy_len, double dy_scale, float* grad) {
  const auto weight = [&](int64_t r) { return static_cast<double>(dy[dy_len == 1 ? 0 : r]) * dy_scale; };
  for_each_slice(make_plan(rows, classes), [&](const Slice& s) {
    const RowStats st = load_stats(stats + s.row * kStatsPerRow);
    slice_gradient<true>(logits, labels, classes, params, st, st.max, weight(s.row), s, grad);
  });
  fix_sparse_targets(labels, rows, classes, params, stats, weight, grad);
}

double loss_forward_backward(const float* logits, int64_t rows, int64_t classes, Labels labels,
                             const LossParams& params, float* stats, float* row_loss, double grad_scale, float* grad) {
  // Slices of at most 2^16 elements (256 KiB): the stored exponentials are rescaled from L2.
  const Plan plan = make_plan(rows, classes, int64_t{1} << 16);
  if (plan.parts == 1) {
    // Whole rows per task: both passes while the row is in cache.
    for_each_slice(plan, [&](const Slice& s) {
      const Partial acc = fused_slice_exp(logits, labels, classes, s, grad);
      const RowStats st = finish_row(logits, classes, labels, params, s.row, acc, stats, row_loss);
      slice_gradient<false>(logits, labels, classes, params, st, acc.max, grad_scale, s, grad);
    });
  } else {
    std::vector<Partial> partials(static_cast<size_t>(plan.tasks()));
    for_each_slice(plan, [&](const Slice& s) { partials[slice_index(plan, s)] = fused_slice_exp(logits, labels, classes, s, grad); });
    finish_split_rows(logits, labels, params, plan, partials, stats, row_loss);
    for_each_slice(plan, [&](const Slice& s) {
      slice_gradient<false>(logits, labels, classes, params, load_stats(stats + s.row * kStatsPerRow), partials[slice_index(plan, s)].max,
                            grad_scale, s, grad);
    });
  }
  fix_sparse_targets(labels, rows, classes, params, stats, [&](int64_t) { return grad_scale; }, grad);
  return sum(row_loss, rows);
}

void scale_rows(float* grad, int64_t rows, int64_t classes, const float* dy, int64_t dy_len, double scale) {
  for_each_slice(make_plan(rows, classes), [&](const Slice& s) {
    const float k = static_cast<float>(static_cast<double>(dy[dy_len == 1 ? 0 : s.row]) * scale);
    float* g = grad + s.row * classes + s.begin;
    sparse_gradient<false>(g, s.end - s.begin, 0.0f, k, g);
  });
}

}  // namespace mixloss
