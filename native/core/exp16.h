// mixloss's 16-lane exp on AVX-512 as an inline function: the body of the vector exp that GCC's
// vectorized loops call (vector_exp.cpp), and of the loops written with intrinsics that run it
// beside other arithmetic in registers (a call through the vector ABI spills every vector
// register). Cody–Waite reduction by ln 2 in two parts, Cephes' degree-7 polynomial, and
// vscalefps for p·2^n, which rounds once: overflow gives +∞, results below FLT_MIN are correctly
// rounded denormals, 0 below those. Within 1.02 ulp of exp on every float; NaN stays NaN.
// MIXLOSS_EXP16 is defined where it exists: x86-64 with GCC or clang (clang builds the fuzz
// target, which so runs the AVX-512 loops on a CPU that has AVX-512).
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define MIXLOSS_EXP16 1
#include <immintrin.h>

namespace mixloss {

// The constants of exp16 and of exp8 (exp8.h), and of the scalar copy of their arithmetic that
// scripts/check-exp8.sh checks exp8 against: log2(e), ln 2 in two parts (n·kLn2Hi is exact for
// |n| < 2^12), Cephes' expf polynomial from its highest power down, and the clamps.
namespace exp_constants {
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693145751953125f;
constexpr float kLn2Lo = 1.428606765330187045e-06f;
constexpr int kTerms = 6;
constexpr float kPoly[kTerms] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                 4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
constexpr float kLow = -104.0f;  // below half the least denormal: 0
constexpr float kHigh = 88.8f;   // past FLT_MAX: +∞
}  // namespace exp_constants

// GCC 12's avx512fintrin.h starts the masked intrinsics from _mm512_undefined_ps(), which
// -Wuninitialized reports at each use; nothing here reads an undefined lane.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
// exp16 without its clamps, for arguments known finite and within [−2000, 88.7] (softcap's
// in-cap loop: |cap·t − M| ≤ 2·max |q|): the fused reduction keeps r to its own rounding there
// (|n| < 2^12; the clamps matter for ±∞ and for |z| large enough that n loses integer digits),
// and vscalefps gives the denormals and the 0s below them as exp16 does.
__attribute__((target("avx512f"), always_inline)) inline __m512 exp16_finite(__m512 z) {
  using namespace exp_constants;
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(z, _mm512_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // r = z − n·ln 2, ln 2 split so that n·ln2_hi is exact: |r| ≤ ln 2 / 2.
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), z);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
  // exp(r) = 1 + r + r²·P(r) (Cephes' expf coefficients).
  __m512 p = _mm512_set1_ps(kPoly[0]);
  for (int i = 1; i < kTerms; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kPoly[i]));
  p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

__attribute__((target("avx512f"), always_inline)) inline __m512 exp16(__m512 z) {
  // Clamped where exp is 0 (−104: below half the least denormal) or +∞ (88.8); max and min
  // return their second operand for a NaN, so NaN stays NaN.
  return exp16_finite(_mm512_min_ps(_mm512_set1_ps(exp_constants::kHigh), _mm512_max_ps(_mm512_set1_ps(exp_constants::kLow), z)));
}
#pragma GCC diagnostic pop

// Whether this CPU runs the AVX-512 code: the test target_clones' dispatcher makes for its
// "avx512f" clones, so the intrinsics loops and the clones agree on which build runs.
inline bool has_avx512() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return yes;
}

}  // namespace mixloss
#endif
