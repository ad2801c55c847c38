#include "fused_loss.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "row_blocks.h"
#include "thread_pool.h"

namespace mixloss {

namespace {

// How a [rows, classes] loop is cut into tasks. Whole rows per task when there are enough
// rows to keep every thread busy; otherwise each row is cut into `parts` column slices so
// that a few huge rows still use every core.
struct Plan {
  int64_t parts;       // slices per row
  int64_t slice;       // columns per slice (the last may be shorter)
  int64_t grain;       // tasks handed to a thread at a time
};

constexpr int64_t kMinTaskElements = 1 << 14;  // below this a task is not worth a thread

Plan make_plan(int64_t rows, int64_t classes) {
  const int64_t threads = ThreadPool::instance().size();
  Plan p{1, classes, 1};
  const int64_t want = threads * 4;  // a few tasks per thread evens out the load
  if (rows < want && classes >= 2 * kMinTaskElements) {
    p.parts = std::min((want + rows - 1) / rows, classes / kMinTaskElements);
    p.slice = (classes + p.parts - 1) / p.parts;
    p.parts = (classes + p.slice - 1) / p.slice;
  }
  // Group short rows so that a task holds at least kMinTaskElements.
  if (p.parts == 1) p.grain = std::max<int64_t>(1, kMinTaskElements / std::max<int64_t>(classes, 1));
  return p;
}

int64_t sparse_label(Labels labels, int64_t r) {
  return labels.format == LabelFormat::kSparseInt32
             ? static_cast<const int32_t*>(labels.data)[r]
             : static_cast<int64_t>(static_cast<const float*>(labels.data)[r]);
}

// Statistics of one slice [c0, c1) of row r.
Partial slice_partial(const float* row, Labels labels, int64_t r, int64_t classes, int64_t c0, int64_t c1) {
  Partial acc = empty_partial();
  switch (labels.format) {
    case LabelFormat::kSparseInt32:
    case LabelFormat::kSparseFloat32: {
      // The target is left out here and added in finish_sparse, which keeps 1 − p_y exact.
      const int64_t y = sparse_label(labels, r);
      const int64_t mid0 = std::clamp(y, c0, c1), mid1 = std::clamp(y + 1, c0, c1);
      accumulate_sparse(row + c0, mid0 - c0, acc);
      accumulate_sparse(row + mid1, c1 - mid1, acc);
      break;
    }
    case LabelFormat::kDenseFloat32:
      accumulate_dense(row + c0, static_cast<const float*>(labels.data) + r * classes + c0, c1 - c0, acc);
      break;
    case LabelFormat::kDenseInt32:
      accumulate_dense(row + c0, static_cast<const int32_t*>(labels.data) + r * classes + c0, c1 - c0, acc);
      break;
  }
  return acc;
}

RowStats finish_row(const float* row, Labels labels, int64_t r, const Partial& acc) {
  return is_dense(labels.format) ? finish_dense(acc) : finish_sparse(acc, row[sparse_label(labels, r)]);
}

void store(const RowStats& s, float* out) {
  out[0] = s.max;
  out[1] = s.log_sum;
  out[2] = s.ce;
  out[3] = s.el;
  out[4] = s.mass;
}

RowStats load(const float* in) { return {in[0], in[1], in[2], in[3], in[4]}; }

float row_value(const LossParams& P, Labels labels, const RowStats& s) {
  return is_dense(labels.format) ? dense_row(P, s).value : sparse_row(P, s).value;
}

// Gradient of slice [c0, c1) of row r, scaled by w. The sparse target element is fixed up
// afterwards by the caller (as −w·c·(1 − p_y), exact near p_y = 1).
void slice_gradient(const float* row, Labels labels, int64_t r, int64_t classes, int64_t c0, int64_t c1,
                    const LossParams& P, const RowStats& s, double w, float* grad_row) {
  const double inv_sum = std::exp(-static_cast<double>(s.log_sum));
  if (!is_dense(labels.format)) {
    const double c = sparse_row(P, s).c;
    scaled_exp(row + c0, c1 - c0, s.max, static_cast<float>(w * c * inv_sum), grad_row + c0);
    return;
  }
  const DenseRow d = dense_row(P, s);
  const float k = static_cast<float>(w * d.a * inv_sum);
  const float b = static_cast<float>(w * d.b);
  const float kd = static_cast<float>(w * d.d * inv_sum);
  if (labels.format == LabelFormat::kDenseFloat32) {
    dense_gradient(row + c0, static_cast<const float*>(labels.data) + r * classes + c0, c1 - c0, s.max, k, b, kd,
                   grad_row + c0);
  } else {
    dense_gradient(row + c0, static_cast<const int32_t*>(labels.data) + r * classes + c0, c1 - c0, s.max, k, b,
                   kd, grad_row + c0);
  }
}

// The fused pass works on slices of at most this many elements, so that the stored
// exponentials are rescaled from L2 cache rather than from memory.
constexpr int64_t kMaxFusedSlice = 1 << 16;

Plan make_fused_plan(int64_t rows, int64_t classes) {
  Plan p = make_plan(rows, classes);
  if (p.slice > kMaxFusedSlice) {
    p.parts = (classes + kMaxFusedSlice - 1) / kMaxFusedSlice;
    p.slice = (classes + p.parts - 1) / p.parts;
    p.parts = (classes + p.slice - 1) / p.slice;
    p.grain = 1;
  }
  return p;
}

// Pass 1 of the fused pass on slice [c0, c1) of row r: g = exp(q − M) with the slice's own
// max M, and the slice's partial statistics relative to M. A sparse target is left out of
// the sums (its gradient entry is written last).
Partial fused_slice_exp(const float* row, Labels labels, int64_t r, int64_t classes, int64_t c0, int64_t c1,
                        float* g_row) {
  Partial acc = empty_partial();
  const bool dense = is_dense(labels.format);
  int64_t mid0 = c1, mid1 = c1;
  if (!dense) {
    const int64_t y = sparse_label(labels, r);
    mid0 = std::clamp(y, c0, c1);
    mid1 = std::clamp(y + 1, c0, c1);
  }
  int nan_a = 0, nan_b = 0;
  const float ma = slice_max(row + c0, mid0 - c0, &nan_a);
  const float mb = slice_max(row + mid1, c1 - mid1, &nan_b);
  const float M = ma > mb ? ma : mb;
  if (M == -INFINITY && !nan_a && !nan_b) {
    // Everything masked: exp(−∞) = 0, but exp(−∞ − (−∞)) would be NaN.
    std::fill(g_row + c0, g_row + c1, 0.0f);
    if (dense) acc = slice_partial(row, labels, r, classes, c0, c1);  // carries mass and Σ t·q
    return acc;
  }
  if (dense) {
    if (labels.format == LabelFormat::kDenseFloat32) {
      exp_store_dense(row + c0, static_cast<const float*>(labels.data) + r * classes + c0, c1 - c0, M, g_row + c0, acc);
    } else {
      exp_store_dense(row + c0, static_cast<const int32_t*>(labels.data) + r * classes + c0, c1 - c0, M, g_row + c0, acc);
    }
  } else {
    acc.max = M;
    acc.sum = exp_store_sum(row + c0, mid0 - c0, M, g_row + c0) + exp_store_sum(row + mid1, c1 - mid1, M, g_row + mid1);
  }
  if (nan_a || nan_b) acc.sum = NAN;
  return acc;
}

// Pass 2 on the same slice: turn the stored exp(q − M_slice) into the scaled gradient.
void fused_slice_gradient(Labels labels, int64_t r, int64_t classes, int64_t c0, int64_t c1, float slice_max,
                          const LossParams& P, const RowStats& s, double w, float* g_row) {
  // exp(q − M_slice) · exp(M_slice − max − log_sum) = p_j. An all-masked slice holds zeros.
  const double to_p = slice_max == -INFINITY ? 0.0 : std::exp(static_cast<double>(slice_max) - s.max - s.log_sum);
  if (!is_dense(labels.format)) {
    scale_in_place(g_row + c0, c1 - c0, static_cast<float>(w * sparse_row(P, s).c * to_p));
    return;
  }
  const DenseRow d = dense_row(P, s);
  const float k = static_cast<float>(w * d.a * to_p), b = static_cast<float>(w * d.b), kd = static_cast<float>(w * d.d * to_p);
  if (labels.format == LabelFormat::kDenseFloat32) {
    dense_from_exp(g_row + c0, static_cast<const float*>(labels.data) + r * classes + c0, c1 - c0, k, b, kd);
  } else {
    dense_from_exp(g_row + c0, static_cast<const int32_t*>(labels.data) + r * classes + c0, c1 - c0, k, b, kd);
  }
}

void fix_sparse_targets(Labels labels, int64_t rows, int64_t classes, const LossParams& params, const float* stats,
                        const std::function<double(int64_t)>& weight, float* grad) {
  if (is_dense(labels.format)) return;
  for (int64_t r = 0; r < rows; ++r) {
    const RowStats s = load(stats + r * kStatsPerRow);
    // −w·c·(1 − p_y), with 1 − p_y from the other classes' mass: exact near p_y = 1.
    grad[r * classes + sparse_label(labels, r)] = static_cast<float>(-weight(r) * sparse_row(params, s).c * s.el);
  }
}

}  // namespace

int64_t find_bad_label(Labels labels, int64_t rows, int64_t classes) {
  if (labels.format == LabelFormat::kSparseInt32) {
    const int32_t* y = static_cast<const int32_t*>(labels.data);
    for (int64_t r = 0; r < rows; ++r)
      if (y[r] < 0 || y[r] >= classes) return r;
  } else if (labels.format == LabelFormat::kSparseFloat32) {
    const float* y = static_cast<const float*>(labels.data);
    for (int64_t r = 0; r < rows; ++r)
      if (!(y[r] >= 0.0f && y[r] < static_cast<float>(classes) && std::floor(y[r]) == y[r])) return r;
  }
  return -1;
}

double loss_forward(const float* logits, int64_t rows, int64_t classes, Labels labels, const LossParams& params,
                    float* stats, float* row_loss) {
  const Plan plan = make_plan(rows, classes);
  ThreadPool& pool = ThreadPool::instance();
  if (plan.parts == 1) {
    pool.parallel_for(rows, plan.grain, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* row = logits + r * classes;
        const RowStats s = finish_row(row, labels, r, slice_partial(row, labels, r, classes, 0, classes));
        store(s, stats + r * kStatsPerRow);
        row_loss[r] = row_value(params, labels, s);
      }
    });
  } else {
    std::vector<Partial> partials(static_cast<size_t>(rows * plan.parts));
    pool.parallel_for(rows * plan.parts, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t r = t / plan.parts, c0 = (t % plan.parts) * plan.slice;
        partials[t] = slice_partial(logits + r * classes, labels, r, classes, c0, std::min(classes, c0 + plan.slice));
      }
    });
    for (int64_t r = 0; r < rows; ++r) {
      Partial acc = partials[r * plan.parts];
      for (int64_t k = 1; k < plan.parts; ++k) merge(acc, partials[r * plan.parts + k]);
      const RowStats s = finish_row(logits + r * classes, labels, r, acc);
      store(s, stats + r * kStatsPerRow);
      row_loss[r] = row_value(params, labels, s);
    }
  }
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) total += row_loss[r];
  return total;
}

