// Vectorized loops over a contiguous slice of one row: the only code that touches logits
// element by element. Each is compiled once per ISA (target_clones) and GCC turns the
// mixloss_expf calls into vector calls through the `simd` declaration in vector_exp.h.
// The targets t are read through T: a pointer to float or int32_t (tf.oneHot's storage), or
// Ones, the smoothing vector of label smoothing without class weights (every entry 1, nothing
// read: the loops specialize to it).
#pragma once

#include <cstdint>

#include "accumulator.h"

namespace mixloss {

// Targets that are all 1, read from no memory: t[j] is 1 and t + j is t.
struct Ones {
  float operator[](int64_t) const { return 1.0f; }
  Ones operator+(int64_t) const { return *this; }
};

// Adds x[0, n) into a partial of the sparse statistics (max and Σ exp); with kArgmax also the
// first index of the max, counting x[0] as column col0.
template <bool kArgmax>
void accumulate_sparse(const float* x, int64_t n, int64_t col0, Partial& acc);

// accumulate_sparse, and Σ exp(x − max)·(x − max) into acc.e_logit (complement entropy).
template <bool kArgmax>
void accumulate_sparse_logit(const float* x, int64_t n, int64_t col0, Partial& acc);

// out[j] = exp(x[j] − M); adds Σ out[j] and Σ out[j]·(x[j] − M) into acc (acc.max = M).
void exp_store_sum_logit(const float* x, int64_t n, float M, float* out, Partial& acc);

// Complement entropy's gradient with the seam's p_j term: g[j] = e_j·(k + kc·((x[j] − shift) − c0)),
// e_j from src as in the loops below (0 where e_j is 0: masked classes). c0 is relative to
// shift, so that the bracket is formed from x[j] − shift (exact near the row's top) and a small
// c0, not from two logit-sized floats (a logit of 16384 would leave the bracket ~1e-3 off).
template <bool kFromLogits>
void complement_gradient(const float* src, const float* x, int64_t n, float shift, float k, float kc, float c0, float* g);

// Adds x[0, n) with targets t[0, n) into a partial of the statistics against t.
template <bool kArgmax, typename T>
void accumulate_dense(const float* x, T t, int64_t n, int64_t col0, Partial& acc);

// The first j in [0, n) with x[j] == m, or −1.
int64_t first_index_of(const float* x, int64_t n, float m);

// The same for m = max x[0, n): finds the block first (vectorized), then scans only it.
int64_t first_index_of_max(const float* x, int64_t n, float m);

// Max of x[0, n) (−∞ when empty); sets *has_nan when x holds a NaN, which a max ignores.
float slice_max(const float* x, int64_t n, int* has_nan);

// out[j] = exp(x[j] − M); returns Σ out[j] (blocked: float lanes, double across blocks).
double exp_store_sum(const float* x, int64_t n, float M, float* out);

// The same two over x[0, n) without column `skip` (a sparse row's target; none when outside
// [0, n)), nothing stored at skip: the pieces on either side, or where the intrinsics loops run
// (row_blocks_avx512.h, row_blocks_avx2.h) a short row (up to kShortRow classes) in masked steps,
// where the pieces take one each and their calls cost more than a few classes' work.
constexpr int64_t kShortRow = 32;
float slice_max_without(const float* x, int64_t n, int64_t skip, int* has_nan);
double exp_store_sum_without(const float* x, int64_t n, int64_t skip, float M, float* out);
// accumulate_sparse (no argmax) over x[0, n) without column skip, alike.
void accumulate_sparse_without(const float* x, int64_t n, int64_t skip, Partial& acc);

// out[j] = exp(x[j] − M), and the dense sums of accumulate_dense into acc (acc.max = M).
template <typename T>
void exp_store_dense(const float* x, T t, int64_t n, float M, float* out, Partial& acc);

// The gradient loops take e_j either as exp(src[j] − shift) (kFromLogits: src holds the
// logits) or as src[j] itself (the fused pass: src is g, holding exp(x − M) already).

// g[j] = k·e_j.
template <bool kFromLogits>
void sparse_gradient(const float* src, int64_t n, float shift, float k, float* g);

// g[j] = k·e_j + t[j]·(b + kd·e_j).
template <bool kFromLogits, typename T>
void dense_gradient(const float* src, T t, int64_t n, float shift, float k, float b, float kd, float* g);

// Logit soft-capping (Gemma's final_logit_softcapping): out[j] = cap·tanh(q[j]/cap), except that
// a −∞ logit (a masked class) stays −∞ and NaN stays NaN; out may be q. softcap_one for one logit.
void softcap_store(const float* q, int64_t n, float cap, float* out);
float softcap_one(float q, float cap);

// Its chain factor from the raw logits, times `scale`: g[j] *= scale·(1 − tanh²(q[j]/cap)); in
// blocks where every |q| ≤ cap as 1 − t² with t by a polynomial, elsewhere as 4s/(1 + s)² with
// s = exp(−2|q[j]/cap|) (accurate where tanh saturates); 0 on a −∞ logit.
void softcap_chain_logits(float* g, const float* q, int64_t n, float cap, float scale = 1.0f);

// Max, max |x| and whether a NaN is there, of x[0, n) in one sweep.
struct Extent {
  float max, abs_max;
  bool has_nan;
};
Extent slice_extent(const float* x, int64_t n);

// softcap's path for a slice whose |q| all lie within the cap (slice_extent), as far as
// kNearMaxLogit: the cap's inverse and the polynomial for the slice's largest |q|/cap
// (tanh_near.h). Past kNearMaxLogit a slice takes the general path: its exponentials run without a
// clamp here, exact for arguments as far as −2·kNearMaxLogit (|cap·t − M| ≤ 2·max |q|).
constexpr float kNearMaxLogit = 1000.0f;
struct NearCap {
  float inv;
  int tier;
};
NearCap near_cap(float cap, float abs_max);

// With t_j = tanh(q_j/cap) by the polynomial (no capped copy of the slice): returns Σ e_j,
// e_j = exp(cap·t_j − M), and stores out[j] = e_j·(1 − t_j²), the exponential with softcap's
// chain factor on it (1 − t² ≥ 0.42 keeps t's digits there). softcap_near_one: one capped logit by
// the same polynomial.
double exp_chain_store_near(const float* q, int64_t n, const NearCap& nc, float M, float* out);
// The same sum, nothing stored (the forward pass alone).
double exp_sum_near(const float* q, int64_t n, const NearCap& nc, float M);
// slice_extent and the two above over q[0, n) without column skip (a sparse row's target), as
// slice_max_without: the pieces, or a short row in one masked step on AVX-512. exp_near_without
// is exp_chain_store_near, or exp_sum_near when out is null.
Extent slice_extent_without(const float* q, int64_t n, int64_t skip);
double exp_near_without(const float* q, int64_t n, int64_t skip, const NearCap& nc, float M, float* out);
float softcap_near_one(float q, const NearCap& nc);

// The same with the capped logits zc = cap·tanh(q/cap) at hand: 1 − (zc[j]/cap)² in blocks where
// every |zc| ≤ cap·tanh(1) (no exp; within 2e−6 relative there), the exp form on q elsewhere.
void softcap_chain(float* g, const float* zc, const float* q, int64_t n, float cap, float scale = 1.0f);

// out[j] = q[j]·P(y²), y = q[j]/cap: each logit capped as the in-cap loops cap it, with the
// polynomial those pick for the array's largest |q|/cap (every |q| ≤ cap, none NaN), in a loop
// compiled as theirs. Returns that polynomial's number of terms. What the tests check the
// polynomials' accuracy and the choice among them on.
int softcap_near_values(const float* q, int64_t n, float cap, float* out);

// out[j] = exp(x[j]) through the loops' vector exp (vector_exp.h), in a loop compiled as theirs,
// or exp8 where the AVX2 loops run (row_blocks_avx2.h): what the tests check its accuracy on.
void exp_values(const float* x, int64_t n, float* out);

// The instruction set the dispatcher picks for these loops on this CPU ("avx512", "avx2", "baseline").
const char* simd_level();

// Which row loops run: "avx512" (row_blocks_avx512.h's, where AVX-512 is there), "avx2"
// (row_blocks_avx2.h's, where AVX2 and FMA are and AVX-512 is not, or MIXLOSS_ROW_LOOPS=avx2 asks
// for them) or "clones" (the target_clones above, picked per simd_level();
// MIXLOSS_ROW_LOOPS=clones asks for them).
const char* row_loops();

}  // namespace mixloss
