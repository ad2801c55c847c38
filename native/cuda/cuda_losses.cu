// Fused softmax losses on NVIDIA GPUs.
//
// Statistics pass: each row (or, for few huge rows, each slice of a row) is reduced by a
// warp (short rows) or a block (long rows) to a Partial — online max and Σ exp with the
// target excluded, plus the dense targets' sums — read once with 16-byte loads. A second,
// tiny kernel merges a row's partials and finishes it with row_math.h, the same code the
// CPU runs. Gradient pass: a 2-D grid (row × column chunk) writes c·p_j (or the dense form)
// and fixes the target element from the exact 1 − p_y. 64-bit indexing throughout.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

#include "../core/row_math.h"
#include "cuda_losses.h"

namespace mixloss {
namespace cuda {

namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(status));
  }
}

cudaStream_t stream() {
  static cudaStream_t s = [] {
    cudaStream_t created;
    check(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking), "cudaStreamCreate");
    return created;
  }();
  return s;
}

// ---- per-thread accumulation ------------------------------------------------------------

struct Acc {
  float max;
  float sum;     // Σ exp(x − max), target excluded for sparse rows
  float t_exp;   // dense: Σ t exp(x − max)
  double t_logit; // dense: Σ t x (t = 0 terms skipped), in double: t·x can overflow float32
  float mass;    // dense: Σ t
  int nan;
};

__device__ __forceinline__ Acc empty_acc() { return {-INFINITY, 0.f, 0.f, 0.f, 0.f, 0}; }

template <bool kDense>
__device__ __forceinline__ void add(Acc& a, float x, float t) {
  if (kDense) {
    a.mass += t;
    if (t != 0.f) a.t_logit += static_cast<double>(t) * x;
  }
  if (x != x) { a.nan = 1; return; }
  if (x == -INFINITY) return;  // masked: exp(−∞) = 0
  if (x > a.max) {
    const float f = expf(a.max - x);  // 0 when a.max is −∞
    a.sum = a.sum * f + 1.f;
    if (kDense) a.t_exp = a.t_exp * f + t;
    a.max = x;
  } else {
    const float e = expf(x - a.max);
    a.sum += e;
    if (kDense) a.t_exp += t * e;
  }
}

__device__ __forceinline__ Acc combine(Acc a, Acc b) {
  Acc r;
  r.nan = a.nan | b.nan;
  r.t_logit = a.t_logit + b.t_logit;
  r.mass = a.mass + b.mass;
  r.max = fmaxf(a.max, b.max);
  const float fa = a.sum == 0.f && a.t_exp == 0.f ? 0.f : expf(a.max - r.max);
  const float fb = b.sum == 0.f && b.t_exp == 0.f ? 0.f : expf(b.max - r.max);
  r.sum = a.sum * fa + b.sum * fb;
  r.t_exp = a.t_exp * fa + b.t_exp * fb;
  return r;
}

__device__ __forceinline__ Acc shuffle_down(const Acc& a, int offset) {
  Acc r;
  r.max = __shfl_down_sync(0xffffffffu, a.max, offset);
  r.sum = __shfl_down_sync(0xffffffffu, a.sum, offset);
  r.t_exp = __shfl_down_sync(0xffffffffu, a.t_exp, offset);
  r.t_logit = __shfl_down_sync(0xffffffffu, a.t_logit, offset);
  r.mass = __shfl_down_sync(0xffffffffu, a.mass, offset);
  r.nan = __shfl_down_sync(0xffffffffu, a.nan, offset);
  return r;
}

__device__ __forceinline__ Acc warp_reduce(Acc a) {
  for (int offset = 16; offset > 0; offset >>= 1) a = combine(a, shuffle_down(a, offset));
  return a;
}

__device__ __forceinline__ float target_at(Labels labels, int64_t index) {
  return labels.format == LabelFormat::kDenseFloat32 ? static_cast<const float*>(labels.data)[index]
                                                     : static_cast<float>(static_cast<const int32_t*>(labels.data)[index]);
}

