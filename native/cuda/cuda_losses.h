// CUDA fused losses: the same per-row math as the CPU core (row_math.h), on device memory.
// Plain C++ interface (no CUDA headers), so the N-API layer compiles without nvcc. Every
// function throws std::runtime_error with CUDA's own message on failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/backend.h"

namespace mixloss {
namespace cuda {

struct DeviceStatus {
  bool available = false;
  int device_count = 0;
  std::string name;            // device 0
  int compute_capability = 0;  // e.g. 90
  double memory_gib = 0.0;
  std::string error;  // why not available
};

DeviceStatus device_status();

// Device memory, on the current device. Sizes in bytes.
void* device_alloc(size_t bytes);
void device_free(void* ptr) noexcept;
void copy_to_device(void* dst, const void* src, size_t bytes);         // from host (staged, pinned)
void copy_to_host(void* dst, const void* src, size_t bytes);           // to host (staged, pinned)
void copy_device_to_device(void* dst, const void* src, size_t bytes);  // asynchronous
void synchronize();

// The loss entry points (find_bad_label, forward, backward) are declared in core/backend.h:
// device pointers, asynchronous on the package's stream; find_bad_label synchronizes.

}  // namespace cuda
}  // namespace mixloss
