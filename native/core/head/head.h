// The fused classifier head: a loss of the logits hidden · kernel + bias, for every kind whose
// gradient is the seam's c·(p − onehot), computed a tile of classes at a time so that the
// logits never exist beyond one tile per task. The statistics of a row (its online max, Σ exp
// over the classes but the target, the target logit, the smoothing sums) come from the same
// accumulator as the row kernels (accumulator.h), the per-row step from the same row math
// (row_math.h); backward recomputes each tile.
//
// A call covers one shard of the classes: columns [class_offset, class_offset + classes) of a
// head of total_classes (the whole head is one shard). Shards' statistics merge exactly, in any
// order (merge_shard_statistics), which is what a head split over devices or processes needs.
#pragma once

#include <cstdint>

#include "../labels.h"
#include "../loss_spec.h"

namespace mixloss {
namespace head {

struct HeadCall {
  const float* hidden;  // [rows × dims]
  const float* kernel;  // [dims × classes]: this shard's columns, row stride `classes`
  const float* bias;    // [classes] or null
  int64_t rows, dims, classes;
  int64_t class_offset;        // the shard's first class in the head
  int64_t total_classes;       // the head's C (class ids, smoothing's ε/C, class weights' length)
  Labels labels;               // sparse class ids [rows], ids of the whole head
  LossParams params;           // params.softcap > 0: the loss sees softcap·tanh(z/softcap)
  const float* class_weights;  // [total_classes] or null
  const float* row_weights;    // [rows] or null
};

// A shard's statistics of one row, kShardStats floats in this order: the max over its classes
// but the target (−∞ for none), Σ exp(z − max) over them, Σ u·z, Σ u·exp(z − max), Σ u (the
// smoothing vector u: class weights or ones; 0 without smoothing), the target logit, and 1 when
// the target is in this shard (0 otherwise).
enum ShardSlot : int { kShardMax, kShardSum, kShardULogit, kShardUExp, kShardUMass, kShardTarget, kShardHasTarget, kShardStats };

// A shard's statistics [rows × kShardStats].
void shard_statistics(const HeadCall& c, float* out);

// a ⊕ b into out [rows × kShardStats] (out may be a or b): exact and associative.
void merge_shard_statistics(const float* a, const float* b, int64_t rows, float* out);

// The first row that is not ignored and whose target no merged shard held, or −1.
int64_t find_unowned_target(const float* merged, int64_t rows, const Labels& labels, const LossParams& params);

// The rows finished from merged statistics: row statistics [rows × kStatsPerRow] (row_stats.h,
// as the row kernels store them) and each row's loss times its sample weight.
void finish_rows(const HeadCall& c, const float* merged, float* stats, float* row_loss);

// The gradients of Σ_r dy_r·dy_scale·w_r·ℓ_r for this shard, from finished row statistics:
// grad_hidden [rows × dims] (this shard's part: the caller sums over shards), grad_kernel
// [dims × classes] and grad_bias [classes] (null: none), all overwritten.
void shard_backward(const HeadCall& c, const float* stats, const float* dy, int64_t dy_len, double dy_scale, float* grad_hidden,
                    float* grad_kernel, float* grad_bias);

// The k best classes of each row by logit, as log-probabilities (z − lse) and class ids, best
// first (ties: the lower id). values [rows × k], indices [rows × k].
void top_k(const HeadCall& c, int64_t k, float* values, int32_t* indices);

}  // namespace head
}  // namespace mixloss
