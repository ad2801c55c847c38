// The fused classifier head on NVIDIA GPUs (cuda_head.h). Tiles of kRows rows × kCols classes
// are computed in shared memory (depth steps of kDepth, each thread kPer rows of one column) and
// never stored beyond the block:
//   stats   a block per (row block, class range): each tile's logits go through shared memory to
//           a team of kTeam threads per row, which fold them into the core's Partial (the target
//           left out, its logit kept), merged by shuffles; a Partial per (row, range);
//   finish  a thread per row merges its ranges and finishes it with row_math.h, as the CPU;
//   kgrad   a block per class tile walks every row block: G = c·(p − onehot) recomputed, then
//           dW[:, tile] += H[rows]ᵀ·G and db[tile] += ΣG, each column written by one block;
//   hgrad   a block per (row block, class range): dH[rows] += G·W[:, tile]ᵀ per range, the
//           ranges' parts summed in order by a last kernel (no atomics: the same bits each run).
// 64-bit indexing throughout.
#include <cuda_runtime.h>

#include <algorithm>

#include "../core/accumulator.h"
#include "../core/needs_dispatch.h"
#include "../core/row_math.h"
#include "cuda_head.h"
#include "device_math.cuh"
#include "device_runtime.h"

namespace mixloss {
namespace cuda {

namespace {

using head::HeadCall;

constexpr int kRows = 32, kCols = 64, kDepth = 32, kThreads = 256;
constexpr int kPer = kRows * kCols / kThreads;  // rows per thread in a tile (one column)
constexpr int kTeam = kThreads / kRows;         // threads per row in the statistics' epilogue
static_assert(kTeam <= 32 && 32 % kTeam == 0, "a row's team sits inside one warp");

struct Tile {
  float h[kRows][kDepth + 1];
  float w[kDepth][kCols];
};

// acc[i]: the logit at row r0 + (tid / kCols)·kPer + i, class c0 + tid % kCols (0 outside the
// head), bias added. Every thread of the block calls it.
__device__ void logits_tile(const HeadCall& c, int64_t r0, int64_t c0, Tile& t, float acc[kPer]) {
  const int tid = threadIdx.x, col = tid % kCols, rg = tid / kCols;
#pragma unroll
  for (int i = 0; i < kPer; ++i) acc[i] = 0.0f;
  for (int64_t k0 = 0; k0 < c.dims; k0 += kDepth) {
    for (int e = tid; e < kRows * kDepth; e += kThreads) {
      const int i = e / kDepth, k = e % kDepth;
      const int64_t r = r0 + i, d = k0 + k;
      t.h[i][k] = r < c.rows && d < c.dims ? c.hidden[r * c.dims + d] : 0.0f;
    }
    for (int e = tid; e < kDepth * kCols; e += kThreads) {
      const int k = e / kCols, j = e % kCols;
      const int64_t d = k0 + k, cc = c0 + j;
      t.w[k][j] = d < c.dims && cc < c.classes ? c.kernel[d * c.classes + cc] : 0.0f;
    }
    __syncthreads();
#pragma unroll 8
    for (int k = 0; k < kDepth; ++k) {
      const float wv = t.w[k][col];
#pragma unroll
      for (int i = 0; i < kPer; ++i) acc[i] = fmaf(t.h[rg * kPer + i][k], wv, acc[i]);
    }
    __syncthreads();
  }
  if (c.bias != nullptr && c0 + col < c.classes) {
    const float b = c.bias[c0 + col];
#pragma unroll
    for (int i = 0; i < kPer; ++i) acc[i] += b;
  }
}

__device__ __forceinline__ bool smoothing(const HeadCall& c) { return c.params.label_smoothing > 0.0f; }
__device__ __forceinline__ float u_at(const HeadCall& c, int64_t j) {
  return !smoothing(c) ? 0.0f : c.class_weights != nullptr ? c.class_weights[j] : 1.0f;
}
__device__ __forceinline__ double omega(const HeadCall& c, int64_t y) { return c.class_weights != nullptr ? c.class_weights[y] : 1.0; }
// Row r's class id when it counts (in the head, not ignored), else −1.
__device__ __forceinline__ int64_t live_label(const HeadCall& c, int64_t r) {
  if (r >= c.rows || is_ignored(c.labels, r, c.params)) return -1;
  const int64_t y = sparse_label(c.labels, r);
  return y >= 0 && y < c.classes ? y : -1;
}

template <unsigned kNeeds>
__global__ void head_stats_kernel(HeadCall c, int64_t ranges, int64_t range_len, Partial* partials, float* targets) {
  __shared__ Tile t;
  __shared__ float z[kRows][kCols + 1];
  const int64_t r0 = (blockIdx.x / ranges) * kRows, range = blockIdx.x % ranges;
  const int64_t cs = range * range_len, ce = min(c.classes, cs + range_len);
  const int tid = threadIdx.x, col = tid % kCols, rg = tid / kCols;
  const int slot = tid / kTeam, lane = tid % kTeam;
  const int64_t r = r0 + slot;
  const int64_t y = live_label(c, r);
  Partial a = empty_partial();
  float acc[kPer];
  for (int64_t c0 = cs; c0 < ce; c0 += kCols) {
    logits_tile(c, r0, c0, t, acc);
#pragma unroll
    for (int i = 0; i < kPer; ++i) z[rg * kPer + i][col] = acc[i];
    __syncthreads();
    if (y >= 0) {
      for (int k = lane; k < kCols && c0 + k < ce; k += kTeam) {
        const int64_t j = c0 + k;
        const float x = z[slot][k];
        if (j == y)
          targets[r] = x;  // uncapped; the range that holds it writes it
        else
          add<kNeeds>(a, capped(x, c.params.softcap), (kNeeds & kNeedTargets) ? u_at(c, j) : 0.0f, j);
      }
    }
    __syncthreads();
  }
  // The team's lanes (consecutive, inside one warp) into its first.
  for (int offset = kTeam / 2; offset > 0; offset >>= 1) merge(a, shuffle_down(a, offset));
  if (lane == 0 && r < c.rows) partials[r * ranges + range] = a;
}

__global__ void head_finish_kernel(HeadCall c, int64_t ranges, const Partial* partials, const float* targets, float* stats,
                                   float* row_loss) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= c.rows) return;
  RowStats s;
  if (!is_ignored(c.labels, r, c.params)) {
    const int64_t y = live_label(c, r);
    if (y < 0) {
      s.value = NAN;  // not a class id (the caller checks labels first)
    } else {
      Partial acc = partials[r * ranges];
      for (int64_t k = 1; k < ranges; ++k) merge(acc, partials[r * ranges + k]);
      s = finish_sparse(acc, capped(targets[r], c.params.softcap), y, u_at(c, y));
      s.value = sparse_row(c.params, s, c.total_classes, omega(c, y), false).value;
    }
  }
  store_stats(s, stats + r * kStatsPerRow);
  const double w = c.row_weights != nullptr ? c.row_weights[r] : 1.0;
  row_loss[r] = w == 1.0 ? s.value : static_cast<float>(w * s.value);  // 0·∞ stays NaN, as tfjs's mul
}

// The gradient's scalars of one row: g_j = kk·e_j + u_j(b + kd·e_j) with e_j = exp(z_j − max), the
// target's entry whole (the exact 1 − p_y), all times the chain factor of softcap.
struct RowCoef {
  float kk, b, kd, max, target;
  long long y;  // −1: the row has no gradient (ignored, or past the last row)
};

// Threads 0..kRows−1 fill coef[] for the rows r0.. (then the block syncs).
__device__ void row_coefficients(const HeadCall& c, const float* stats, const float* dy, int64_t dy_len, double dy_scale, int64_t r0,
                                 RowCoef* coef) {
  if (threadIdx.x >= kRows) return;
  const int64_t r = r0 + threadIdx.x;
  RowCoef rc{0.0f, 0.0f, 0.0f, 0.0f, 0.0f, -1};
  const int64_t y = live_label(c, r);
  if (y >= 0) {
    const RowStats s = load_stats(stats + r * kStatsPerRow);
    const RowGrad g = sparse_row(c.params, s, c.total_classes, omega(c, y), false);
    const double w = static_cast<double>(dy[dy_len == 1 ? 0 : r]) * dy_scale * (c.row_weights != nullptr ? c.row_weights[r] : 1.0);
    const double to_p = exp(-static_cast<double>(s.log_sum));
    rc = {static_cast<float>(w * g.a * to_p),
          static_cast<float>(w * g.b),
          static_cast<float>(w * g.d * to_p),
          s.max,
          static_cast<float>(w * sparse_target_gradient(g, s, u_at(c, y), false)),
          y};
  }
  coef[threadIdx.x] = rc;
}

// G at a row (its coefficients) and class j, from the uncapped logit z.
__device__ __forceinline__ float gradient_entry(const HeadCall& c, const RowCoef& rc, int64_t j, float z) {
  if (rc.y < 0) return 0.0f;
  float g;
  if (j == rc.y) {
    g = rc.target;
  } else {
    const float e = expf(capped(z, c.params.softcap) - rc.max);
    g = rc.kk * e + u_at(c, j) * (rc.b + rc.kd * e);
  }
  return c.params.softcap > 0.0f ? g * chain_f(z, c.params.softcap) : g;
}

// The tile's G into g[kRows][kCols + 1] (0 outside the head); every thread calls it.
__device__ void gradient_tile(const HeadCall& c, int64_t r0, int64_t c0, Tile& t, const RowCoef* coef, float (*g)[kCols + 1]) {
  float acc[kPer];
  logits_tile(c, r0, c0, t, acc);
  const int col = threadIdx.x % kCols, rg = threadIdx.x / kCols;
#pragma unroll
  for (int i = 0; i < kPer; ++i) {
    const int slot = rg * kPer + i;
    g[slot][col] = c0 + col < c.classes ? gradient_entry(c, coef[slot], c0 + col, acc[i]) : 0.0f;
  }
  __syncthreads();
}

__global__ void head_kernel_grad_kernel(HeadCall c, const float* stats, const float* dy, int64_t dy_len, double dy_scale,
                                        float* grad_kernel, float* grad_bias) {
  __shared__ Tile t;
  __shared__ float g[kRows][kCols + 1];
  __shared__ RowCoef coef[kRows];
  const int64_t c0 = static_cast<int64_t>(blockIdx.x) * kCols;
  const int col = threadIdx.x % kCols, rg = threadIdx.x / kCols;
  const int64_t j = c0 + col;
  for (int64_t r0 = 0; r0 < c.rows; r0 += kRows) {
    row_coefficients(c, stats, dy, dy_len, dy_scale, r0, coef);
    __syncthreads();
    gradient_tile(c, r0, c0, t, coef, g);
    if (j < c.classes) {
      const int n = static_cast<int>(c.rows - r0 < kRows ? c.rows - r0 : kRows);
      // Threads of a warp share rg, so each hidden value they read is one broadcast load.
      for (int64_t d = rg; d < c.dims; d += kThreads / kCols) {
        float s = 0.0f;
        for (int i = 0; i < n; ++i) s = fmaf(c.hidden[(r0 + i) * c.dims + d], g[i][col], s);
        float* o = grad_kernel + d * c.classes + j;
        *o = r0 == 0 ? s : *o + s;
      }
      if (grad_bias != nullptr && rg == 0) {
        float s = 0.0f;
        for (int i = 0; i < n; ++i) s += g[i][col];
        grad_bias[j] = r0 == 0 ? s : grad_bias[j] + s;
      }
    }
    __syncthreads();
  }
}

// dH of the rows r0.. over the classes of one range, into parts[range] ([rows × dims] each).
__global__ void head_hidden_grad_kernel(HeadCall c, const float* stats, const float* dy, int64_t dy_len, double dy_scale, int64_t ranges,
                                        int64_t range_len, float* parts) {
  __shared__ Tile t;
  __shared__ float g[kRows][kCols + 1];
  __shared__ float wt[kDepth][kCols + 1];  // W[d0.., tile], padded: a warp reads one column of it
  __shared__ RowCoef coef[kRows];
  const int64_t r0 = (blockIdx.x / ranges) * kRows, range = blockIdx.x % ranges;
  const int64_t cs = range * range_len, ce = min(c.classes, cs + range_len);
  float* out = parts + range * c.rows * c.dims;
  const int m = static_cast<int>(c.rows - r0 < kRows ? c.rows - r0 : kRows);
  for (int64_t e = threadIdx.x; e < m * c.dims; e += kThreads) out[r0 * c.dims + e] = 0.0f;
  row_coefficients(c, stats, dy, dy_len, dy_scale, r0, coef);
  __syncthreads();
  for (int64_t c0 = cs; c0 < ce; c0 += kCols) {
    gradient_tile(c, r0, c0, t, coef, g);
    const int n = static_cast<int>(ce - c0 < kCols ? ce - c0 : kCols);
    for (int64_t d0 = 0; d0 < c.dims; d0 += kDepth) {
      for (int e = threadIdx.x; e < kDepth * kCols; e += kThreads) {
        const int k = e / kCols, jj = e % kCols;
        const int64_t d = d0 + k, cc = c0 + jj;
        wt[k][jj] = d < c.dims && cc < c.classes ? c.kernel[d * c.classes + cc] : 0.0f;
      }
      __syncthreads();
      for (int e = threadIdx.x; e < m * kDepth; e += kThreads) {
        const int i = e / kDepth, dd = e % kDepth;
        const int64_t d = d0 + dd;
        if (d >= c.dims) continue;
        float s = 0.0f;
        for (int k = 0; k < n; ++k) s = fmaf(g[i][k], wt[dd][k], s);
        out[(r0 + i) * c.dims + d] += s;
      }
      __syncthreads();
    }
  }
}

// out[i] = Σ_k parts[k][i], in k's order.
__global__ void sum_parts_kernel(const float* parts, int64_t parts_count, int64_t size, float* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= size) return;
  float s = parts[i];
  for (int64_t k = 1; k < parts_count; ++k) s += parts[k * size + i];
  out[i] = s;
}

