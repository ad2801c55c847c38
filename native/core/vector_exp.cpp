// The variants of mixloss_expf (vector_exp.h) that GCC's vectorized loops call, by the x86 vector
// function ABI's names (_ZGV<isa>N<lanes>v_mixloss_expf):
// - AVX-512 (16 lanes): our own. Cody–Waite reduction by ln 2 in two parts, Cephes' degree-7
//   polynomial, and vscalefps for p·2^n, which rounds once: overflow gives +∞, results below
//   FLT_MIN are correctly rounded denormals, 0 below those. Within 1.02 ulp of exp on every
//   float, NaN stays NaN (checked on all 2^32 inputs; the suite samples them). 25–35% faster
//   than libmvec's 16-lane expf in the loss loops on the EPYC measured (docs/benchmarks.md).
// - AVX2 (8 lanes) and SSE/AVX: libmvec's expf (≤ 4 ulp). An AVX2 version of the same algorithm
//   measured 25% slower than libmvec's there.
#include "vector_exp.h"

#include <cmath>

#if defined(__x86_64__) && defined(__GLIBC__) && !defined(__clang__)
#include <immintrin.h>
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

// GCC 12's avx512fintrin.h starts the masked intrinsics from _mm512_undefined_ps(), which
// -Wuninitialized reports at each use; nothing here reads an undefined lane.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
__attribute__((target("avx512f"))) __m512 _ZGVeN16v_mixloss_expf(__m512 z) {
  // Clamped where exp is 0 (−104: below half the least denormal) or +∞ (88.8); max and min
  // return their second operand for a NaN, so NaN stays NaN.
  const __m512 zc = _mm512_min_ps(_mm512_set1_ps(88.8f), _mm512_max_ps(_mm512_set1_ps(-104.0f), z));
  const __m512 n =
      _mm512_roundscale_ps(_mm512_mul_ps(zc, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // r = z − n·ln 2, ln 2 split so that n·ln2_hi is exact: |r| ≤ ln 2 / 2.
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), zc);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
  // exp(r) = 1 + r + r²·P(r) (Cephes' expf coefficients).
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}
#pragma GCC diagnostic pop
#endif

}  // extern "C"
