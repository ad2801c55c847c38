// The fused head on the GPU for host arrays (the cpu and wasm backends' tensors): each call copies
// the head's inputs to device memory, runs the CUDA head (native/cuda/cuda_head.h) and copies the
// results back. Compiled only with CUDA (cuda_head_staging.cc); without it, a call that asks for
// the GPU fails with what to do.
#pragma once

#include <cstdint>

#include "../core/head/head.h"

namespace mixloss {

// stats [rows × kStatsPerRow] and row_loss [rows], host memory.
void cuda_head_forward_on_host(const head::HeadCall& host, float* stats, float* row_loss);

// The gradients into host memory (grad_bias null: none).
void cuda_head_backward_on_host(const head::HeadCall& host, const float* stats, const float* dy, int64_t dy_len, double dy_scale,
                                float* grad_hidden, float* grad_kernel, float* grad_bias);

}  // namespace mixloss
