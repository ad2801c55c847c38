// The CUDA backend's device runtime: the device's status, memory, the package's stream, and
// the pinned staging of host copies. The loss kernels (cuda_losses.cu) launch on this stream.
#include "device_runtime.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

#include "cuda_losses.h"

namespace mixloss {
namespace cuda {

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
    check(cudaMemcpyAsync(to_device ? d : pinned, to_device ? pinned : h, n, to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost,
                          stream()),
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

void synchronize() { check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize"); }

void* scratch(Scratch user, size_t bytes, const char* what) {
  struct Buffer {
    void* ptr = nullptr;
    size_t capacity = 0;
  };
  static std::mutex m;
  static Buffer buffers[static_cast<int>(Scratch::kCount)];
  std::lock_guard<std::mutex> lock(m);
  Buffer& b = buffers[static_cast<int>(user)];
  if (bytes > b.capacity) {
    if (b.ptr) cudaFree(b.ptr);
    b = Buffer{};
    check(cudaMalloc(&b.ptr, bytes), what);
    b.capacity = bytes;
  }
  return b.ptr;
}

}  // namespace cuda
}  // namespace mixloss
