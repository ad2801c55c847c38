// The CPU backend of the fused softmax losses: the public C++ API of the native core (no
// Node here). It implements the entry points of backend.h in namespace cpu, plus the fused
// value-and-gradient pass that training uses.
//
// Forward is one pass over each row that leaves per-row statistics (row_stats.h) and the row
// loss; backward is one pass that writes the gradient from the logits and those statistics.
// Neither ever materializes a softmax or a one-hot tensor. All indexing is 64-bit.
#pragma once

#include <cstdint>

#include "backend.h"
#include "row_math.h"

namespace mixloss {
namespace cpu {

// forward's outputs, and in the same pass grad = grad_scale · ∂loss_r/∂logits_r, with one exp
// per element (exp(q − max) is stored once, then rescaled in place while the row slice is
// still in cache). A later backward with upstream gradient dy then only needs scale_rows.
void forward_backward(const LossCall& call, float* row_loss, double grad_scale, float* grad);

// grad[r, :] *= dy[r]·scale (dy_len == rows) or dy[0]·scale (dy_len == 1).
void scale_rows(float* grad, int64_t rows, int64_t classes, const float* dy, int64_t dy_len, double scale);

}  // namespace cpu
}  // namespace mixloss
