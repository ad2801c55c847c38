// AVX2 + FMA row loops (row_blocks_avx2.h). Each function carries target("avx2,fma"); callers
// check enabled() first. A masked step reads through vmaskmovps (lanes left out read 0 and are
// never touched in memory) and keeps those lanes out of every sum, max and store.
#include "row_blocks_avx2.h"

#if defined(MIXLOSS_EXP16)
#include <immintrin.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "row_blocks_avx512.h"
#include "tanh_near.h"

namespace mixloss {
namespace avx2 {

bool enabled() {
  static const bool yes = [] {
    const char* loops = std::getenv("MIXLOSS_ROW_LOOPS");
    if (loops != nullptr && std::strcmp(loops, "clones") == 0) return false;
    return has_avx2_fma() && !avx512::enabled();
  }();
  return yes;
}

#define MIXLOSS_AVX2 __attribute__((target("avx2,fma")))

namespace {
// The lanes of a step that starts `left` elements before the end, as a vmaskmovps mask.
MIXLOSS_AVX2_INLINE __m256i lanes(int64_t left) {
  const int k = left >= 8 ? 8 : static_cast<int>(left);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

MIXLOSS_AVX2_INLINE __m256 load(__m256i k, const float* x) { return _mm256_maskload_ps(x, k); }
MIXLOSS_AVX2_INLINE void store(float* out, __m256i k, __m256 v) { _mm256_maskstore_ps(out, k, v); }
// v on the lanes of k, +0 elsewhere.
MIXLOSS_AVX2_INLINE __m256 keep(__m256i k, __m256 v) { return _mm256_and_ps(_mm256_castsi256_ps(k), v); }
// v on the lanes of k, `other` elsewhere.
MIXLOSS_AVX2_INLINE __m256 keep_or(__m256i k, __m256 v, float other) {
  return _mm256_blendv_ps(_mm256_set1_ps(other), v, _mm256_castsi256_ps(k));
}
// The lanes of k where v is NaN, as a float mask.
MIXLOSS_AVX2_INLINE __m256 nan_lanes(__m256i k, __m256 v) { return keep(k, _mm256_cmp_ps(v, v, _CMP_UNORD_Q)); }

MIXLOSS_AVX2_INLINE float add_all(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
MIXLOSS_AVX2_INLINE float max_all(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}
MIXLOSS_AVX2_INLINE float min_all(__m256 v) {
  __m128 s = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_min_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_min_ss(s, _mm_movehdup_ps(s)));
}
MIXLOSS_AVX2_INLINE double add_all(__m256d v) {
  const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

template <bool kStore>
MIXLOSS_AVX2 float sum_exp_loop(const float* x, int64_t n, float m, float* out) {
  const __m256 vm = _mm256_set1_ps(m);
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m256 e0 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + j), vm));
    const __m256 e1 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + j + 8), vm));
    if (kStore) {
      _mm256_storeu_ps(out + j, e0);
      _mm256_storeu_ps(out + j + 8, e1);
    }
    s0 = _mm256_add_ps(s0, e0);
    s1 = _mm256_add_ps(s1, e1);
  }
  for (; j < n; j += 8) {
    const __m256i k = lanes(n - j);
    const __m256 e = exp8(_mm256_sub_ps(load(k, x + j), vm));
    if (kStore) store(out + j, k, e);
    s0 = _mm256_add_ps(s0, keep(k, e));
  }
  return add_all(_mm256_add_ps(s0, s1));
}

template <bool kStore>
MIXLOSS_AVX2 void sum_exp_diff_loop(const float* x, int64_t n, float m, float* out, float* sum, float* diff) {
  const __m256 vm = _mm256_set1_ps(m);
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, d0 = s0, d1 = s0;
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m256 a = _mm256_sub_ps(_mm256_loadu_ps(x + j), vm), b = _mm256_sub_ps(_mm256_loadu_ps(x + j + 8), vm);
    const __m256 e0 = exp8(a), e1 = exp8(b);
    if (kStore) {
      _mm256_storeu_ps(out + j, e0);
      _mm256_storeu_ps(out + j + 8, e1);
    }
    s0 = _mm256_add_ps(s0, e0);
    s1 = _mm256_add_ps(s1, e1);
    d0 = _mm256_add_ps(d0, a);
    d1 = _mm256_add_ps(d1, b);
  }
  for (; j < n; j += 8) {
    const __m256i k = lanes(n - j);
    const __m256 a = _mm256_sub_ps(load(k, x + j), vm);
    const __m256 e = exp8(a);
    if (kStore) store(out + j, k, e);
    s0 = _mm256_add_ps(s0, keep(k, e));
    d0 = _mm256_add_ps(d0, keep(k, a));
  }
  *sum = add_all(_mm256_add_ps(s0, s1));
  *diff = add_all(_mm256_add_ps(d0, d1));
}