void loss_backward(const float* logits, int64_t rows, int64_t classes, Labels labels, const LossParams& params,
                   const float* stats, const float* dy, int64_t dy_len, double dy_scale, float* grad) {
  const Plan plan = make_plan(rows, classes);
  const auto weight = [&](int64_t r) { return static_cast<double>(dy[dy_len == 1 ? 0 : r]) * dy_scale; };
  ThreadPool::instance().parallel_for(rows * plan.parts, plan.parts == 1 ? plan.grain : 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t r = t / plan.parts, c0 = (t % plan.parts) * plan.slice;
      slice_gradient(logits + r * classes, labels, r, classes, c0, std::min(classes, c0 + plan.slice), params,
                     load(stats + r * kStatsPerRow), weight(r), grad + r * classes);
    }
  });
  fix_sparse_targets(labels, rows, classes, params, stats, weight, grad);
}

double loss_forward_backward(const float* logits, int64_t rows, int64_t classes, Labels labels,
                             const LossParams& params, float* stats, float* row_loss, double grad_scale, float* grad) {
  const Plan plan = make_fused_plan(rows, classes);
  ThreadPool& pool = ThreadPool::instance();
  const auto finish = [&](int64_t r, const Partial& acc) {
    const RowStats s = finish_row(logits + r * classes, labels, r, acc);
    store(s, stats + r * kStatsPerRow);
    row_loss[r] = row_value(params, labels, s);
    return s;
  };
  if (plan.parts == 1) {
    // Whole rows per task: both passes while the row is in cache.
    pool.parallel_for(rows, plan.grain, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        float* g_row = grad + r * classes;
        const Partial acc = fused_slice_exp(logits + r * classes, labels, r, classes, 0, classes, g_row);
        fused_slice_gradient(labels, r, classes, 0, classes, acc.max, params, finish(r, acc), grad_scale, g_row);
      }
    });
  } else {
    std::vector<Partial> partials(static_cast<size_t>(rows * plan.parts));
    pool.parallel_for(rows * plan.parts, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t r = t / plan.parts, c0 = (t % plan.parts) * plan.slice;
        partials[t] = fused_slice_exp(logits + r * classes, labels, r, classes, c0, std::min(classes, c0 + plan.slice),
                                      grad + r * classes);
      }
    });
    for (int64_t r = 0; r < rows; ++r) {
      Partial acc = partials[r * plan.parts];
      for (int64_t k = 1; k < plan.parts; ++k) merge(acc, partials[r * plan.parts + k]);
      finish(r, acc);
    }
    pool.parallel_for(rows * plan.parts, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t r = t / plan.parts, c0 = (t % plan.parts) * plan.slice;
        fused_slice_gradient(labels, r, classes, c0, std::min(classes, c0 + plan.slice), partials[t].max, params,
                             load(stats + r * kStatsPerRow), grad_scale, grad + r * classes);
      }
    });
  }
  fix_sparse_targets(labels, rows, classes, params, stats, [&](int64_t) { return grad_scale; }, grad);
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) total += row_loss[r];
  return total;
}

void scale_rows(float* grad, int64_t rows, int64_t classes, const float* dy, int64_t dy_len, double scale) {
  const Plan plan = make_plan(rows, classes);
  ThreadPool::instance().parallel_for(rows * plan.parts, plan.parts == 1 ? plan.grain : 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t r = t / plan.parts, c0 = (t % plan.parts) * plan.slice;
      const float k = static_cast<float>(static_cast<double>(dy[dy_len == 1 ? 0 : r]) * scale);
      scale_in_place(grad + r * classes + c0, std::min(classes, c0 + plan.slice) - c0, k);
    }
  });
}

}  // namespace mixloss
