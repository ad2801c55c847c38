// The CPU fused softmax losses: the public C++ API of the native core (no Node here).
//
// Forward is one pass over each row that leaves per-row statistics (RowStats, kStatsPerRow floats) and
// the row loss; backward is one pass that writes the gradient from the logits and those
// statistics. Neither ever materializes a softmax or a one-hot tensor. All indexing is 64-bit.
#pragma once

#include <cstdint>

#include "row_math.h"

namespace mixloss {

enum class LabelFormat : int32_t {
  kSparseInt32 = 0,    // [B] class ids
  kSparseFloat32 = 1,  // [B] class ids stored as floats (tfjs-layers' yTrue)
  kDenseFloat32 = 2,   // [B, C] one-hot or probabilities
  kDenseInt32 = 3,     // [B, C] one-hot stored as int32 (tf.oneHot)
};

struct Labels {
  LabelFormat format;
  const void* data;
};

MIXLOSS_HD bool is_dense(LabelFormat f) { return f == LabelFormat::kDenseFloat32 || f == LabelFormat::kDenseInt32; }

// The class id of row r (sparse labels). Host and device.
MIXLOSS_HD int64_t sparse_label(Labels labels, int64_t r) {
  return labels.format == LabelFormat::kSparseInt32 ? static_cast<const int32_t*>(labels.data)[r]
                                                    : static_cast<int64_t>(static_cast<const float*>(labels.data)[r]);
}

// Whether row r's sparse label is not an integer in [0, classes). Host and device.
MIXLOSS_HD bool is_bad_label(Labels labels, int64_t r, int64_t classes) {
  if (labels.format == LabelFormat::kSparseInt32) {
    const int32_t y = static_cast<const int32_t*>(labels.data)[r];
    return y < 0 || y >= classes;
  }
  const float y = static_cast<const float*>(labels.data)[r];
  return !(y >= 0.0f && y < static_cast<float>(classes) && floorf(y) == y);
}

// Returns the first row whose sparse label is not an integer in [0, classes), or -1.
int64_t find_bad_label(Labels labels, int64_t rows, int64_t classes);

// Writes stats[rows × kStatsPerRow] and row_loss[rows]; returns Σ row_loss in double.
double loss_forward(const float* logits, int64_t rows, int64_t classes, Labels labels, const LossParams& params,
                    float* stats, float* row_loss);

// Writes grad[rows × classes] = w_r · ∂loss_r/∂logits_r, where w_r = dy[r]·dy_scale when
// dy_len == rows, or dy[0]·dy_scale for every row when dy_len == 1.
void loss_backward(const float* logits, int64_t rows, int64_t classes, Labels labels, const LossParams& params,
                   const float* stats, const float* dy, int64_t dy_len, double dy_scale, float* grad);

// The fused value-and-gradient pass for training: loss_forward's outputs, and in the same
// pass grad = grad_scale · ∂loss_r/∂logits_r, with one exp per element (exp(q − max) is
// stored once, then rescaled in place while the row slice is still in cache). A later
// backward with upstream gradient dy then only needs scale_rows.
double loss_forward_backward(const float* logits, int64_t rows, int64_t classes, Labels labels,
                             const LossParams& params, float* stats, float* row_loss, double grad_scale, float* grad);

// grad[r, :] *= dy[r]·scale (dy_len == rows) or dy[0]·scale (dy_len == 1).
void scale_rows(float* grad, int64_t rows, int64_t classes, const float* dy, int64_t dy_len, double scale);

}  // namespace mixloss
