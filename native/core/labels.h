// Labels as the kernels read them, on the host or the device: class ids (int32, or floats as
// tfjs-layers passes them) or dense targets [rows, classes].
#pragma once

#include <cmath>
#include <cstdint>

#include "hd.h"
#include "loss_spec.h"

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

// The class id of row r (sparse labels).
MIXLOSS_HD int64_t sparse_label(Labels labels, int64_t r) {
  return labels.format == LabelFormat::kSparseInt32 ? static_cast<const int32_t*>(labels.data)[r]
                                                    : static_cast<int64_t>(static_cast<const float*>(labels.data)[r]);
}

// Whether row r is left out by the ignore_index option (sparse labels only).
MIXLOSS_HD bool is_ignored(Labels labels, int64_t r, const LossParams& P) {
  if (!P.has_ignore_index || is_dense(labels.format)) return false;
  return labels.format == LabelFormat::kSparseInt32 ? static_cast<const int32_t*>(labels.data)[r] == P.ignore_index
                                                    : static_cast<const float*>(labels.data)[r] == static_cast<float>(P.ignore_index);
}

// Whether row r's sparse label is neither an integer in [0, classes) nor ignored.
MIXLOSS_HD bool is_bad_label(Labels labels, int64_t r, int64_t classes, const LossParams& P) {
  if (is_ignored(labels, r, P)) return false;
  if (labels.format == LabelFormat::kSparseInt32) {
    const int32_t y = static_cast<const int32_t*>(labels.data)[r];
    return y < 0 || y >= classes;
  }
  const float y = static_cast<const float*>(labels.data)[r];
  return !(y >= 0.0f && y < static_cast<float>(classes) && floorf(y) == y);
}

}  // namespace mixloss