// acc += a·b in double on the lanes of k (8 lanes: the low 4 into lo, the high 4 into hi).
MIXLOSS_AVX2_INLINE void add_products(__m256d& lo, __m256d& hi, __m256i k, __m256 a, __m256 b) {
  const __m256d pl = _mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(a)), _mm256_cvtps_pd(_mm256_castps256_ps128(b)));
  const __m256d ph = _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)), _mm256_cvtps_pd(_mm256_extractf128_ps(b, 1)));
  const __m256d kl = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(k)));
  const __m256d kh = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(k, 1)));
  lo = _mm256_add_pd(lo, _mm256_and_pd(kl, pl));
  hi = _mm256_add_pd(hi, _mm256_and_pd(kh, ph));
}

// The float lanes of v as 8 doubles added into lo and hi.
MIXLOSS_AVX2_INLINE void add_wide(__m256d& lo, __m256d& hi, __m256 v) {
  lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

// The masked steps below run on the tail alone: vmaskmovps stores are slow on AMD's cores (the
// complement-entropy and dense loops measured 10–25% slower than the clones with every step
// masked). kTail: the step's lanes are those of k; else all 8.
template <bool kTail>
MIXLOSS_AVX2_INLINE __m256 load_step(__m256i k, const float* x) {
  return kTail ? load(k, x) : _mm256_loadu_ps(x);
}
template <bool kTail>
MIXLOSS_AVX2_INLINE void store_step(float* out, __m256i k, __m256 v) {
  if (kTail)
    store(out, k, v);
  else
    _mm256_storeu_ps(out, v);
}
template <bool kTail>
MIXLOSS_AVX2_INLINE __m256 keep_step(__m256i k, __m256 v) {
  return kTail ? keep(k, v) : v;
}

struct ExpLogitLanes {
  __m256 s;
  __m256d lo, hi;
};

template <bool kStore, bool kTail>
MIXLOSS_AVX2_INLINE void exp_logit_step(const float* x, __m256 vm, __m256i k, float* out, ExpLogitLanes& a) {
  const __m256 d = _mm256_sub_ps(load_step<kTail>(k, x), vm);
  const __m256 e = exp8(d);
  if (kStore) store_step<kTail>(out, k, e);
  a.s = _mm256_add_ps(a.s, keep_step<kTail>(k, e));
  // e > 0 only: a masked logit's 0·(−∞) adds nothing.
  add_products(a.lo, a.hi, _mm256_and_si256(k, _mm256_castps_si256(_mm256_cmp_ps(e, _mm256_setzero_ps(), _CMP_GT_OQ))), e, d);
}

template <bool kStore>
MIXLOSS_AVX2 ExpLogitSums sum_exp_logit_loop(const float* x, int64_t n, float m, float* out) {
  const __m256 vm = _mm256_set1_ps(m);
  const __m256i all = _mm256_set1_epi32(-1);
  ExpLogitLanes a{_mm256_setzero_ps(), _mm256_setzero_pd(), _mm256_setzero_pd()};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) exp_logit_step<kStore, false>(x + j, vm, all, kStore ? out + j : nullptr, a);
  if (j < n) exp_logit_step<kStore, true>(x + j, vm, lanes(n - j), kStore ? out + j : nullptr, a);
  return {add_all(a.s), add_all(_mm256_add_pd(a.lo, a.hi))};
}

MIXLOSS_AVX2_INLINE __m256 load_targets(__m256i k, const float* t) { return _mm256_maskload_ps(t, k); }
MIXLOSS_AVX2_INLINE __m256 load_targets(__m256i k, const int32_t* t) {
  return _mm256_cvtepi32_ps(_mm256_maskload_epi32(reinterpret_cast<const int*>(t), k));
}
MIXLOSS_AVX2_INLINE __m256 load_targets(const float* t) { return _mm256_loadu_ps(t); }
MIXLOSS_AVX2_INLINE __m256 load_targets(const int32_t* t) {
  return _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(t)));
}

struct DenseLanes {
  __m256 s, te, tmin;
  __m256d tq_lo, tq_hi, mass_lo, mass_hi;
};

