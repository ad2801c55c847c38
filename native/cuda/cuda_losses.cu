// Fused softmax losses on NVIDIA GPUs.
//
// Statistics pass: each row (or, for few huge rows, each slice of a row) is reduced by a
// warp (short rows) or a block (long rows) to a Partial — online max and Σ exp with the
// target excluded, plus the dense targets' sums — read once with 16-byte loads. A second,
// tiny kernel merges a row's partials and finishes it with row_math.h, the same code the
// CPU runs. Gradient pass: a 2-D grid (row × column chunk) writes c·p_j (or the dense form)
// and fixes the target element from the exact 1 − p_y. 64-bit indexing throughout. The device
// runtime (status, memory, the stream, pinned staging) is device_runtime.cu.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>

#include "../core/accumulator.h"
#include "../core/needs_dispatch.h"
#include "../core/row_math.h"
#include "cuda_losses.h"
#include "device_math.cuh"
#include "device_runtime.h"

namespace mixloss {
namespace cuda {

namespace {

__device__ __forceinline__ float target_at(Labels labels, int64_t index) {
  return labels.format == LabelFormat::kDenseFloat32 ? static_cast<const float*>(labels.data)[index]
                                                     : static_cast<float>(static_cast<const int32_t*>(labels.data)[index]);
}

// The vector the statistics are taken against: the row's dense targets, the smoothing vector
// u (class weights or ones, [classes]; null u means ones), or nothing.
struct TargetSource {
  Labels labels;
  int64_t row_offset;  // dense: r·classes
  const float* u;      // smoothing vector, or null
  bool dense, smoothing;
  __device__ __forceinline__ float at(int64_t j) const {
    if (dense) return target_at(labels, row_offset + j);
    if (smoothing) return u != nullptr ? u[j] : 1.0f;
    return 0.0f;
  }
};

// Accumulates row elements [c0, c1) handled by `lane` of `lanes` (the sparse target skipped),
// 16-byte loads when aligned.
template <unsigned kNeeds>
__device__ void accumulate(const float* row, const TargetSource& t, int64_t y, int64_t c0, int64_t c1, int lane, int lanes, float cap,
                           Partial& a) {
  const bool aligned = (reinterpret_cast<uintptr_t>(row + c0) & 15) == 0;
  int64_t j = c0;
  if (aligned) {
    const int64_t n4 = (c1 - c0) / 4;
    const float4* row4 = reinterpret_cast<const float4*>(row + c0);
    for (int64_t i = lane; i < n4; i += lanes) {
      const float4 v = row4[i];
      const int64_t base = c0 + 4 * i;
      const float xs[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        if (base + k == y) continue;
        add<kNeeds>(a, capped(xs[k], cap), (kNeeds & kNeedTargets) ? t.at(base + k) : 0.f, base + k);
      }
    }
    j = c0 + 4 * n4;
  }
  for (int64_t i = j + lane; i < c1; i += lanes) {
    if (i == y) continue;
    add<kNeeds>(a, capped(row[i], cap), (kNeeds & kNeedTargets) ? t.at(i) : 0.f, i);
  }
}

__device__ __forceinline__ TargetSource target_source(const LossCall& c, int64_t r, const float* u) {
  const bool dense = is_dense(c.labels.format);
  return {c.labels, r * c.classes, u, dense, !dense && c.params.label_smoothing > 0.0f};
}

// ---- kernels ----------------------------------------------------------------------------

// One warp per task (task = row slice): for slices of up to a few thousand elements.
template <unsigned kNeeds>
__global__ void stats_warp_kernel(LossCall c, const float* u, int64_t parts, int64_t slice, Partial* partials) {
  const int64_t task = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  if (task >= c.rows * parts) return;
  const int lane = threadIdx.x % 32;
  const int64_t r = task / parts, c0 = (task % parts) * slice, c1 = min(c.classes, c0 + slice);
  const bool dense = is_dense(c.labels.format);
  Partial a = empty_partial();
  if (dense || !is_ignored(c.labels, r, c.params)) {
    const int64_t y = dense ? -1 : sparse_label(c.labels, r);
    accumulate<kNeeds>(c.logits + r * c.classes, target_source(c, r, u), y, c0, c1, lane, 32, c.params.softcap, a);
  }
  a = warp_reduce(a);
  if (lane == 0) partials[task] = a;
}

// One block per task: long slices.
template <unsigned kNeeds, int kThreads>
__global__ void stats_block_kernel(LossCall c, const float* u, int64_t parts, int64_t slice, Partial* partials) {
  const int64_t task = blockIdx.x;
  const int64_t r = task / parts, c0 = (task % parts) * slice, c1 = min(c.classes, c0 + slice);
  const bool dense = is_dense(c.labels.format);
  Partial a = empty_partial();
  if (dense || !is_ignored(c.labels, r, c.params)) {
    const int64_t y = dense ? -1 : sparse_label(c.labels, r);
    accumulate<kNeeds>(c.logits + r * c.classes, target_source(c, r, u), y, c0, c1, threadIdx.x, kThreads, c.params.softcap, a);
  }
  a = warp_reduce(a);
  __shared__ Partial warps[kThreads / 32];
  if (threadIdx.x % 32 == 0) warps[threadIdx.x / 32] = a;
  __syncthreads();
  if (threadIdx.x < 32) {
    a = threadIdx.x < kThreads / 32 ? warps[threadIdx.x] : empty_partial();
    a = warp_reduce(a);
    if (threadIdx.x == 0) partials[task] = a;
  }
}

__device__ __forceinline__ double class_weight(const LossCall& c, int64_t y) {
  return c.class_weights != nullptr ? c.class_weights[y] : 1.0;
}

__device__ __forceinline__ RowGrad row_grad(const LossCall& c, int64_t r, const RowStats& s) {
  if (is_dense(c.labels.format)) return dense_row(c.params, s);
  const int64_t y = sparse_label(c.labels, r);
  return sparse_row(c.params, s, c.classes, class_weight(c, y), s.argmax == y);
}

// One thread per row: merge the row's partials, finish with the core's row math, write stats and loss.
__global__ void finish_kernel(LossCall c, const float* u, int64_t parts, const Partial* partials, float* row_loss) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= c.rows) return;
  const bool dense = is_dense(c.labels.format);
  RowStats s;
  if (!dense && is_ignored(c.labels, r, c.params)) {
    store_stats(s, c.stats + r * kStatsPerRow);
    row_loss[r] = 0.0f;
    return;
  }
  Partial acc = partials[r * parts];
  for (int64_t k = 1; k < parts; ++k) merge(acc, partials[r * parts + k]);
  if (dense) {
    s = finish_dense(acc);
  } else {
    const int64_t y = sparse_label(c.labels, r);
    const double u_y = c.params.label_smoothing > 0.0f ? (u != nullptr ? u[y] : 1.0) : 0.0;
    s = finish_sparse(acc, capped(c.logits[r * c.classes + y], c.params.softcap), y, u_y);
  }
  s.value = row_grad(c, r, s).value;
  store_stats(s, c.stats + r * kStatsPerRow);
  const float w = c.row_weights != nullptr ? c.row_weights[r] : 1.0f;
  row_loss[r] = w == 1.0f ? s.value : w * s.value;
}

constexpr int kGradThreads = 256;
constexpr int64_t kGradChunk = kGradThreads * 16;  // columns per block

// Grid: rows × ceil(classes / kGradChunk) blocks (flattened). g = w·(a p + u (b + d p)), then
// (sparse rows) the exact target entry and MPCE's argmax term.
__global__ void gradient_kernel(LossCall c, const float* u, const float* dy, int64_t dy_len, double dy_scale, int64_t chunks, float* grad) {
  const int64_t r = blockIdx.x / chunks, c0 = (blockIdx.x % chunks) * kGradChunk, c1 = min(c.classes, c0 + kGradChunk);
  const bool dense = is_dense(c.labels.format);
  __shared__ float coef[6];    // shift, k, b, kd, complement kc and c0
  __shared__ double fix[2];    // target value, argmax term
  __shared__ long long at[2];  // target, argmax (−1: none)
  __shared__ int ignored;
  if (threadIdx.x == 0) {
    ignored = !dense && is_ignored(c.labels, r, c.params);
    const RowStats s = load_stats(c.stats + r * kStatsPerRow);
    const double w = static_cast<double>(dy[dy_len == 1 ? 0 : r]) * dy_scale * (c.row_weights != nullptr ? c.row_weights[r] : 1.0);
    const double inv_sum = exp(-static_cast<double>(s.log_sum));
    at[0] = at[1] = -1;
    if (!ignored) {
      const RowGrad g = row_grad(c, r, s);
      // Complement entropy shifts by cot_lse (r_j = exp(q_j − shift)·exp(shift − cot_lse) stays
      // finite when 1 − p_y underflows); the others by the row's max.
      const float shift = g.cot != 0.0 ? static_cast<float>(g.cot_lse) : s.max;
      const double to_p = g.cot != 0.0 ? exp(static_cast<double>(shift) - s.max - s.log_sum) : inv_sum;
      coef[0] = shift;
      coef[1] = static_cast<float>(w * g.a * to_p);
      coef[2] = static_cast<float>(w * g.b);
      coef[3] = static_cast<float>(w * g.d * to_p);
      coef[4] = g.cot != 0.0 ? static_cast<float>(w * g.cot * exp(static_cast<double>(shift) - g.cot_lse)) : 0.0f;
      // Relative to shift: the bracket (x − shift) − c0, not x less a logit-sized float.
      coef[5] = static_cast<float>(g.cot_lse + g.cot_value - shift);
      if (!dense) {
        const int64_t y = sparse_label(c.labels, r);
        const bool k_is_y = s.argmax == y;
        const double u_y = c.params.label_smoothing > 0.0f ? (u != nullptr ? u[y] : 1.0) : 0.0;
        const float* q = c.logits + r * c.classes;
        at[0] = y;
        fix[0] = w * sparse_target_gradient(g, s, u_y, k_is_y) * chain(q[y], c.params.softcap);
        if (g.ck != 0.0 && !k_is_y && s.argmax >= 0 && s.argmax < c.classes) {
          at[1] = s.argmax;
          const double u_k = c.params.label_smoothing > 0.0f ? (u != nullptr ? u[s.argmax] : 1.0) : 0.0;
          fix[1] = w * sparse_argmax_gradient(g, s, u_k) * chain(q[s.argmax], c.params.softcap);
        }
      }
    }
  }
  __syncthreads();
  float* g = grad + r * c.classes;
  if (ignored) {
    for (int64_t j = c0 + threadIdx.x; j < c1; j += kGradThreads) g[j] = 0.0f;
    return;
  }
  const float shift = coef[0], k = coef[1], b = coef[2], kd = coef[3], kc = coef[4], cot_c0 = coef[5];
  const TargetSource t = target_source(c, r, u);
  const bool with_t = t.dense || t.smoothing;
  const float* row = c.logits + r * c.classes;
  const float cap = c.params.softcap;
  for (int64_t j = c0 + threadIdx.x; j < c1; j += kGradThreads) {
    const float x = capped(row[j], cap);
    const float e = expf(x - shift);
    float v = k * e;
    if (with_t) v += t.at(j) * (b + kd * e);
    if (kc != 0.0f && e > 0.0f) v += kc * e * ((x - shift) - cot_c0);
    g[j] = cap > 0.0f ? v * chain_f(row[j], cap) : v;
  }
  __syncthreads();  // the fixes overwrite entries other threads of this block wrote
  if (threadIdx.x == 0) {
    if (at[0] >= c0 && at[0] < c1) g[at[0]] = static_cast<float>(fix[0]);
    if (at[1] >= c0 && at[1] < c1) g[at[1]] = static_cast<float>(fix[1]);
  }
}

__global__ void bad_label_kernel(Labels labels, int64_t rows, int64_t classes, LossParams params, unsigned long long* first_bad) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r < rows && is_bad_label(labels, r, classes, params)) atomicMin(first_bad, static_cast<unsigned long long>(r));
}