// Device scratch for the head's records and parts.
void* head_scratch(size_t bytes) { return scratch(Scratch::kHead, bytes, "cudaMalloc (head scratch)"); }

int multiprocessors() {
  int sms = 132, device = 0;
  if (cudaGetDevice(&device) == cudaSuccess) cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  return sms;
}

// Class ranges per row block: enough blocks for every SM (four each) when rows are few; at most
// `cap` (a memory bound), each a whole number of tiles.
struct Ranges {
  int64_t count, length;
};

Ranges ranges_for(int64_t rows, int64_t classes, int64_t cap) {
  const int64_t tiles = (classes + kCols - 1) / kCols;
  const int64_t blocks = (rows + kRows - 1) / kRows;
  const int64_t fill = (4 * static_cast<int64_t>(multiprocessors()) + blocks - 1) / blocks;
  const int64_t want = std::max<int64_t>(1, std::min<int64_t>(tiles, std::min<int64_t>(fill, cap)));
  const int64_t length = (tiles + want - 1) / want * kCols;
  return {(classes + length - 1) / length, length};
}

}  // namespace

void head_forward(const HeadCall& c, float* stats, float* row_loss) {
  const Ranges rg = ranges_for(c.rows, c.classes, 1 << 20);
  const size_t partial_bytes = static_cast<size_t>(c.rows * rg.count) * sizeof(Partial);
  char* base = static_cast<char*>(head_scratch(partial_bytes + static_cast<size_t>(c.rows) * sizeof(float)));
  Partial* partials = reinterpret_cast<Partial*>(base);
  float* targets = reinterpret_cast<float*>(base + partial_bytes);
  const int64_t blocks = (c.rows + kRows - 1) / kRows * rg.count;
  const unsigned needs = c.params.label_smoothing > 0.0f ? kNeedTargets : 0u;
  with_needs(needs, [&](auto n) {
    head_stats_kernel<decltype(n)::value><<<blocks, kThreads, 0, stream()>>>(c, rg.count, rg.length, partials, targets);
  });
  check(cudaGetLastError(), "head statistics kernel launch");
  head_finish_kernel<<<(c.rows + 255) / 256, 256, 0, stream()>>>(c, rg.count, partials, targets, stats, row_loss);
  check(cudaGetLastError(), "head finish kernel launch");
}