template <bool kStore, bool kTail, typename T>
MIXLOSS_AVX2_INLINE void dense_step(const float* x, const T* t, __m256 vm, __m256i k, float* out, DenseLanes& a) {
  const __m256 xv = load_step<kTail>(k, x);
  const __m256 tv = kTail ? load_targets(k, t) : load_targets(t);
  const __m256 e = exp8(_mm256_sub_ps(xv, vm));
  if (kStore) store_step<kTail>(out, k, e);
  const __m256 ek = keep_step<kTail>(k, e);  // lanes left out: e = 0 (their exp(−m) may be +∞) and t = 0
  a.s = _mm256_add_ps(a.s, ek);
  a.te = _mm256_fmadd_ps(tv, ek, a.te);
  // A NaN target is skipped, as by the clones (vminps returns its second operand for a NaN).
  a.tmin = _mm256_min_ps(kTail ? keep_or(k, tv, INFINITY) : tv, a.tmin);
  add_products(a.tq_lo, a.tq_hi, _mm256_and_si256(k, _mm256_castps_si256(_mm256_cmp_ps(tv, _mm256_setzero_ps(), _CMP_NEQ_UQ))), tv, xv);
  add_wide(a.mass_lo, a.mass_hi, tv);
}

template <bool kStore, typename T>
MIXLOSS_AVX2 DenseSums dense_sums_loop(const float* x, const T* t, int64_t n, float m, float* out) {
  const __m256 vm = _mm256_set1_ps(m), zero = _mm256_setzero_ps();
  const __m256d zd = _mm256_setzero_pd();
  const __m256i all = _mm256_set1_epi32(-1);
  DenseLanes a{zero, zero, _mm256_set1_ps(INFINITY), zd, zd, zd, zd};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) dense_step<kStore, false>(x + j, t + j, vm, all, kStore ? out + j : nullptr, a);
  if (j < n) dense_step<kStore, true>(x + j, t + j, vm, lanes(n - j), kStore ? out + j : nullptr, a);
  return {add_all(a.s), add_all(a.te), min_all(a.tmin), add_all(_mm256_add_pd(a.tq_lo, a.tq_hi)),
          add_all(_mm256_add_pd(a.mass_lo, a.mass_hi))};
}

template <int kTier>
MIXLOSS_AVX2_INLINE __m256 tanh_near_p8(__m256 y2) {
  constexpr TanhNearTier t = kTanhNear[kTier];
  __m256 p = _mm256_set1_ps(t.c[0]);
  for (int i = 1; i < t.terms; ++i) p = _mm256_fmadd_ps(p, y2, _mm256_set1_ps(t.c[i]));
  return p;
}

// One step of 8 logits: returns e = exp(q·P(y²) − M); with kStore, *chained = e·(1 − t²).
template <bool kStore, int kTier>
MIXLOSS_AVX2_INLINE __m256 near_step(__m256 q, __m256 inv, __m256 M, __m256* chained) {
  const __m256 y = _mm256_mul_ps(q, inv);
  const __m256 p = tanh_near_p8<kTier>(_mm256_mul_ps(y, y));
  const __m256 e = exp8_finite(_mm256_fmsub_ps(q, p, M));
  if (kStore) {
    const __m256 t = _mm256_mul_ps(y, p);
    *chained = _mm256_mul_ps(e, _mm256_fnmadd_ps(t, t, _mm256_set1_ps(1.0f)));
  }
  return e;
}

template <bool kStore, int kTier>
MIXLOSS_AVX2 float sum_exp_near_loop(const float* q, int64_t n, float inv, float M, float* out) {
  const __m256 vinv = _mm256_set1_ps(inv), vM = _mm256_set1_ps(M);
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, w0 = s0, w1 = s0;
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    s0 = _mm256_add_ps(s0, near_step<kStore, kTier>(_mm256_loadu_ps(q + j), vinv, vM, &w0));
    s1 = _mm256_add_ps(s1, near_step<kStore, kTier>(_mm256_loadu_ps(q + j + 8), vinv, vM, &w1));
    if (kStore) {
      _mm256_storeu_ps(out + j, w0);
      _mm256_storeu_ps(out + j + 8, w1);
    }
  }
  for (; j < n; j += 8) {
    // Lanes left out read 0 (exp(−M), finite): they stay out of the sum and the store.
    const __m256i k = lanes(n - j);
    s0 = _mm256_add_ps(s0, keep(k, near_step<kStore, kTier>(load(k, q + j), vinv, vM, &w0)));
    if (kStore) store(out + j, k, w0);
  }
  return add_all(_mm256_add_ps(s0, s1));
}

// The lanes of step j (columns j to j + 7) of a short row of n columns, without column skip.
MIXLOSS_AVX2_INLINE __m256i short_lanes(int64_t n, int64_t skip, int64_t j) {
  const __m256i column = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(j)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i in = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), column);
  const int s = skip >= 0 && skip < n ? static_cast<int>(skip) : -1;
  return _mm256_andnot_si256(_mm256_cmpeq_epi32(_mm256_set1_epi32(s), column), in);
}

