// CUDA fused losses: the same per-row math as the CPU core (row_math.h), on device memory.
// Plain C++ interface (no CUDA headers), so the N-API layer compiles without nvcc. Every
// function throws std::runtime_error with CUDA's own message on failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/fused_loss.h"

namespace mixloss {
namespace cuda {

struct DeviceStatus {
  bool available = false;
  int device_count = 0;
  std::string name;          // device 0
  int compute_capability = 0;  // e.g. 90
  double memory_gib = 0.0;
  std::string error;         // why not available
};

DeviceStatus device_status();

// Device memory, on the current device. Sizes in bytes.
void* device_alloc(size_t bytes);
void device_free(void* ptr) noexcept;
void copy_to_device(void* dst, const void* src, size_t bytes);  // from host (staged, pinned)
void copy_to_host(void* dst, const void* src, size_t bytes);    // to host (staged, pinned)
void copy_device_to_device(void* dst, const void* src, size_t bytes);  // asynchronous
void synchronize();

// First row whose sparse label (on the device) is not a class id in [0, classes), or -1.
// Synchronizes: kernels must never index with a bad label.
int64_t find_bad_label(Labels labels, int64_t rows, int64_t classes);

// The kernels, on device pointers (labels.data is a device pointer). Asynchronous on the
// package's stream; stats and row_loss as in the CPU core.
void loss_forward(const float* logits, int64_t rows, int64_t classes, Labels labels, const LossParams& params,
                  float* stats, float* row_loss);
void loss_backward(const float* logits, int64_t rows, int64_t classes, Labels labels, const LossParams& params,
                   const float* stats, const float* dy, int64_t dy_len, double dy_scale, float* grad);

}  // namespace cuda
}  // namespace mixloss
