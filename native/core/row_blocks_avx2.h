// Row loops written in AVX2 + FMA intrinsics, for CPUs without AVX-512 (AMD Zen 2 and 3, Intel's
// client CPUs since Alder Lake): the functions of row_blocks_avx512.h, each meaning the same, on
// 8 lanes. The compiler's clones of row_blocks.cpp call libmvec's 8-lane expf through the vector
// function ABI (every vector register spilled at each call), reduce lane after lane, and take a
// row shorter than 16 classes through scalar expf calls; these run exp8 inline (exp8.h: the
// same float as exp16 on every input), keep two accumulators, and take a tail, or a short row
// whole, in masked steps. row_blocks.cpp calls them when enabled() (after the AVX-512 loops).
#pragma once

#include <cstdint>

#include "block_sums.h"
#include "exp8.h"
#include "row_blocks.h"

#if defined(MIXLOSS_EXP16)
namespace mixloss {
namespace avx2 {

// Whether the row loops take these: on a CPU with AVX2 and FMA that does not take the AVX-512
// loops, unless MIXLOSS_ROW_LOOPS=clones. MIXLOSS_ROW_LOOPS=avx2 takes these on an AVX-512 CPU
// too (the suite checks them against its AVX-512 loops there).
bool enabled();

float sum_exp(const float* x, int64_t n, float m, float* out);
void sum_exp_diff(const float* x, int64_t n, float m, float* out, float* sum, float* diff);
ExpLogitSums sum_exp_logit(const float* x, int64_t n, float m, float* out);
DenseSums dense_sums(const float* x, const float* t, int64_t n, float m, float* out);
DenseSums dense_sums(const float* x, const int32_t* t, int64_t n, float m, float* out);
float sum_exp_near(const float* q, int64_t n, float inv, int tier, float M, float* out);
Extent extent(const float* x, int64_t n);

// A short row (n ≤ kShortRow, row_blocks.h) without its column skip, in masked steps of 8.
float max_without(const float* x, int64_t n, int64_t skip, int* has_nan);
float sum_exp_without(const float* x, int64_t n, int64_t skip, float m, float* out);
Extent extent_without(const float* x, int64_t n, int64_t skip);
float sum_exp_near_without(const float* q, int64_t n, int64_t skip, float inv, int tier, float M, float* out);

// out[j] = exp8(x[j]): what the tests check the exp's accuracy on where these loops run.
void exp_values(const float* x, int64_t n, float* out);

}  // namespace avx2
}  // namespace mixloss
#endif
