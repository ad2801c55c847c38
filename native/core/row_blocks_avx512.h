// Row loops written in AVX-512 intrinsics, for the loops where they measure faster than GCC's
// target_clones of row_blocks.cpp. A clone calls the 16-lane exp through the x86 vector
// function ABI, which spills every vector register at each call, and finishes an `omp simd`
// reduction by adding its 16 lanes one after another; these run the exp inline (exp16.h), keep
// two accumulators, and take the tail as one masked step, so a short row costs one step. The
// same arithmetic per element as the clones' (the same exp, polynomial and order of operations
// on each logit); sums are added in another order. row_blocks.cpp calls them when enabled(),
// else its clones.
#pragma once

#include <cstdint>

#include "block_sums.h"
#include "exp16.h"
#include "row_blocks.h"

#if defined(MIXLOSS_EXP16)
namespace mixloss {
namespace avx512 {

// Whether the row loops take these: on a CPU with AVX-512 (the test the clones' dispatcher
// makes), unless MIXLOSS_ROW_LOOPS=clones or =avx2, which run the clones or the AVX2 loops
// instead (the code CPUs without AVX-512 run: the suite checks both against these).
bool enabled();

// Σ exp(x − m) over x[0, n); with out, the exponentials stored there.
float sum_exp(const float* x, int64_t n, float m, float* out);

// Σ exp(x − m) into *sum and Σ (x − m) into *diff (label smoothing's sums, every t_j = 1); with
// out, the exponentials stored there.
void sum_exp_diff(const float* x, int64_t n, float m, float* out, float* sum, float* diff);

// Complement entropy's sums: Σ exp(x − m) and Σ exp(x − m)·(x − m), the products exact in
// double and summed in double (a masked x adds 0 to both); with out, the exponentials stored
// there.
ExpLogitSums sum_exp_logit(const float* x, int64_t n, float m, float* out);

// Dense targets t: Σ e, Σ t·e and min t in float lanes, Σ t·x (terms with t = 0 skipped, so a
// −∞ logit under a zero target adds nothing) and Σ t in double, e = exp(x − m); with out, the
// exponentials stored there.
DenseSums dense_sums(const float* x, const float* t, int64_t n, float m, float* out);
DenseSums dense_sums(const float* x, const int32_t* t, int64_t n, float m, float* out);

// softcap within ±cap: Σ e_j, e_j = exp(q_j·P(y_j²) − M) with y_j = q_j·inv and P the tier's
// polynomial (tanh_near.h); with out, e_j·(1 − t_j²) stored there, t_j = y_j·P(y_j²). The exp runs
// without its clamps: every |q_j| ≤ kNearMaxLogit (row_blocks.h).
float sum_exp_near(const float* q, int64_t n, float inv, int tier, float M, float* out);

// Max, max |x| and NaN of x[0, n) (slice_extent).
Extent extent(const float* x, int64_t n);

// A short row, n ≤ kShortRow, without its column `skip` (none when outside [0, n)): the max of
// the others (NaN skipped, *has_nan set), and Σ exp(x − m) over them, the exponentials stored
// in out unless it is null (nothing written at skip). One masked step of each, where the two
// pieces around the target would take one each.
float max_without(const float* x, int64_t n, int64_t skip, int* has_nan);
float sum_exp_without(const float* x, int64_t n, int64_t skip, float m, float* out);
// extent and sum_exp_near of a short row without its column skip, alike.
Extent extent_without(const float* x, int64_t n, int64_t skip);
float sum_exp_near_without(const float* q, int64_t n, int64_t skip, float inv, int tier, float M, float* out);

}  // namespace avx512
}  // namespace mixloss
#endif
