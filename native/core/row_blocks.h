// Vectorized loops over a contiguous slice of one row: the only code that touches logits
// element by element. Each is compiled once per ISA (target_clones) and GCC turns the expf
// calls into glibc's libmvec vector calls through the `simd` declaration in row_blocks.cpp.
#pragma once

#include <cstdint>

#include "row_math.h"

namespace mixloss {

// Adds x[0, n) into a partial of the sparse statistics (max and Σ exp).
void accumulate_sparse(const float* x, int64_t n, Partial& acc);

// Adds x[0, n) with targets t[0, n) into a partial of the dense statistics.
void accumulate_dense(const float* x, const float* t, int64_t n, Partial& acc);
void accumulate_dense(const float* x, const int32_t* t, int64_t n, Partial& acc);

// g[j] = k · exp(x[j] − shift) for j in [0, n).
void scaled_exp(const float* x, int64_t n, float shift, float k, float* g);

// g[j] = k·exp(x[j] − shift) + b·t[j] + kd·t[j]·exp(x[j] − shift) for j in [0, n).
void dense_gradient(const float* x, const float* t, int64_t n, float shift, float k, float b, float kd, float* g);
void dense_gradient(const float* x, const int32_t* t, int64_t n, float shift, float k, float b, float kd,
                    float* g);

// Loops of the fused value-and-gradient pass (fused_loss.cpp, loss_forward_backward), which
// stores exp(x − M) once and rescales it instead of computing exp twice.

// Max of x[0, n) (−∞ when empty); sets *has_nan when x holds a NaN, which a max ignores.
float slice_max(const float* x, int64_t n, int* has_nan);

// out[j] = exp(x[j] − M); returns Σ out[j] (blocked: float lanes, double across blocks).
double exp_store_sum(const float* x, int64_t n, float M, float* out);

// out[j] = exp(x[j] − M), and the dense sums of accumulate_dense into acc (acc.max = M).
void exp_store_dense(const float* x, const float* t, int64_t n, float M, float* out, Partial& acc);
void exp_store_dense(const float* x, const int32_t* t, int64_t n, float M, float* out, Partial& acc);

// g[j] *= k.
void scale_in_place(float* g, int64_t n, float k);

// g[j] = k·g[j] + t[j]·(b + kd·g[j])  (g holds exp(x − M) on entry).
void dense_from_exp(float* g, const float* t, int64_t n, float k, float b, float kd);
void dense_from_exp(float* g, const int32_t* t, int64_t n, float k, float b, float kd);

// The instruction set the dispatcher picks for these loops on this CPU ("avx2", "baseline").
const char* simd_level();

}  // namespace mixloss
