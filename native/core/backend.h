// The backend contract: the entry points every device backend implements, on memory of its
// own device (host memory for cpu, device pointers for cuda), declared once here and defined
// in the backend's namespace (cpu: fused_loss.cpp; cuda: native/cuda/cuda_losses.cu), as
// PyTorch's DECLARE_DISPATCH/REGISTER_DISPATCH split a kernel's declaration from each
// device's definition. Every backend runs the same per-row math (row_math.h) on the same
// accumulator (accumulator.h) and leaves the same row statistics (row_stats.h).
#pragma once

#include <cstdint>

#include "labels.h"
#include "loss_spec.h"
#include "row_stats.h"

namespace mixloss {

// One kernel call: the inputs, what to compute, and where the row statistics go.
struct LossCall {
  const float* logits;  // [rows, classes]
  int64_t rows, classes;
  Labels labels;
  LossParams params;                   // kind, named parameters, options (validated by the caller)
  const float* class_weights;          // [classes] or nullptr: class ids only
  float* stats;                        // [rows × kStatsPerRow]
  const float* row_weights = nullptr;  // [rows] sample weights, or nullptr: each row's loss and gradient × w_r
};

// Each backend's entry points (asynchronous on device backends):
//   find_bad_label  the first row whose class id is neither in [0, classes) nor ignored, or −1;
//                   run before any kernel (kernels never index with a bad label)
//   forward         stats and row_loss[rows] (× the row weight; 0 on ignored rows)
//   backward        grad[rows × classes] = w_r·∂loss_r/∂logits_r, w_r = dy[r or 0]·dy_scale
#define MIXLOSS_BACKEND_ENTRY_POINTS                   \
  int64_t find_bad_label(const LossCall& call);        \
  void forward(const LossCall& call, float* row_loss); \
  void backward(const LossCall& call, const float* dy, int64_t dy_len, double dy_scale, float* grad);

namespace cpu {
MIXLOSS_BACKEND_ENTRY_POINTS
}  // namespace cpu

namespace cuda {
MIXLOSS_BACKEND_ENTRY_POINTS
}  // namespace cuda

// What a 'mean' can divide by, from host labels and weights, over the rows not ignored.
struct MeanDivisors {
  double class_weights;   // Σ w[y_r] (PyTorch's weighted mean; the row count without class weights)
  double rows;            // the number of rows
  double sample_weights;  // Σ s_r (tf.Reduction.MEAN; the row count without sample weights)
  double nonzero;         // rows with s_r ≠ 0 (tf.Reduction.SUM_BY_NONZERO_WEIGHTS)
};
MeanDivisors mean_divisors(const LossCall& host_call);

}  // namespace mixloss
