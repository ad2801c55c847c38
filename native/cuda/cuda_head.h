// The fused classifier head on NVIDIA GPUs: head.h's HeadCall with device pointers, the same
// row math and records as the CPU head, the logits never stored. Plain C++ interface (no CUDA
// headers). Asynchronous on the package's stream; throws std::runtime_error with CUDA's message.
#pragma once

#include <cstdint>

#include "../core/head/head.h"

namespace mixloss {
namespace cuda {

// A whole head (class_offset 0, total_classes == classes), labels checked by the caller: row
// statistics [rows × kStatsPerRow] (row_stats.h) and each row's loss times its sample weight.
void head_forward(const head::HeadCall& c, float* stats, float* row_loss);

// The gradients of Σ_r dy_r·dy_scale·w_r·ℓ_r from head_forward's statistics: grad_hidden
// [rows × dims], grad_kernel [dims × classes], grad_bias [classes] (null: none), all overwritten.
void head_backward(const head::HeadCall& c, const float* stats, const float* dy, int64_t dy_len, double dy_scale, float* grad_hidden,
                   float* grad_kernel, float* grad_bias);

}  // namespace cuda
}  // namespace mixloss
