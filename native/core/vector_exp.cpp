// The variants of mixloss_expf (vector_exp.h) that GCC's vectorized loops call, by the x86 vector
// function ABI's names (_ZGV<isa>N<lanes>v_mixloss_expf):
// - AVX-512 (16 lanes): our own, exp16.h (within 1.02 ulp of exp on every float, NaN stays NaN:
//   checked on all 2^32 inputs; the suite samples them). 25–35% faster than libmvec's 16-lane
//   expf in the loss loops on the EPYC measured (docs/benchmarks.md).
// - AVX2 (8 lanes) and SSE/AVX: libmvec's expf (≤ 4 ulp). An AVX2 version of the same algorithm
//   measured 25% slower than libmvec's there, as a function called through the vector ABI; the
//   AVX2 row loops (row_blocks_avx2.cpp) run it inline (exp8.h), and measured faster than the
//   clones (docs/benchmarks.md). What calls these on an AVX2 CPU: the loops that take e_j from
//   the logits (the separate backward pass), and every loop with MIXLOSS_ROW_LOOPS=clones.
#include "vector_exp.h"

#include <cmath>

#if defined(__x86_64__) && defined(__GLIBC__) && !defined(__clang__)
#include <immintrin.h>

#include "exp16.h"
#endif

extern "C" {

float mixloss_expf(float z) noexcept { return expf(z); }

#if defined(__x86_64__) && defined(__GLIBC__) && !defined(__clang__)
// libmvec's variants (libmvec.so.1, linked for the clones' calls).
__m128 _ZGVbN4v_expf(__m128);
__m256 _ZGVcN8v_expf(__m256);
__m256 _ZGVdN8v_expf(__m256);

__m128 _ZGVbN4v_mixloss_expf(__m128 z) { return _ZGVbN4v_expf(z); }
__attribute__((target("avx"))) __m256 _ZGVcN8v_mixloss_expf(__m256 z) { return _ZGVcN8v_expf(z); }
__attribute__((target("avx2,fma"))) __m256 _ZGVdN8v_mixloss_expf(__m256 z) { return _ZGVdN8v_expf(z); }

__attribute__((target("avx512f"))) __m512 _ZGVeN16v_mixloss_expf(__m512 z) { return mixloss::exp16(z); }
#endif

}  // extern "C"
