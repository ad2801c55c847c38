// Internal to the CUDA backend: the one stream every kernel and copy of the package runs on, and
// the check that turns a CUDA error into std::runtime_error with CUDA's own message
// (device_runtime.cu). The public interface is cuda_losses.h.
#pragma once

#include <cuda_runtime.h>

namespace mixloss {
namespace cuda {

void check(cudaError_t status, const char* what);
cudaStream_t stream();

}  // namespace cuda
}  // namespace mixloss
