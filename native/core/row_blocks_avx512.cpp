// AVX-512 row loops (row_blocks_avx512.h). Each function carries target("avx512f"); callers
// check has_avx512() first.
#include "row_blocks_avx512.h"

#if defined(MIXLOSS_EXP16)
#include <immintrin.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "tanh_near.h"

namespace mixloss {
namespace avx512 {

bool enabled() {
  static const bool yes = [] {
    const char* loops = std::getenv("MIXLOSS_ROW_LOOPS");
    return has_avx512() && !(loops != nullptr && (std::strcmp(loops, "clones") == 0 || std::strcmp(loops, "avx2") == 0));
  }();
  return yes;
}

// GCC 12's masked intrinsics start from _mm512_undefined_ps(), which -Wmaybe-uninitialized
// reports where they are inlined; nothing here reads an undefined lane.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define MIXLOSS_AVX512 __attribute__((target("avx512f")))
#define MIXLOSS_AVX512_INLINE __attribute__((target("avx512f"), always_inline)) inline

namespace {
// The lanes of a step that starts `left` elements before the end.
MIXLOSS_AVX512_INLINE __mmask16 lanes(int64_t left) { return left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1u); }

template <bool kStore>
MIXLOSS_AVX512 float sum_exp_loop(const float* x, int64_t n, float m, float* out) {
  const __m512 vm = _mm512_set1_ps(m);
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    const __m512 e0 = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + j), vm));
    const __m512 e1 = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + j + 16), vm));
    if (kStore) {
      _mm512_storeu_ps(out + j, e0);
      _mm512_storeu_ps(out + j + 16, e1);
    }
    s0 = _mm512_add_ps(s0, e0);
    s1 = _mm512_add_ps(s1, e1);
  }
  for (; j < n; j += 16) {
    // Lanes past the end read 0; they stay out of the sum and the store.
    const __mmask16 k = lanes(n - j);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j), vm));
    if (kStore) _mm512_mask_storeu_ps(out + j, k, e);
    s0 = _mm512_mask_add_ps(s0, k, s0, e);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

template <bool kStore>
MIXLOSS_AVX512 void sum_exp_diff_loop(const float* x, int64_t n, float m, float* out, float* sum, float* diff) {
  const __m512 vm = _mm512_set1_ps(m);
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), d0 = _mm512_setzero_ps(), d1 = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    const __m512 a = _mm512_sub_ps(_mm512_loadu_ps(x + j), vm), b = _mm512_sub_ps(_mm512_loadu_ps(x + j + 16), vm);
    const __m512 e0 = exp16(a), e1 = exp16(b);
    if (kStore) {
      _mm512_storeu_ps(out + j, e0);
      _mm512_storeu_ps(out + j + 16, e1);
    }
    s0 = _mm512_add_ps(s0, e0);
    s1 = _mm512_add_ps(s1, e1);
    d0 = _mm512_add_ps(d0, a);
    d1 = _mm512_add_ps(d1, b);
  }
  for (; j < n; j += 16) {
    const __mmask16 k = lanes(n - j);
    const __m512 a = _mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j), vm);
    const __m512 e = exp16(a);
    if (kStore) _mm512_mask_storeu_ps(out + j, k, e);
    s0 = _mm512_mask_add_ps(s0, k, s0, e);
    d0 = _mm512_mask_add_ps(d0, k, d0, a);
  }
  *sum = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
  *diff = _mm512_reduce_add_ps(_mm512_add_ps(d0, d1));
}

// The two halves of 16 floats as 8 doubles each.
MIXLOSS_AVX512_INLINE __m512d low_pd(__m512 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
MIXLOSS_AVX512_INLINE __m512d high_pd(__m512 v) {
  return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

// acc += a·b in double on the lanes of k (16 lanes: the low 8 into lo, the high 8 into hi).
MIXLOSS_AVX512_INLINE void add_products(__m512d& lo, __m512d& hi, __mmask16 k, __m512 a, __m512 b) {
  lo = _mm512_mask_add_pd(lo, __mmask8(k), lo, _mm512_mul_pd(low_pd(a), low_pd(b)));
  hi = _mm512_mask_add_pd(hi, __mmask8(k >> 8), hi, _mm512_mul_pd(high_pd(a), high_pd(b)));
}

template <bool kStore>
MIXLOSS_AVX512 ExpLogitSums sum_exp_logit_loop(const float* x, int64_t n, float m, float* out) {
  const __m512 vm = _mm512_set1_ps(m), zero = _mm512_setzero_ps();
  __m512 s = zero;
  __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = lanes(n - j);
    const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j), vm);
    const __m512 e = exp16(d);
    if (kStore) _mm512_mask_storeu_ps(out + j, k, e);
    s = _mm512_mask_add_ps(s, k, s, e);
    // e > 0 only: a masked logit's 0·(−∞) adds nothing.
    add_products(lo, hi, _mm512_mask_cmp_ps_mask(k, e, zero, _CMP_GT_OQ), e, d);
  }
  return {_mm512_reduce_add_ps(s), _mm512_reduce_add_pd(_mm512_add_pd(lo, hi))};
}