void head_backward(const HeadCall& c, const float* stats, const float* dy, int64_t dy_len, double dy_scale, float* grad_hidden,
                   float* grad_kernel, float* grad_bias) {
  head_kernel_grad_kernel<<<(c.classes + kCols - 1) / kCols, kThreads, 0, stream()>>>(c, stats, dy, dy_len, dy_scale, grad_kernel,
                                                                                      grad_bias);
  check(cudaGetLastError(), "head kernel-gradient kernel launch");
  // The parts of dH beside it take at most 256 MiB.
  const int64_t size = c.rows * c.dims;
  const Ranges rg = ranges_for(c.rows, c.classes, (int64_t{1} << 26) / std::max<int64_t>(size, 1));
  float* parts = rg.count == 1 ? grad_hidden : static_cast<float*>(head_scratch(static_cast<size_t>(rg.count * size) * sizeof(float)));
  head_hidden_grad_kernel<<<(c.rows + kRows - 1) / kRows * rg.count, kThreads, 0, stream()>>>(c, stats, dy, dy_len, dy_scale, rg.count,
                                                                                              rg.length, parts);
  check(cudaGetLastError(), "head hidden-gradient kernel launch");
  if (rg.count > 1) {
    sum_parts_kernel<<<(size + 255) / 256, 256, 0, stream()>>>(parts, rg.count, size, grad_hidden);
    check(cudaGetLastError(), "head sum kernel launch");
  }
}

}  // namespace cuda
}  // namespace mixloss
