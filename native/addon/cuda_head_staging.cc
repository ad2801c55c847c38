// The CUDA head for host arrays (cuda_head_staging.h): device copies of the inputs, the kernels,
// the results copied back. Device memory is allocated per call and freed when the call returns.
#include "cuda_head_staging.h"

#include "../core/row_stats.h"
#include "../cuda/cuda_head.h"
#include "../cuda/cuda_losses.h"

namespace mixloss {
namespace {

// Device memory for one call, freed on scope exit.
class DeviceArray {
 public:
  explicit DeviceArray(size_t bytes) : ptr_(bytes > 0 ? cuda::device_alloc(bytes) : nullptr) {}
  ~DeviceArray() { cuda::device_free(ptr_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_;
};

size_t bytes_of(int64_t count) { return static_cast<size_t>(count) * 4; }

// The head's inputs on the device, and the HeadCall that points at them.
struct StagedHead {
  DeviceArray hidden, kernel, bias, labels, class_weights, row_weights;
  head::HeadCall dev;

  explicit StagedHead(const head::HeadCall& c)
      : hidden(bytes_of(c.rows * c.dims)),
        kernel(bytes_of(c.dims * c.classes)),
        bias(c.bias != nullptr ? bytes_of(c.classes) : 0),
        labels(bytes_of(c.rows)),
        class_weights(c.class_weights != nullptr ? bytes_of(c.total_classes) : 0),
        row_weights(c.row_weights != nullptr ? bytes_of(c.rows) : 0),
        dev(c) {
    cuda::copy_to_device(hidden.as<void>(), c.hidden, bytes_of(c.rows * c.dims));
    cuda::copy_to_device(kernel.as<void>(), c.kernel, bytes_of(c.dims * c.classes));
    cuda::copy_to_device(labels.as<void>(), c.labels.data, bytes_of(c.rows));
    dev.hidden = hidden.as<float>();
    dev.kernel = kernel.as<float>();
    dev.labels.data = labels.as<void>();
    if (c.bias != nullptr) {
      cuda::copy_to_device(bias.as<void>(), c.bias, bytes_of(c.classes));
      dev.bias = bias.as<float>();
    }
    if (c.class_weights != nullptr) {
      cuda::copy_to_device(class_weights.as<void>(), c.class_weights, bytes_of(c.total_classes));
      dev.class_weights = class_weights.as<float>();
    }
    if (c.row_weights != nullptr) {
      cuda::copy_to_device(row_weights.as<void>(), c.row_weights, bytes_of(c.rows));
      dev.row_weights = row_weights.as<float>();
    }
  }
};

}  // namespace

void cuda_head_forward_on_host(const head::HeadCall& host, float* stats, float* row_loss) {
  StagedHead s(host);
  DeviceArray st(bytes_of(host.rows * kStatsPerRow)), rl(bytes_of(host.rows));
  cuda::head_forward(s.dev, st.as<float>(), rl.as<float>());
  cuda::copy_to_host(stats, st.as<void>(), bytes_of(host.rows * kStatsPerRow));
  cuda::copy_to_host(row_loss, rl.as<void>(), bytes_of(host.rows));
}

void cuda_head_backward_on_host(const head::HeadCall& host, const float* stats, const float* dy, int64_t dy_len, double dy_scale,
                                float* grad_hidden, float* grad_kernel, float* grad_bias) {
  StagedHead s(host);
  DeviceArray st(bytes_of(host.rows * kStatsPerRow)), d_dy(bytes_of(dy_len));
  DeviceArray gh(bytes_of(host.rows * host.dims)), gk(bytes_of(host.dims * host.classes)),
      gb(grad_bias != nullptr ? bytes_of(host.classes) : 0);
  cuda::copy_to_device(st.as<void>(), stats, bytes_of(host.rows * kStatsPerRow));
  cuda::copy_to_device(d_dy.as<void>(), dy, bytes_of(dy_len));
  cuda::head_backward(s.dev, st.as<float>(), d_dy.as<float>(), dy_len, dy_scale, gh.as<float>(), gk.as<float>(), gb.as<float>());
  cuda::copy_to_host(grad_hidden, gh.as<void>(), bytes_of(host.rows * host.dims));
  cuda::copy_to_host(grad_kernel, gk.as<void>(), bytes_of(host.dims * host.classes));
  if (grad_bias != nullptr) cuda::copy_to_host(grad_bias, gb.as<void>(), bytes_of(host.classes));
}

}  // namespace mixloss