MIXLOSS_AVX512_INLINE __m512 load_targets(__mmask16 k, const float* t) { return _mm512_maskz_loadu_ps(k, t); }
MIXLOSS_AVX512_INLINE __m512 load_targets(__mmask16 k, const int32_t* t) { return _mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(k, t)); }

template <bool kStore, typename T>
MIXLOSS_AVX512 DenseSums dense_sums_loop(const float* x, const T* t, int64_t n, float m, float* out) {
  const __m512 vm = _mm512_set1_ps(m), zero = _mm512_setzero_ps();
  __m512 s = zero, te = zero, tmin = _mm512_set1_ps(INFINITY);
  __m512d tq_lo = _mm512_setzero_pd(), tq_hi = tq_lo, mass_lo = tq_lo, mass_hi = tq_lo;
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = lanes(n - j);
    const __m512 xv = _mm512_maskz_loadu_ps(k, x + j), tv = load_targets(k, t + j);
    const __m512 e = exp16(_mm512_sub_ps(xv, vm));
    if (kStore) _mm512_mask_storeu_ps(out + j, k, e);
    s = _mm512_mask_add_ps(s, k, s, e);
    te = _mm512_mask3_fmadd_ps(tv, e, te, k);
    tmin = _mm512_mask_min_ps(tmin, k, tv, tmin);
    add_products(tq_lo, tq_hi, _mm512_mask_cmp_ps_mask(k, tv, zero, _CMP_NEQ_UQ), tv, xv);
    mass_lo = _mm512_add_pd(mass_lo, low_pd(tv));  // lanes past the end hold t = 0
    mass_hi = _mm512_add_pd(mass_hi, high_pd(tv));
  }
  return {_mm512_reduce_add_ps(s), _mm512_reduce_add_ps(te), _mm512_reduce_min_ps(tmin), _mm512_reduce_add_pd(_mm512_add_pd(tq_lo, tq_hi)),
          _mm512_reduce_add_pd(_mm512_add_pd(mass_lo, mass_hi))};
}

template <int kTier>
MIXLOSS_AVX512_INLINE __m512 tanh_near_p16(__m512 y2) {
  constexpr TanhNearTier t = kTanhNear[kTier];
  __m512 p = _mm512_set1_ps(t.c[0]);
  for (int i = 1; i < t.terms; ++i) p = _mm512_fmadd_ps(p, y2, _mm512_set1_ps(t.c[i]));
  return p;
}

// One step of 16 logits: returns e = exp(q·P(y²) − M); with kStore, *chained = e·(1 − t²).
template <bool kStore, int kTier>
MIXLOSS_AVX512_INLINE __m512 near_step(__m512 q, __m512 inv, __m512 M, __m512* chained) {
  const __m512 y = _mm512_mul_ps(q, inv);
  const __m512 p = tanh_near_p16<kTier>(_mm512_mul_ps(y, y));
  const __m512 e = exp16_finite(_mm512_fmsub_ps(q, p, M));
  if (kStore) {
    const __m512 t = _mm512_mul_ps(y, p);
    *chained = _mm512_mul_ps(e, _mm512_fnmadd_ps(t, t, _mm512_set1_ps(1.0f)));
  }
  return e;
}

template <bool kStore, int kTier>
MIXLOSS_AVX512 float sum_exp_near_loop(const float* q, int64_t n, float inv, float M, float* out) {
  const __m512 vinv = _mm512_set1_ps(inv), vM = _mm512_set1_ps(M);
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), w0, w1;
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    s0 = _mm512_add_ps(s0, near_step<kStore, kTier>(_mm512_loadu_ps(q + j), vinv, vM, &w0));
    s1 = _mm512_add_ps(s1, near_step<kStore, kTier>(_mm512_loadu_ps(q + j + 16), vinv, vM, &w1));
    if (kStore) {
      _mm512_storeu_ps(out + j, w0);
      _mm512_storeu_ps(out + j + 16, w1);
    }
  }
  for (; j < n; j += 16) {
    // Lanes past the end read 0 (exp(−M), finite): they stay out of the sum and the store.
    const __mmask16 k = lanes(n - j);
    s0 = _mm512_mask_add_ps(s0, k, s0, near_step<kStore, kTier>(_mm512_maskz_loadu_ps(k, q + j), vinv, vM, &w0));
    if (kStore) _mm512_mask_storeu_ps(out + j, k, w0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}
}  // namespace