// The same cut as the CPU: few long rows are split so that every SM has work.
struct Plan {
  int64_t parts, slice;
};

Plan plan(int64_t rows, int64_t classes) {
  int sms = 132;
  int device = 0;
  if (cudaGetDevice(&device) == cudaSuccess) cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  const int64_t want_tasks = 4LL * sms;
  Plan p{1, classes};
  if (rows < want_tasks && classes > 8192) {
    p.parts = std::min<int64_t>((want_tasks + rows - 1) / rows, classes / 4096);
    p.slice = (classes + p.parts - 1) / p.parts;
    p.slice = (p.slice + 3) / 4 * 4;  // keep slices 16-byte aligned
    p.parts = (classes + p.slice - 1) / p.slice;
  }
  return p;
}

// Scratch for partials.
Partial* partial_scratch(int64_t count) {
  return static_cast<Partial*>(scratch(Scratch::kLossPartials, static_cast<size_t>(count) * sizeof(Partial), "cudaMalloc (partials)"));
}

}  // namespace

int64_t find_bad_label(const LossCall& c) {
  if (is_dense(c.labels.format)) return -1;
  static unsigned long long* flag = nullptr;
  if (!flag) check(cudaMalloc(&flag, sizeof(unsigned long long)), "cudaMalloc (label check)");
  const unsigned long long none = ~0ull;
  check(cudaMemcpyAsync(flag, &none, sizeof none, cudaMemcpyHostToDevice, stream()), "cudaMemcpy");
  bad_label_kernel<<<(c.rows + 255) / 256, 256, 0, stream()>>>(c.labels, c.rows, c.classes, c.params, flag);
  check(cudaGetLastError(), "label check launch");
  unsigned long long first = none;
  check(cudaMemcpyAsync(&first, flag, sizeof first, cudaMemcpyDeviceToHost, stream()), "cudaMemcpy");
  check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
  return first == none ? -1 : static_cast<int64_t>(first);
}