template <bool kStore, int kTier>
MIXLOSS_AVX2 float sum_exp_near_short(const float* q, int64_t n, int64_t skip, float inv, float M, float* out) {
  const __m256 vinv = _mm256_set1_ps(inv), vM = _mm256_set1_ps(M);
  __m256 s = _mm256_setzero_ps(), w = s;
  for (int64_t j = 0; j < n; j += 8) {
    // Lanes left out read 0 (exp(−M), finite): they stay out of the sum and the store.
    const __m256i k = short_lanes(n, skip, j);
    s = _mm256_add_ps(s, keep(k, near_step<kStore, kTier>(load(k, q + j), vinv, vM, &w)));
    if (kStore) store(out + j, k, w);
  }
  return add_all(s);
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

// Max and min in two accumulators each (max |x| is the larger of max and −min); vmaxps and
// vminps return their second operand for a NaN, so the running max and min skip it, and an
// unordered compare finds it.
MIXLOSS_AVX2 Extent extent(const float* x, int64_t n) {
  __m256 hi0 = _mm256_set1_ps(-INFINITY), hi1 = hi0, lo0 = _mm256_set1_ps(INFINITY), lo1 = lo0, nan = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x + j + 8);
    hi0 = _mm256_max_ps(a, hi0);
    lo0 = _mm256_min_ps(a, lo0);
    hi1 = _mm256_max_ps(b, hi1);
    lo1 = _mm256_min_ps(b, lo1);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(a, b, _CMP_UNORD_Q));  // a lane of a or of b is NaN
  }
  for (; j < n; j += 8) {
    const __m256i k = lanes(n - j);
    const __m256 a = load(k, x + j);
    hi0 = _mm256_max_ps(keep_or(k, a, -INFINITY), hi0);
    lo0 = _mm256_min_ps(keep_or(k, a, INFINITY), lo0);
    nan = _mm256_or_ps(nan, nan_lanes(k, a));
  }
  const float hi = max_all(_mm256_max_ps(hi0, hi1)), lo = min_all(_mm256_min_ps(lo0, lo1));
  const float a = hi > -lo ? hi : -lo;
  return {hi, a > 0.0f ? a : 0.0f, _mm256_movemask_ps(nan) != 0};
}

MIXLOSS_AVX2 float max_without(const float* x, int64_t n, int64_t skip, int* has_nan) {
  __m256 m = _mm256_set1_ps(-INFINITY), nan = _mm256_setzero_ps();
  for (int64_t j = 0; j < n; j += 8) {
    const __m256i k = short_lanes(n, skip, j);
    const __m256 a = load(k, x + j);
    m = _mm256_max_ps(keep_or(k, a, -INFINITY), m);  // a NaN lane keeps m
    nan = _mm256_or_ps(nan, nan_lanes(k, a));
  }
  *has_nan = _mm256_movemask_ps(nan) != 0;
  return max_all(m);
}

MIXLOSS_AVX2 float sum_exp_without(const float* x, int64_t n, int64_t skip, float m, float* out) {
  const __m256 vm = _mm256_set1_ps(m);
  __m256 s = _mm256_setzero_ps();
  for (int64_t j = 0; j < n; j += 8) {
    const __m256i k = short_lanes(n, skip, j);
    const __m256 e = exp8(_mm256_sub_ps(load(k, x + j), vm));
    if (out != nullptr) store(out + j, k, e);
    s = _mm256_add_ps(s, keep(k, e));
  }
  return add_all(s);
}

MIXLOSS_AVX2 Extent extent_without(const float* x, int64_t n, int64_t skip) {
  __m256 hi = _mm256_set1_ps(-INFINITY), lo = _mm256_set1_ps(INFINITY), nan = _mm256_setzero_ps();
  for (int64_t j = 0; j < n; j += 8) {
    const __m256i k = short_lanes(n, skip, j);
    const __m256 a = load(k, x + j);
    hi = _mm256_max_ps(keep_or(k, a, -INFINITY), hi);
    lo = _mm256_min_ps(keep_or(k, a, INFINITY), lo);
    nan = _mm256_or_ps(nan, nan_lanes(k, a));
  }
  const float h = max_all(hi), l = min_all(lo);
  const float abs_max = h > -l ? h : -l;
  return {h, abs_max > 0.0f ? abs_max : 0.0f, _mm256_movemask_ps(nan) != 0};
}

float sum_exp_near_without(const float* q, int64_t n, int64_t skip, float inv, int tier, float M, float* out) {
  return with_tanh_tier(tier, [&](auto t) {
    return out != nullptr ? sum_exp_near_short<true, t()>(q, n, skip, inv, M, out)
                          : sum_exp_near_short<false, t()>(q, n, skip, inv, M, nullptr);
  });
}

MIXLOSS_AVX2 void exp_values(const float* x, int64_t n, float* out) {
  for (int64_t j = 0; j < n; j += 8) {
    const __m256i k = lanes(n - j);
    store(out + j, k, exp8(load(k, x + j)));
  }
}

}  // namespace avx2
}  // namespace mixloss
#endif
