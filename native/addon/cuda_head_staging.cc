// The CUDA head for host arrays (cuda_head_staging.h): device copies of the inputs, the kernels,
// the results copied back. The device buffers are kept across calls, one per role, grown as
// needed (cudaMalloc and cudaFree every training step would cost more than small kernels do);
// calls hold a lock while they use them (the package has one stream anyway).
#include "cuda_head_staging.h"

#include <mutex>

#include "../core/row_stats.h"
#include "../cuda/cuda_head.h"
#include "../cuda/cuda_losses.h"

namespace mixloss {
namespace {

enum Role : int {
  kHidden,
  kKernel,
  kBias,
  kLabels,
  kClassWeights,
  kRowWeights,
  kStats,
  kRowLoss,
  kDy,
  kGradHidden,
  kGradKernel,
  kGradBias,
  kRoles
};

std::mutex& calls() {
  static std::mutex m;
  return m;
}

// The device buffer of a role, at least `count` floats (or int32s); callers hold calls().
float* buffer(Role role, int64_t count) {
  static void* ptr[kRoles] = {};
  static size_t capacity[kRoles] = {};
  const size_t bytes = static_cast<size_t>(count) * 4;
  if (bytes > capacity[role]) {
    cuda::device_free(ptr[role]);
    ptr[role] = nullptr;
    capacity[role] = 0;
    ptr[role] = cuda::device_alloc(bytes);  // throws: the role stays empty
    capacity[role] = bytes;
  }
  return static_cast<float*>(ptr[role]);
}

// `count` host values into the role's device buffer.
template <typename T>
T* upload(Role role, const T* host, int64_t count) {
  float* d = buffer(role, count);
  cuda::copy_to_device(d, host, static_cast<size_t>(count) * 4);
  return reinterpret_cast<T*>(d);
}

// The head's inputs on the device: the HeadCall that points at them.
head::HeadCall staged(const head::HeadCall& c) {
  head::HeadCall dev = c;
  dev.hidden = upload(kHidden, c.hidden, c.rows * c.dims);
  dev.kernel = upload(kKernel, c.kernel, c.dims * c.classes);
  dev.labels.data = upload(kLabels, static_cast<const float*>(c.labels.data), c.rows);
  if (c.bias != nullptr) dev.bias = upload(kBias, c.bias, c.classes);
  if (c.class_weights != nullptr) dev.class_weights = upload(kClassWeights, c.class_weights, c.total_classes);
  if (c.row_weights != nullptr) dev.row_weights = upload(kRowWeights, c.row_weights, c.rows);
  return dev;
}

void download(float* host, Role role, int64_t count) { cuda::copy_to_host(host, buffer(role, count), static_cast<size_t>(count) * 4); }

}  // namespace

void cuda_head_forward_on_host(const head::HeadCall& host, float* stats, float* row_loss) {
  std::lock_guard<std::mutex> lock(calls());
  const head::HeadCall dev = staged(host);
  cuda::head_forward(dev, buffer(kStats, host.rows * kStatsPerRow), buffer(kRowLoss, host.rows));
  download(stats, kStats, host.rows * kStatsPerRow);
  download(row_loss, kRowLoss, host.rows);
}

void cuda_head_backward_on_host(const head::HeadCall& host, const float* stats, const float* dy, int64_t dy_len, double dy_scale,
                                float* grad_hidden, float* grad_kernel, float* grad_bias) {
  std::lock_guard<std::mutex> lock(calls());
  const head::HeadCall dev = staged(host);
  const float* d_stats = upload(kStats, stats, host.rows * kStatsPerRow);
  const float* d_dy = upload(kDy, dy, dy_len);
  cuda::head_backward(dev, d_stats, d_dy, dy_len, dy_scale, buffer(kGradHidden, host.rows * host.dims),
                      buffer(kGradKernel, host.dims * host.classes), grad_bias != nullptr ? buffer(kGradBias, host.classes) : nullptr);
  download(grad_hidden, kGradHidden, host.rows * host.dims);
  download(grad_kernel, kGradKernel, host.dims * host.classes);
  if (grad_bias != nullptr) download(grad_bias, kGradBias, host.classes);
}

}  // namespace mixloss
