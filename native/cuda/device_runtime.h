// Internal to the CUDA backend: the one stream every kernel and copy of the package runs on, and
// the check that turns a CUDA error into std::runtime_error with CUDA's own message
// (device_runtime.cu). The public interface is cuda_losses.h.
#pragma once

#include <cuda_runtime.h>

namespace mixloss {
namespace cuda {

void check(cudaError_t status, const char* what);
cudaStream_t stream();

// Device scratch that grows as needed and is kept, one buffer per user (one stream: kernels that
// use a buffer run in order). `what` names it in an allocation error.
enum class Scratch : int { kLossPartials, kHead, kCount };
void* scratch(Scratch user, size_t bytes, const char* what);

}  // namespace cuda
}  // namespace mixloss
