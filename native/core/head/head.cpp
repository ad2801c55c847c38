// The fused classifier head's CPU kernels (head.h). The classes are cut into chunks of kChunk;
// the pool's tasks take runs of chunks, and a task walks the rows in blocks of kRowBlock: one
// tile Z = H·W[:, chunk] + b of kRowBlock × kChunk floats, then the row loops of row_blocks on
// each tile row (the same loops and accumulator as the row kernels). Every class's column of
// the kernel's and the bias's gradient belongs to one task (no atomics, the same bits on any
// thread count); the hidden's gradient is summed per task, then over tasks in their order.
#include "head.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "../accumulator.h"
#include "../row_blocks.h"
#include "../row_math.h"
#include "../thread_pool.h"
#include "gemm.h"
#include "tiles.h"

namespace mixloss {
namespace head {

namespace {
// Z = H[r0, r0 + m) · W[:, c0, c0 + n) + b, soft-capped: the tile the loops read, row stride n.
// With softcap and raw given, the uncapped tile is kept there (the chain factor's exp form needs it).
void logits_tile(const HeadCall& c, int64_t r0, int64_t m, int64_t c0, int64_t n, float* z, float* raw) {
  const bool keep = c.params.softcap > 0.0f && raw != nullptr;
  float* out = keep ? raw : z;
  gemm_ab(c.hidden + r0 * c.dims, c.dims, c.kernel + c0, c.classes, out, n, m, n, c.dims, c.bias != nullptr ? c.bias + c0 : nullptr);
  if (c.params.softcap > 0.0f) softcap_store(out, m * n, c.params.softcap, z);
}

bool smoothing(const HeadCall& c) { return c.params.label_smoothing > 0.0f; }

// Calls f with the smoothing vector from shard column c0: the class weights (of the head's class
// class_offset + c0 on), or Ones.
template <typename F>
void with_u(const HeadCall& c, int64_t c0, F&& f) {
  if (c.class_weights != nullptr)
    f(c.class_weights + c.class_offset + c0);
  else
    f(Ones{});
}

double u_at(const HeadCall& c, int64_t y) { return !smoothing(c) ? 0.0 : c.class_weights != nullptr ? c.class_weights[y] : 1.0; }

double omega(const HeadCall& c, int64_t y) { return c.class_weights != nullptr ? c.class_weights[y] : 1.0; }

Partial partial_of(const float* rec) {
  Partial p = empty_partial();
  p.max = rec[kShardMax];
  p.sum = rec[kShardSum];
  p.t_logit = rec[kShardULogit];
  p.t_exp = rec[kShardUExp];
  p.mass = rec[kShardUMass];
  return p;
}

void store_partial(const Partial& p, float* rec) {
  rec[kShardMax] = p.max;
  rec[kShardSum] = static_cast<float>(p.sum);
  rec[kShardULogit] = static_cast<float>(p.t_logit);
  rec[kShardUExp] = static_cast<float>(p.t_exp);
  rec[kShardUMass] = static_cast<float>(p.mass);
}

// Calls fn(task, c0, n, r0, m, z, raw) on every tile of logits z = H[r0, r0 + m) · W[:, c0, c0 + n) + b
// (soft-capped, row stride n), in for_each_block's order; raw is the uncapped tile with softcap
// when kRaw, else nullptr.
template <bool kRaw = false, typename F>
void for_each_tile(const HeadCall& c, const Split& s, F&& fn) {
  for_each_block(c.rows, c.classes, s, [&](int64_t task, int64_t c0, int64_t n, int64_t r0, int64_t m) {
    float* z = tile_buffer(0);
    float* raw = kRaw && c.params.softcap > 0.0f ? tile_buffer(2) : nullptr;
    logits_tile(c, r0, m, c0, n, z, raw);
    fn(task, c0, n, r0, m, z, raw);
  });
}

// Row r's partial statistics over every task ([task][row] partials), merged in task order: the
// same result on any thread count.
Partial merged_partial(const std::vector<Partial>& partials, const Split& s, int64_t rows, int64_t r) {
  Partial p = partials[r];
  for (int64_t t = 1; t < s.tasks; ++t) merge(p, partials[t * rows + r]);
  return p;
}
}  // namespace

void shard_statistics(const HeadCall& c, float* out) {
  const Split s = split(c.classes);
  std::vector<Partial> partials(static_cast<size_t>(s.tasks * c.rows), empty_partial());
  for (int64_t r = 0; r < c.rows; ++r) {
    out[r * kShardStats + kShardTarget] = 0.0f;
    out[r * kShardStats + kShardHasTarget] = 0.0f;
  }
  for_each_tile(c, s, [&](int64_t task, int64_t c0, int64_t n, int64_t r0, int64_t m, const float* tile, const float*) {
    Partial* acc = partials.data() + task * c.rows;
    for (int64_t i = 0; i < m; ++i) {
      const int64_t r = r0 + i;
      if (is_ignored(c.labels, r, c.params)) continue;
      const float* z = tile + i * n;
      // The target (a class of this chunk, or none): left out of the sums, its logit kept.
      const int64_t y = sparse_label(c.labels, r) - c.class_offset - c0;
      const int64_t mid0 = std::clamp<int64_t>(y, 0, n), mid1 = std::clamp<int64_t>(y + 1, 0, n);
      if (y >= 0 && y < n) {
        out[r * kShardStats + kShardTarget] = z[y];  // one chunk holds y: no other task writes it
        out[r * kShardStats + kShardHasTarget] = 1.0f;
      }
      Partial& a = acc[r];
      if (smoothing(c)) {
        with_u(c, c0, [&](auto u) {
          accumulate_dense<false>(z, u, mid0, c0, a);
          accumulate_dense<false>(z + mid1, u + mid1, n - mid1, c0 + mid1, a);
        });
      } else {
        accumulate_sparse<false>(z, mid0, c0, a);
        accumulate_sparse<false>(z + mid1, n - mid1, c0 + mid1, a);
      }
    }
  });
  for (int64_t r = 0; r < c.rows; ++r) store_partial(merged_partial(partials, s, c.rows, r), out + r * kShardStats);
}

void merge_shard_statistics(const float* a, const float* b, int64_t rows, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* ra = a + r * kShardStats;
    const float* rb = b + r * kShardStats;
    Partial p = partial_of(ra);
    merge(p, partial_of(rb));
    // The shard that held the target gives its logit; the count says how many held it.
    const float has_a = ra[kShardHasTarget], has_b = rb[kShardHasTarget];
    const float target = has_a > 0.0f ? ra[kShardTarget] : rb[kShardTarget];
    float* ro = out + r * kShardStats;
    store_partial(p, ro);
    ro[kShardTarget] = target;
    ro[kShardHasTarget] = has_a + has_b;
  }
}

int64_t find_unowned_target(const float* merged, int64_t rows, const Labels& labels, const LossParams& params) {
  for (int64_t r = 0; r < rows; ++r) {
    if (is_ignored(labels, r, params)) continue;
    if (merged[r * kShardStats + kShardHasTarget] != 1.0f) return r;
  }
  return -1;
}

void finish_rows(const HeadCall& c, const float* merged, float* stats, float* row_loss) {
  for (int64_t r = 0; r < c.rows; ++r) {
    RowStats s;
    if (!is_ignored(c.labels, r, c.params)) {
      const float* rec = merged + r * kShardStats;
      const int64_t y = sparse_label(c.labels, r);
      s = finish_sparse(partial_of(rec), rec[kShardTarget], y, u_at(c, y));
      s.value = sparse_row(c.params, s, c.total_classes, omega(c, y), false).value;
    }
    store_stats(s, stats + r * kStatsPerRow);
    const double w = c.row_weights != nullptr ? c.row_weights[r] : 1.0;
    row_loss[r] = w == 1.0 ? s.value : static_cast<float>(w * s.value);  // 0·∞ stays NaN, as tfjs's mul
  }
}

void shard_backward(const HeadCall& c, const float* stats, const float* dy, int64_t dy_len, double dy_scale, float* grad_hidden,
                    float* grad_kernel, float* grad_bias) {
  const Split s = split(c.classes);
  // Each task's part of the hidden's gradient, summed in task order at the end.
  std::vector<float> dh(static_cast<size_t>(s.tasks * c.rows * c.dims), 0.0f);
  for_each_tile<true>(c, s, [&](int64_t task, int64_t c0, int64_t n, int64_t r0, int64_t m, const float* z_tile, const float* raw_tile) {
    float* dh_task = dh.data() + task * c.rows * c.dims;
    float* g_tile = tile_buffer(1);
    if (r0 == 0) {
      // The chunk's columns of the kernel's and the bias's gradient, written by this task alone.
      for (int64_t d = 0; d < c.dims; ++d) std::fill(grad_kernel + d * c.classes + c0, grad_kernel + d * c.classes + c0 + n, 0.0f);
      if (grad_bias != nullptr) std::fill(grad_bias + c0, grad_bias + c0 + n, 0.0f);
    }
    for (int64_t i = 0; i < m; ++i) {
      const int64_t r = r0 + i;
      float* g = g_tile + i * n;
      const float* z = z_tile + i * n;
      if (is_ignored(c.labels, r, c.params)) {
        std::fill(g, g + n, 0.0f);
        continue;
      }
      const RowStats st = load_stats(stats + r * kStatsPerRow);
      const int64_t y_global = sparse_label(c.labels, r);
      const RowGrad rg = sparse_row(c.params, st, c.total_classes, omega(c, y_global), false);
      const double w = static_cast<double>(dy[dy_len == 1 ? 0 : r]) * dy_scale * (c.row_weights != nullptr ? c.row_weights[r] : 1.0);
      // p_j = exp(z_j − max)·exp(−log_sum); g_j = w·(a·p_j + u_j(b + d·p_j)).
      const double to_p = std::exp(-static_cast<double>(st.log_sum));
      const float kk = static_cast<float>(w * rg.a * to_p), b = static_cast<float>(w * rg.b), kd = static_cast<float>(w * rg.d * to_p);
      if (smoothing(c)) {
        with_u(c, c0, [&](auto u) { dense_gradient<true>(z, u, n, st.max, kk, b, kd, g); });
      } else {
        sparse_gradient<true>(z, n, st.max, kk, g);
      }
      const int64_t y = y_global - c.class_offset - c0;
      if (y >= 0 && y < n) g[y] = static_cast<float>(w * sparse_target_gradient(rg, st, u_at(c, y_global), false));
      if (c.params.softcap > 0.0f) softcap_chain(g, z, raw_tile + i * n, n, c.params.softcap);
    }
    if (grad_bias != nullptr) {
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) grad_bias[c0 + j] += g_tile[i * n + j];
    }
    gemm_atb_add(c.hidden + r0 * c.dims, c.dims, g_tile, n, grad_kernel + c0, c.classes, m, n, c.dims);
    gemm_abt_add(g_tile, n, c.kernel + c0, c.classes, dh_task + r0 * c.dims, c.dims, m, n, c.dims);
  });
  sum_task_parts(dh, s.tasks, c.rows, c.dims, grad_hidden);
}