// Accumulates row elements [c0, c1) handled by `lane` of `lanes`, 16-byte loads when aligned.
template <bool kDense>
__device__ void accumulate(const float* row, Labels labels, int64_t row_offset, int64_t y, int64_t c0, int64_t c1,
                           int lane, int lanes, Acc& a) {
  const bool aligned = (reinterpret_cast<uintptr_t>(row + c0) & 15) == 0 &&
                       (!kDense || labels.format != LabelFormat::kDenseFloat32 ||
                        (reinterpret_cast<uintptr_t>(static_cast<const float*>(labels.data) + row_offset + c0) & 15) == 0);
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
        add<kDense>(a, xs[k], kDense ? target_at(labels, row_offset + base + k) : 0.f);
      }
    }
    j = c0 + 4 * n4;
  }
  for (int64_t i = j + lane; i < c1; i += lanes) {
    if (i == y) continue;
    add<kDense>(a, row[i], kDense ? target_at(labels, row_offset + i) : 0.f);
  }
}

__device__ __forceinline__ Partial acc_to_partial(const Acc& a) {
  Partial p;
  p.max = a.max;
  p.sum = a.nan ? NAN : static_cast<double>(a.sum);
  p.t_logit = a.t_logit;
  p.mass = a.mass;
  p.t_exp = a.t_exp;
  return p;
}

// ---- kernels ----------------------------------------------------------------------------

// One warp per task (task = row slice): for slices of up to a few thousand elements.
template <bool kDense>
__global__ void stats_warp_kernel(const float* logits, int64_t rows, int64_t classes, Labels labels, int64_t parts,
                                  int64_t slice, Partial* partials) {
  const int64_t task = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  if (task >= rows * parts) return;
  const int lane = threadIdx.x % 32;
  const int64_t r = task / parts, c0 = (task % parts) * slice, c1 = min(classes, c0 + slice);
  const int64_t y = kDense ? -1 : sparse_label(labels, r);
  Acc a = empty_acc();
  accumulate<kDense>(logits + r * classes, labels, r * classes, y, c0, c1, lane, 32, a);
  a = warp_reduce(a);
  if (lane == 0) partials[task] = acc_to_partial(a);
}

// One block per task: long slices.
template <bool kDense, int kThreads>
__global__ void stats_block_kernel(const float* logits, int64_t rows, int64_t classes, Labels labels, int64_t parts,
                                   int64_t slice, Partial* partials) {
  const int64_t task = blockIdx.x;
  const int64_t r = task / parts, c0 = (task % parts) * slice, c1 = min(classes, c0 + slice);
  const int64_t y = kDense ? -1 : sparse_label(labels, r);
  Acc a = empty_acc();
  accumulate<kDense>(logits + r * classes, labels, r * classes, y, c0, c1, threadIdx.x, kThreads, a);
  a = warp_reduce(a);
  __shared__ Acc warps[kThreads / 32];
  if (threadIdx.x % 32 == 0) warps[threadIdx.x / 32] = a;
  __syncthreads();
  if (threadIdx.x < 32) {
    a = threadIdx.x < kThreads / 32 ? warps[threadIdx.x] : empty_acc();
    a = warp_reduce(a);
    if (threadIdx.x == 0) partials[task] = acc_to_partial(a);
  }
}

// One thread per row: merge the row's partials, finish with row_math.h, write stats and loss.
__global__ void finish_kernel(const float* logits, int64_t rows, int64_t classes, Labels labels, LossParams params,
                              int64_t parts, const Partial* partials, float* stats, float* row_loss) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  Partial acc = partials[r * parts];
  for (int64_t k = 1; k < parts; ++k) merge(acc, partials[r * parts + k]);
  const bool dense = is_dense(labels.format);
  const RowStats s = dense ? finish_dense(acc) : finish_sparse(acc, logits[r * classes + sparse_label(labels, r)]);
  store_stats(s, stats + r * kStatsPerRow);
  row_loss[r] = dense ? dense_row(params, s).value : sparse_row(params, s).value;
}

constexpr int kGradThreads = 256;
constexpr int64_t kGradChunk = kGradThreads * 16;  // columns per block

