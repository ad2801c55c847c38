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

// The instruction set the dispatcher picks for these loops on this CPU ("avx2", "baseline").
const char* simd_level();

}  // namespace mixloss