namespace {
template <unsigned kNeeds>
void launch_stats(const LossCall& c, const float* u, const Plan& p, Partial* partials) {
  const int64_t tasks = c.rows * p.parts;
  if (p.slice <= 2048) {
    constexpr int kWarps = 8;
    stats_warp_kernel<kNeeds><<<(tasks + kWarps - 1) / kWarps, kWarps * 32, 0, stream()>>>(c, u, p.parts, p.slice, partials);
  } else {
    stats_block_kernel<kNeeds, 512><<<tasks, 512, 0, stream()>>>(c, u, p.parts, p.slice, partials);
  }
}

// The smoothing vector: the class weights when given; null means ones.
const float* smoothing_vector(const LossCall& c) { return c.class_weights; }
}  // namespace

void forward(const LossCall& c, float* row_loss) {
  const Plan p = plan(c.rows, c.classes);
  Partial* partials = partial_scratch(c.rows * p.parts);
  const bool dense = is_dense(c.labels.format);
  const unsigned needs = kind_needs(c.params.kind) | ((dense || c.params.label_smoothing > 0.0f) ? kNeedTargets : 0u);
  const float* u = smoothing_vector(c);
  with_needs(needs, [&](auto n) { launch_stats<decltype(n)::value>(c, u, p, partials); });
  check(cudaGetLastError(), "stats kernel launch");
  finish_kernel<<<(c.rows + 255) / 256, 256, 0, stream()>>>(c, u, p.parts, partials, row_loss);
  check(cudaGetLastError(), "finish kernel launch");
}

void backward(const LossCall& c, const float* dy, int64_t dy_len, double dy_scale, float* grad) {
  const int64_t chunks = (c.classes + kGradChunk - 1) / kGradChunk;
  gradient_kernel<<<c.rows * chunks, kGradThreads, 0, stream()>>>(c, smoothing_vector(c), dy, dy_len, dy_scale, chunks, grad);
  check(cudaGetLastError(), "gradient kernel launch");
}

}  // namespace cuda
}  // namespace mixloss