// Grid: rows × ceil(classes / kGradChunk) blocks (flattened). g = w·(a p + b t + d t p).
template <bool kDense>
__global__ void gradient_kernel(const float* logits, int64_t rows, int64_t classes, Labels labels, LossParams params,
                                const float* stats, const float* dy, int64_t dy_len, double dy_scale, int64_t chunks,
                                float* grad) {
  const int64_t r = blockIdx.x / chunks, c0 = (blockIdx.x % chunks) * kGradChunk, c1 = min(classes, c0 + kGradChunk);
  __shared__ float coef[5];  // shift, k, b, kd, target value
  __shared__ long long target;
  if (threadIdx.x == 0) {
    const RowStats s = load_stats(stats + r * kStatsPerRow);
    const double w = static_cast<double>(dy[dy_len == 1 ? 0 : r]) * dy_scale;
    const double inv_sum = exp(-static_cast<double>(s.log_sum));
    coef[0] = s.max;
    if (kDense) {
      const DenseRow d = dense_row(params, s);
      coef[1] = static_cast<float>(w * d.a * inv_sum);
      coef[2] = static_cast<float>(w * d.b);
      coef[3] = static_cast<float>(w * d.d * inv_sum);
      target = -1;
    } else {
      const double c = sparse_row(params, s).c;
      coef[1] = static_cast<float>(w * c * inv_sum);
      coef[2] = 0.f;
      coef[3] = 0.f;
      coef[4] = static_cast<float>(-w * c * s.el);  // −w·c·(1 − p_y), exact near p_y = 1
      target = sparse_label(labels, r);
    }
  }
  __syncthreads();
  const float shift = coef[0], k = coef[1], b = coef[2], kd = coef[3];
  const float* row = logits + r * classes;
  float* g = grad + r * classes;
  for (int64_t j = c0 + threadIdx.x; j < c1; j += kGradThreads) {
    const float e = expf(row[j] - shift);
    float v = k * e;
    if (kDense) {
      const float t = target_at(labels, r * classes + j);
      v += t * (b + kd * e);
    }
    g[j] = v;
  }
  if (!kDense && threadIdx.x == 0 && target >= c0 && target < c1) g[target] = coef[4];
}

__global__ void bad_label_kernel(Labels labels, int64_t rows, int64_t classes, unsigned long long* first_bad) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r < rows && is_bad_label(labels, r, classes)) atomicMin(first_bad, static_cast<unsigned long long>(r));
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

// Scratch for partials, grown as needed (one stream, so one buffer suffices).
Partial* partial_scratch(int64_t count) {
  static std::mutex m;
  static Partial* buffer = nullptr;
  static int64_t capacity = 0;
  std::lock_guard<std::mutex> lock(m);
  if (count > capacity) {
    if (buffer) cudaFree(buffer);
    buffer = nullptr;
    check(cudaMalloc(&buffer, static_cast<size_t>(count) * sizeof(Partial)), "cudaMalloc (partials)");
    capacity = count;
  }
  return buffer;
}

}  // namespace

DeviceStatus device_status() {
  DeviceStatus st;
  const cudaError_t e = cudaGetDeviceCount(&st.device_count);
  if (e != cudaSuccess) {
    st.device_count = 0;
    st.error = cudaGetErrorString(e);
    cudaGetLastError();  // clear
    return st;
  }
  if (st.device_count == 0) {
    st.error = "no CUDA device";
    return st;
  }
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
    st.error = "cudaGetDeviceProperties failed";
    return st;
  }
  st.available = true;
  st.name = prop.name;
  st.compute_capability = prop.major * 10 + prop.minor;
  st.memory_gib = static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0);
  return st;
}

void* device_alloc(size_t bytes) {
  void* p = nullptr;
  check(cudaMalloc(&p, bytes == 0 ? 1 : bytes), "cudaMalloc");
  return p;
}

void device_free(void* ptr) noexcept {
  if (ptr) cudaFree(ptr);
}

namespace {
// Pinned staging buffer for host ↔ device copies of pageable memory (grow-only).
struct Staging {
  std::mutex m;
  void* host = nullptr;
  size_t capacity = 0;
};
Staging& staging() {
  static Staging s;
  return s;
}
constexpr size_t kStageChunk = size_t{64} << 20;

void* stage(Staging& s, size_t bytes) {
  const size_t want = std::min(bytes, kStageChunk);
  if (want > s.capacity) {
    if (s.host) cudaFreeHost(s.host);
    s.host = nullptr;
    check(cudaMallocHost(&s.host, want), "cudaMallocHost");
    s.capacity = want;
  }
  return s.host;
}
}  // namespace

