// mixloss's 8-lane exp on AVX2 + FMA as an inline function, for the row loops written with
// AVX2 intrinsics (row_blocks_avx2.h): exp16.h's algorithm, step for step (the same reduction,
// polynomial and rounding of n), so that it gives the same float as exp16 on every input
// (scripts/check-exp8.sh: all 2^32 against that arithmetic in scalar). AVX2 has no vscalefps:
// p·2^n is formed as (p·2^(n−h))·2^h with h = n/2, two powers of two that are normal floats for
// every n the clamps allow; the first product is exact (p ∈ [0.7, 1.42]) and the second rounds
// once, as vscalefps does: overflow gives +∞, results below FLT_MIN are correctly rounded
// denormals, 0 below those. NaN stays NaN. Where MIXLOSS_EXP16 is defined.
#pragma once

#include "exp16.h"

#if defined(MIXLOSS_EXP16)
#include <immintrin.h>

#define MIXLOSS_AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) inline

namespace mixloss {

// 2^k as a float for integer lanes k in [−126, 127].
MIXLOSS_AVX2_INLINE __m256 pow2_8(__m256i k) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23));
}

// exp8 without its clamps, for arguments known finite and within [−2000, 88.7] (as exp16_finite).
MIXLOSS_AVX2_INLINE __m256 exp8_finite(__m256 z) {
  using namespace exp_constants;
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(z, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), z);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kPoly[0]);
  for (int i = 1; i < kTerms; ++i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kPoly[i]));
  p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  // n below −252 gives 0 as −252 does (p·2^−252 is far below the least denormal); a NaN lane's
  // n converts to INT_MIN, and p is NaN there.
  const __m256i k = _mm256_max_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(-252));
  const __m256i h = _mm256_srai_epi32(k, 1);
  return _mm256_mul_ps(_mm256_mul_ps(p, pow2_8(_mm256_sub_epi32(k, h))), pow2_8(h));
}

MIXLOSS_AVX2_INLINE __m256 exp8(__m256 z) {
  // exp16's clamps: max and min return their second operand for a NaN, so NaN stays NaN.
  return exp8_finite(_mm256_min_ps(_mm256_set1_ps(exp_constants::kHigh), _mm256_max_ps(_mm256_set1_ps(exp_constants::kLow), z)));
}

// Whether this CPU runs AVX2 with FMA (every AVX2 CPU made has both; the clones' "avx2" test
// alone does not promise FMA).
inline bool has_avx2_fma() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("fma") != 0;
  }();
  return yes;
}

}  // namespace mixloss
#endif
