// The benchmark's floor for the head: the three matrix products of one training step (Z = H·W,
// dW = Hᵀ·G, dH = G·Wᵀ) on the head's own tiles, tasks and library, with no loss in between (G
// is the logits' tile itself) and no recomputation: what the fused step would cost if the loss
// were free (mixloss bench head).
#pragma once

#include <cstdint>

namespace mixloss {
namespace head {

// grad_hidden [rows × dims] and grad_kernel [dims × classes] are overwritten.
void gemm_floor(const float* hidden, const float* kernel, int64_t rows, int64_t dims, int64_t classes, float* grad_hidden,
                float* grad_kernel);

}  // namespace head
}  // namespace mixloss