namespace {
// Copies between pageable host memory and the device through the pinned buffer, a chunk at
// a time (the buffer is reused, so each chunk completes before the next).
void staged_copy(void* dst, const void* src, size_t bytes, bool to_device) {
  Staging& s = staging();
  std::lock_guard<std::mutex> lock(s.m);
  for (size_t off = 0; off < bytes; off += kStageChunk) {
    const size_t n = std::min(kStageChunk, bytes - off);
    char* pinned = static_cast<char*>(stage(s, n));
    char* d = static_cast<char*>(dst) + off;
    const char* h = static_cast<const char*>(src) + off;
    if (to_device) std::memcpy(pinned, h, n);
    check(cudaMemcpyAsync(to_device ? d : pinned, to_device ? pinned : h, n,
                          to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost, stream()),
          to_device ? "cudaMemcpy H2D" : "cudaMemcpy D2H");
    check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
    if (!to_device) std::memcpy(d, pinned, n);
  }
}
}  // namespace

void copy_to_device(void* dst, const void* src, size_t bytes) { staged_copy(dst, src, bytes, true); }

void copy_to_host(void* dst, const void* src, size_t bytes) { staged_copy(dst, src, bytes, false); }

void copy_device_to_device(void* dst, const void* src, size_t bytes) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream()), "cudaMemcpy D2D");
}

int64_t find_bad_label(Labels labels, int64_t rows, int64_t classes) {
  if (is_dense(labels.format)) return -1;
  static unsigned long long* flag = nullptr;
  if (!flag) check(cudaMalloc(&flag, sizeof(unsigned long long)), "cudaMalloc (label check)");
  const unsigned long long none = ~0ull;
  check(cudaMemcpyAsync(flag, &none, sizeof none, cudaMemcpyHostToDevice, stream()), "cudaMemcpy");
  bad_label_kernel<<<(rows + 255) / 256, 256, 0, stream()>>>(labels, rows, classes, flag);
  check(cudaGetLastError(), "label check launch");
  unsigned long long first = none;
  check(cudaMemcpyAsync(&first, flag, sizeof first, cudaMemcpyDeviceToHost, stream()), "cudaMemcpy");
  check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
  return first == none ? -1 : static_cast<int64_t>(first);
}

void synchronize() { check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize"); }

void loss_forward(const float* logits, int64_t rows, int64_t classes, Labels labels, const LossParams& params,
                  float* stats, float* row_loss) {
  const Plan p = plan(rows, classes);
  const int64_t tasks = rows * p.parts;
  Partial* partials = partial_scratch(tasks);
  const bool dense = is_dense(labels.format);
  if (p.slice <= 2048) {
    constexpr int kWarps = 8;
    const int64_t blocks = (tasks + kWarps - 1) / kWarps;
    if (dense) stats_warp_kernel<true><<<blocks, kWarps * 32, 0, stream()>>>(logits, rows, classes, labels, p.parts, p.slice, partials);
    else stats_warp_kernel<false><<<blocks, kWarps * 32, 0, stream()>>>(logits, rows, classes, labels, p.parts, p.slice, partials);
  } else {
    if (dense) stats_block_kernel<true, 512><<<tasks, 512, 0, stream()>>>(logits, rows, classes, labels, p.parts, p.slice, partials);
    else stats_block_kernel<false, 512><<<tasks, 512, 0, stream()>>>(logits, rows, classes, labels, p.parts, p.slice, partials);
  }
  check(cudaGetLastError(), "stats kernel launch");
  finish_kernel<<<(rows + 255) / 256, 256, 0, stream()>>>(logits, rows, classes, labels, params, p.parts, partials, stats, row_loss);
  check(cudaGetLastError(), "finish kernel launch");
}

void loss_backward(const float* logits, int64_t rows, int64_t classes, Labels labels, const LossParams& params,
                   const float* stats, const float* dy, int64_t dy_len, double dy_scale, float* grad) {
  const int64_t chunks = (classes + kGradChunk - 1) / kGradChunk;
  const int64_t blocks = rows * chunks;
  if (is_dense(labels.format)) {
    gradient_kernel<true><<<blocks, kGradThreads, 0, stream()>>>(logits, rows, classes, labels, params, stats, dy, dy_len, dy_scale, chunks, grad);
  } else {
    gradient_kernel<false><<<blocks, kGradThreads, 0, stream()>>>(logits, rows, classes, labels, params, stats, dy, dy_len, dy_scale, chunks, grad);
  }
  check(cudaGetLastError(), "gradient kernel launch");
}

}  // namespace cuda
}  // namespace mixloss