float sum_exp(const float* x, int64_t n, float m, float* out) {
  return out != nullptr ? sum_exp_loop<true>(x, n, m, out) : sum_exp_loop<false>(x, n, m, nullptr);
}

void sum_exp_diff(const float* x, int64_t n, float m, float* out, float* sum, float* diff) {
  if (out != nullptr)
    sum_exp_diff_loop<true>(x, n, m, out, sum, diff);
  else
    sum_exp_diff_loop<false>(x, n, m, nullptr, sum, diff);
}

ExpLogitSums sum_exp_logit(const float* x, int64_t n, float m, float* out) {
  return out != nullptr ? sum_exp_logit_loop<true>(x, n, m, out) : sum_exp_logit_loop<false>(x, n, m, nullptr);
}

DenseSums dense_sums(const float* x, const float* t, int64_t n, float m, float* out) {
  return out != nullptr ? dense_sums_loop<true>(x, t, n, m, out) : dense_sums_loop<false>(x, t, n, m, nullptr);
}

DenseSums dense_sums(const float* x, const int32_t* t, int64_t n, float m, float* out) {
  return out != nullptr ? dense_sums_loop<true>(x, t, n, m, out) : dense_sums_loop<false>(x, t, n, m, nullptr);
}

float sum_exp_near(const float* q, int64_t n, float inv, int tier, float M, float* out) {
  return with_tanh_tier(tier, [&](auto t) {
    return out != nullptr ? sum_exp_near_loop<true, t()>(q, n, inv, M, out) : sum_exp_near_loop<false, t()>(q, n, inv, M, nullptr);
  });
}

// Max and min (max |x| is the larger of max and −min) in two accumulators each, NaN as an
// unordered compare into a mask; vmaxps and vminps return their second operand for a NaN, so
// the running max and min skip it. About 5 instructions per 16 logits where the clone of
// block_extent takes 9 (its |x| and its NaN test each cost a blend).
MIXLOSS_AVX512 Extent extent(const float* x, int64_t n) {
  __m512 hi0 = _mm512_set1_ps(-INFINITY), hi1 = hi0, lo0 = _mm512_set1_ps(INFINITY), lo1 = lo0;
  __mmask16 nan = 0;
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    const __m512 a = _mm512_loadu_ps(x + j), b = _mm512_loadu_ps(x + j + 16);
    hi0 = _mm512_max_ps(a, hi0);
    lo0 = _mm512_min_ps(a, lo0);
    hi1 = _mm512_max_ps(b, hi1);
    lo1 = _mm512_min_ps(b, lo1);
    nan |= _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q);  // a lane of a or of b is NaN
  }
  for (; j < n; j += 16) {
    const __mmask16 k = lanes(n - j);
    const __m512 a = _mm512_maskz_loadu_ps(k, x + j);
    hi0 = _mm512_mask_max_ps(hi0, k, a, hi0);
    lo0 = _mm512_mask_min_ps(lo0, k, a, lo0);
    nan |= _mm512_mask_cmp_ps_mask(k, a, a, _CMP_UNORD_Q);
  }
  const float hi = _mm512_reduce_max_ps(_mm512_max_ps(hi0, hi1)), lo = _mm512_reduce_min_ps(_mm512_min_ps(lo0, lo1));
  const float a = hi > -lo ? hi : -lo;
  return {hi, a > 0.0f ? a : 0.0f, nan != 0};
}

namespace {
// The lanes of the two steps of a short row, without column skip.
struct ShortLanes {
  __mmask16 lo, hi;
};
MIXLOSS_AVX512_INLINE ShortLanes short_lanes(int64_t n, int64_t skip) {
  const uint32_t all = n >= 32 ? 0xFFFFFFFFu : (1u << n) - 1u;
  const uint32_t k = skip >= 0 && skip < n ? all & ~(1u << skip) : all;
  return {__mmask16(k), __mmask16(k >> 16)};
}
}  // namespace

