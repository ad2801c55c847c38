// Shared by the CUDA self-test and benchmark: deterministic inputs and device buffers.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "cuda_losses.h"

namespace tools {

// Logits in [−4, 4) from a linear congruential stream: the same numbers on every run.
inline std::vector<float> logits(int64_t n, uint32_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  uint32_t s = seed;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = (static_cast<float>(s >> 8) / 16777216.0f - 0.5f) * 8.0f;
  }
  return v;
}

inline std::vector<int32_t> labels(int64_t rows, int64_t classes, uint32_t seed) {
  std::vector<int32_t> v(static_cast<size_t>(rows));
  uint32_t s = seed;
  for (auto& y : v) {
    s = s * 1664525u + 1013904223u;
    y = static_cast<int32_t>(static_cast<uint64_t>(s) * static_cast<uint64_t>(classes) >> 32);
  }
  return v;
}

// A device buffer holding a host vector (freed on scope exit).
struct Device {
  void* ptr = nullptr;
  size_t bytes = 0;
  explicit Device(size_t n) : ptr(mixloss::cuda::device_alloc(n)), bytes(n) {}
  template <typename T>
  explicit Device(const std::vector<T>& host) : Device(host.size() * sizeof(T)) {
    mixloss::cuda::copy_to_device(ptr, host.data(), bytes);
  }
  ~Device() { mixloss::cuda::device_free(ptr); }
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr);
  }
  template <typename T>
  std::vector<T> download() const {
    std::vector<T> host(bytes / sizeof(T));
    mixloss::cuda::copy_to_host(host.data(), ptr, bytes);
    return host;
  }
};

}  // namespace tools