void top_k(const HeadCall& c, int64_t k, float* values, int32_t* indices) {
  const Split s = split(c.classes);
  struct Best {
    float z;
    int64_t id;
  };
  // Per task and row: its k best (z descending, then id ascending) and its partial of Σ exp.
  std::vector<Best> best(static_cast<size_t>(s.tasks * c.rows * k), Best{-std::numeric_limits<float>::infinity(), -1});
  std::vector<Partial> partials(static_cast<size_t>(s.tasks * c.rows), empty_partial());
  const auto better = [](const Best& a, const Best& b) { return a.z > b.z || (a.z == b.z && a.id >= 0 && (b.id < 0 || a.id < b.id)); };
  const auto insert = [&](Best* list, Best x) {
    if (!better(x, list[k - 1])) return;
    int64_t i = k - 1;
    while (i > 0 && better(x, list[i - 1])) {
      list[i] = list[i - 1];
      --i;
    }
    list[i] = x;
  };
  for_each_tile(c, s, [&](int64_t task, int64_t c0, int64_t n, int64_t r0, int64_t m, const float* tile, const float*) {
    for (int64_t i = 0; i < m; ++i) {
      const int64_t r = r0 + i;
      const float* z = tile + i * n;
      accumulate_sparse<false>(z, n, c0, partials[task * c.rows + r]);
      Best* list = best.data() + (task * c.rows + r) * k;
      for (int64_t j = 0; j < n; ++j)
        if (z[j] == z[j]) insert(list, Best{z[j], c.class_offset + c0 + j});
    }
  });
  for (int64_t r = 0; r < c.rows; ++r) {
    const Partial p = merged_partial(partials, s, c.rows, r);
    const double lse = static_cast<double>(p.max) + std::log(p.sum);
    std::vector<Best> merged(best.begin() + r * k, best.begin() + (r + 1) * k);
    for (int64_t t = 1; t < s.tasks; ++t)
      for (int64_t i = 0; i < k; ++i) insert(merged.data(), best[(t * c.rows + r) * k + i]);
    for (int64_t i = 0; i < k; ++i) {
      values[r * k + i] = merged[i].id < 0 ? -std::numeric_limits<float>::infinity() : static_cast<float>(merged[i].z - lse);
      indices[r * k + i] = static_cast<int32_t>(merged[i].id);
    }
  }
}

}  // namespace head
}  // namespace mixloss