MIXLOSS_AVX512 float max_without(const float* x, int64_t n, int64_t skip, int* has_nan) {
  const ShortLanes k = short_lanes(n, skip);
  const __m512 none = _mm512_set1_ps(-INFINITY);
  const __m512 a = _mm512_maskz_loadu_ps(k.lo, x), b = _mm512_maskz_loadu_ps(k.hi, x + 16);
  // vmaxps returns its second operand for a NaN: the max skips it, the unordered compare sees it.
  const __m512 lo = _mm512_mask_max_ps(none, k.lo, a, none);
  const __m512 m = _mm512_mask_max_ps(lo, k.hi, b, lo);
  *has_nan = (_mm512_mask_cmp_ps_mask(k.lo, a, a, _CMP_UNORD_Q) | _mm512_mask_cmp_ps_mask(k.hi, b, b, _CMP_UNORD_Q)) != 0;
  return _mm512_reduce_max_ps(m);
}

MIXLOSS_AVX512 float sum_exp_without(const float* x, int64_t n, int64_t skip, float m, float* out) {
  const ShortLanes k = short_lanes(n, skip);
  const __m512 vm = _mm512_set1_ps(m);
  const __m512 e0 = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k.lo, x), vm));
  if (out != nullptr) _mm512_mask_storeu_ps(out, k.lo, e0);
  __m512 s = _mm512_maskz_mov_ps(k.lo, e0);
  if (k.hi != 0) {
    const __m512 e1 = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k.hi, x + 16), vm));
    if (out != nullptr) _mm512_mask_storeu_ps(out + 16, k.hi, e1);
    s = _mm512_mask_add_ps(s, k.hi, s, e1);
  }
  return _mm512_reduce_add_ps(s);
}

MIXLOSS_AVX512 Extent extent_without(const float* x, int64_t n, int64_t skip) {
  const ShortLanes k = short_lanes(n, skip);
  const __m512 a = _mm512_maskz_loadu_ps(k.lo, x), b = _mm512_maskz_loadu_ps(k.hi, x + 16);
  const __m512 none_hi = _mm512_set1_ps(-INFINITY), none_lo = _mm512_set1_ps(INFINITY);
  // As extent: vmaxps and vminps return their second operand for a NaN.
  __m512 hi = _mm512_mask_max_ps(none_hi, k.lo, a, none_hi), lo = _mm512_mask_min_ps(none_lo, k.lo, a, none_lo);
  hi = _mm512_mask_max_ps(hi, k.hi, b, hi);
  lo = _mm512_mask_min_ps(lo, k.hi, b, lo);
  const bool nan = (_mm512_mask_cmp_ps_mask(k.lo, a, a, _CMP_UNORD_Q) | _mm512_mask_cmp_ps_mask(k.hi, b, b, _CMP_UNORD_Q)) != 0;
  const float h = _mm512_reduce_max_ps(hi), l = _mm512_reduce_min_ps(lo);
  const float abs_max = h > -l ? h : -l;
  return {h, abs_max > 0.0f ? abs_max : 0.0f, nan};
}

namespace {
template <bool kStore, int kTier>
MIXLOSS_AVX512 float sum_exp_near_short(const float* q, int64_t n, int64_t skip, float inv, float M, float* out) {
  const ShortLanes k = short_lanes(n, skip);
  const __m512 vinv = _mm512_set1_ps(inv), vM = _mm512_set1_ps(M);
  __m512 w;
  // Lanes left out read 0 (exp(−M), finite): they stay out of the sum and the store.
  __m512 s = _mm512_maskz_mov_ps(k.lo, near_step<kStore, kTier>(_mm512_maskz_loadu_ps(k.lo, q), vinv, vM, &w));
  if (kStore) _mm512_mask_storeu_ps(out, k.lo, w);
  if (k.hi != 0) {
    s = _mm512_mask_add_ps(s, k.hi, s, near_step<kStore, kTier>(_mm512_maskz_loadu_ps(k.hi, q + 16), vinv, vM, &w));
    if (kStore) _mm512_mask_storeu_ps(out + 16, k.hi, w);
  }
  return _mm512_reduce_add_ps(s);
}
}  // namespace

float sum_exp_near_without(const float* q, int64_t n, int64_t skip, float inv, int tier, float M, float* out) {
  return with_tanh_tier(tier, [&](auto t) {
    return out != nullptr ? sum_exp_near_short<true, t()>(q, n, skip, inv, M, out)
                          : sum_exp_near_short<false, t()>(q, n, skip, inv, M, nullptr);
  });
}

#pragma GCC diagnostic pop

}  // namespace avx512
}  // namespace mixloss
#endif
