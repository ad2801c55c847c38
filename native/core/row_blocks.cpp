#include "row_blocks.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "block_sums.h"
#include "exp16.h"
#include "row_blocks_avx2.h"
#include "row_blocks_avx512.h"
#include "tanh_near.h"
#include "vector_exp.h"

namespace mixloss {

namespace {
// Elements summed in float lanes before the block's total goes into a double: keeps a row
// of millions of classes within ~1e-6 relative error without a slower summation.
constexpr int64_t kBlock = 2048;

inline int64_t block_length(int64_t n, int64_t j0) { return n - j0 < kBlock ? n - j0 : kBlock; }

// Pieces shorter than one AVX-512 vector (a row of a few classes, or one side of the target)
// take plain loops: the vector clones would run none of their vector body there, and their
// call, prologue and 16-lane final reduction cost more than the few scalar exps (a row of 2 to
// 16 classes took ~190 ns through them). On AVX-512 the sums go to row_blocks_avx512.h
// instead (a short piece is one masked step there); the max keeps the plain loop.
constexpr int64_t kShort = 16;

float short_max(const float* x, int64_t n, int* has_nan) {
  float m = -INFINITY;
  int nan = 0;
  for (int64_t j = 0; j < n; ++j) {
    m = x[j] > m ? x[j] : m;
    nan |= (x[j] != x[j]);
  }
  *has_nan = nan;
  return m;
}

template <bool kStore>
float short_sum_exp(const float* x, int64_t n, float m, float* out) {
  float s = 0.0f;
  for (int64_t j = 0; j < n; ++j) {
    const float e = mixloss_expf(x[j] - m);
    if (kStore) out[j] = e;
    s += e;
  }
  return s;
}

// Max of a block, and whether it holds a NaN (a max ignores NaN; the row must not).
MIXLOSS_CLONES float block_max(const float* x, int64_t n, int* has_nan) {
  float m = -INFINITY;
  int nan = 0;
#pragma omp simd reduction(max : m) reduction(| : nan)
  for (int64_t j = 0; j < n; ++j) {
    m = x[j] > m ? x[j] : m;
    nan |= (x[j] != x[j]);
  }
  *has_nan = nan;
  return m;
}

// Σ exp(x − m) over a block; with kStore the exponentials are also written to out.
template <bool kStore>
MIXLOSS_CLONES float block_sum_exp(const float* x, int64_t n, float m, float* out) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; ++j) {
    const float e = mixloss_expf(x[j] - m);
    if (kStore) out[j] = e;
    s += e;
  }
  return s;
}

// Σ exp(x − m) and Σ exp(x − m)·(x − m) over a block (complement entropy's statistic; a masked
// x contributes 0 to both); with kStore the exponentials are also written to out. The second sum
// is exact products summed in double: Σ r log r is a small difference of it and log Σ e, and the
// gradient entries are smaller differences still (summed in float lanes they were 5× further
// from float64; the double sum costs complement entropy ~25% of its training pass).
template <bool kStore>
MIXLOSS_CLONES ExpLogitSums block_sum_exp_logit(const float* x, int64_t n, float m, float* out) {
  float s = 0.0f;
  double sl = 0.0;
#pragma omp simd reduction(+ : s, sl)
  for (int64_t j = 0; j < n; ++j) {
    const float d = x[j] - m;
    const float e = mixloss_expf(d);
    if (kStore) out[j] = e;
    s += e;
    sl += e > 0.0f ? static_cast<double>(e) * d : 0.0;
  }
  return {s, sl};
}

// Label smoothing's sums (every t_j = 1): Σ t·e is Σ e, Σ t is n, min t is 1; only Σ x is
// left, as n·m + Σ (x − m) with the differences (all ≤ 0, so no cancellation) summed in float
// lanes. CE's smoothing term U·lse − Σ x is then U·(lse − m) + Σ (m − x), a sum of two
// non-negative terms; Σ x summed as is lost digits to its size (4e-4 of the term with logits
// near 1e5 ± 4). block_exp_diff_sums: Σ exp(x − m) and Σ (x − m) over a block.
template <bool kStore>
MIXLOSS_CLONES void block_exp_diff_sums(const float* x, int64_t n, float m, float* out, float* sum, float* diff) {
  float s = 0.0f, sd = 0.0f;
#pragma omp simd reduction(+ : s, sd)
  for (int64_t j = 0; j < n; ++j) {
    const float d = x[j] - m;
    const float e = mixloss_expf(d);
    if (kStore) out[j] = e;
    s += e;
    sd += d;
  }
  *sum = s;
  *diff = sd;
}

// The sums of a block of Ones into acc (acc.max is m). An overflowing difference (x − m beyond
// float) is summed again in double.
template <bool kStore>
void ones_sums(const float* x, int64_t n, float m, float* out, Partial& acc) {
  float s, sd;
#if defined(MIXLOSS_EXP16)
  if (avx512::enabled())
    avx512::sum_exp_diff(x, n, m, kStore ? out : nullptr, &s, &sd);
  else if (avx2::enabled())
    avx2::sum_exp_diff(x, n, m, kStore ? out : nullptr, &s, &sd);
  else
#endif
    block_exp_diff_sums<kStore>(x, n, m, out, &s, &sd);
  double tq = static_cast<double>(n) * m + sd;
  if (!std::isfinite(sd)) {
    tq = 0.0;
    for (int64_t j = 0; j < n; ++j) tq += x[j];
  }
  if (n > 0 && 1.0f < acc.t_min) acc.t_min = 1.0f;
  acc.sum += s;
  acc.t_exp += s;
  acc.t_logit += tq;
  acc.mass += static_cast<double>(n);
}

// Σ e, Σ t·e, Σ t·x (0·(−∞) counted as 0), Σ t and min t over a block, e = exp(x − m); with
// kStore the exponentials are also written to out. Σ t·x is summed
// in double: t·x can overflow float32 for finite inputs (2·3e38), and CE = T·lse − Σ t·x
// would then be −∞.
template <bool kStore, typename T>
MIXLOSS_CLONES DenseSums block_dense_sums(const float* x, T t, int64_t n, float m, float* out) {
  // Σ t in double too: CE = T·lse − Σ t·x cancels to a small difference of two terms as large
  // as the logits, and T summed in float lanes was ~1e-7 off (a CE of 1.2e5 off by 8 ulp; one
  // near 1 with logits near 1e5 off by ~1%; found by the fuzzer's float64 reference).
  float s = 0.0f, te = 0.0f, tmin = INFINITY;
  double tq = 0.0, mass = 0.0;
#pragma omp simd reduction(+ : s, te, tq, mass) reduction(min : tmin)
  for (int64_t j = 0; j < n; ++j) {
    const float e = mixloss_expf(x[j] - m);
    const float tj = static_cast<float>(t[j]);
    if (kStore) out[j] = e;
    s += e;
    te += tj * e;
    tq += tj != 0.0f ? static_cast<double>(tj) * x[j] : 0.0;
    mass += tj;
    tmin = tj < tmin ? tj : tmin;
  }
  return {s, te, tmin, tq, mass};
}

// A block's dense sums: label smoothing's Ones by their own loops, other targets by the above
// (row_blocks_avx512.h on AVX-512).
template <bool kStore, typename T>
inline void dense_sums_of(const float* x, T t, int64_t n, float m, float* out, Partial& acc) {
  if constexpr (std::is_same_v<T, Ones>) {
    ones_sums<kStore>(x, n, m, out, acc);
  } else {
#if defined(MIXLOSS_EXP16)
    if (avx512::enabled()) return add_sums(acc, avx512::dense_sums(x, t, n, m, kStore ? out : nullptr));
    if (avx2::enabled()) return add_sums(acc, avx2::dense_sums(x, t, n, m, kStore ? out : nullptr));
#endif
    add_sums(acc, block_dense_sums<kStore>(x, t, n, m, out));
  }
}

// Complement entropy's block sums (row_blocks_avx512.h on AVX-512).
template <bool kStore>
inline void sum_exp_logit_of(const float* x, int64_t n, float m, float* out, Partial& acc) {
#if defined(MIXLOSS_EXP16)
  if (avx512::enabled()) return add_sums(acc, avx512::sum_exp_logit(x, n, m, kStore ? out : nullptr));
  if (avx2::enabled()) return add_sums(acc, avx2::sum_exp_logit(x, n, m, kStore ? out : nullptr));
#endif
  add_sums(acc, block_sum_exp_logit<kStore>(x, n, m, out));
}

// A block's max and Σ exp(x − m), by the plain loops on a short block.
inline float max_of(const float* x, int64_t n, int* has_nan) { return n < kShort ? short_max(x, n, has_nan) : block_max(x, n, has_nan); }

template <bool kStore>
inline float sum_exp_of(const float* x, int64_t n, float m, float* out) {
#if defined(MIXLOSS_EXP16)
  if (avx512::enabled()) return avx512::sum_exp(x, n, m, kStore ? out : nullptr);
  if (avx2::enabled()) return avx2::sum_exp(x, n, m, kStore ? out : nullptr);
#endif
  return n < kShort ? short_sum_exp<kStore>(x, n, m, out) : block_sum_exp<kStore>(x, n, m, out);
}

// Moves the running partial onto the block's max; false when the block adds no exponentials.
// With kArgmax a larger max also moves the argmax (ties keep the earlier index).
template <bool kArgmax>
inline bool enter_block(const float* x, int64_t n, int64_t col, Partial& acc) {
  int has_nan = 0;
  const float bm = max_of(x, n, &has_nan);
  if (has_nan) {
    acc.sum = NAN;
    return false;
  }
  if (bm == -INFINITY) return false;  // all masked: contributes exp(−∞) = 0
  if (bm > acc.max) {
    if (kArgmax) acc.argmax = col + first_index_of(x, n, bm);
    rebase(acc, bm);
  }
  return true;
}
}  // namespace

int64_t first_index_of_max(const float* x, int64_t n, float m) {
  // The first block whose max is m (one vectorized max per block), then a scan of that block.
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
    int nan = 0;
    const int64_t len = block_length(n, j0);
    if (block_max(x + j0, len, &nan) == m) return j0 + first_index_of(x + j0, len, m);
  }
  return -1;
}

int64_t first_index_of(const float* x, int64_t n, float m) {
  for (int64_t j = 0; j < n; ++j)
    if (x[j] == m) return j;
  return -1;
}

template <bool kArgmax>
void accumulate_sparse(const float* x, int64_t n, int64_t col0, Partial& acc) {
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
    const int64_t len = block_length(n, j0);
    if (enter_block<kArgmax>(x + j0, len, col0 + j0, acc)) acc.sum += sum_exp_of<false>(x + j0, len, acc.max, nullptr);
  }
}

template <bool kArgmax>
void accumulate_sparse_logit(const float* x, int64_t n, int64_t col0, Partial& acc) {
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
    const int64_t len = block_length(n, j0);
    if (enter_block<kArgmax>(x + j0, len, col0 + j0, acc)) sum_exp_logit_of<false>(x + j0, len, acc.max, nullptr, acc);
  }
}

void exp_store_sum_logit(const float* x, int64_t n, float M, float* out, Partial& acc) {
  acc.max = M;
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) sum_exp_logit_of<true>(x + j0, block_length(n, j0), M, out + j0, acc);
}

template <bool kFromLogits>
MIXLOSS_CLONES void complement_gradient(const float* src, const float* x, int64_t n, float shift, float k, float kc, float c0, float* g) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const float e = kFromLogits ? mixloss_expf(src[j] - shift) : src[j];
    g[j] = e > 0.0f ? e * (k + kc * ((x[j] - shift) - c0)) : 0.0f;
  }
}

template <bool kArgmax, typename T>
void accumulate_dense(const float* x, T t, int64_t n, int64_t col0, Partial& acc) {
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
    const int64_t len = block_length(n, j0);
    if (enter_block<kArgmax>(x + j0, len, col0 + j0, acc)) {
      dense_sums_of<false>(x + j0, t + j0, len, acc.max, nullptr, acc);
      continue;
    }
    // Masked logits still carry their targets' mass (and make CE infinite if t > 0).
    for (int64_t j = j0; j < j0 + len; ++j) {
      const float tj = static_cast<float>(t[j]);
      acc.mass += tj;
      if (tj < acc.t_min) acc.t_min = tj;
      if (tj != 0.0f) acc.t_logit += static_cast<double>(tj) * x[j];
    }
  }
}

float slice_max(const float* x, int64_t n, int* has_nan) {
  float m = -INFINITY;
  int nan = 0;
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
    int block_nan = 0;
    const float bm = max_of(x + j0, block_length(n, j0), &block_nan);
    m = bm > m ? bm : m;
    nan |= block_nan;
  }
  *has_nan = nan;
  return m;
}

double exp_store_sum(const float* x, int64_t n, float M, float* out) {
  double s = 0.0;
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) s += sum_exp_of<true>(x + j0, block_length(n, j0), M, out + j0);
  return s;
}

namespace {
// The pieces of x[0, n) on either side of column skip: [0, mid0) and [mid1, n).
struct Pieces {
  int64_t mid0, mid1;
};
Pieces pieces_around(int64_t n, int64_t skip) { return {std::clamp<int64_t>(skip, 0, n), std::clamp<int64_t>(skip + 1, 0, n)}; }

// Whether the intrinsics loops run (row_blocks_avx512.h, row_blocks_avx2.h): they take a row of
// up to kShortRow columns in masked steps.
bool intrinsics_loops() {
#if defined(MIXLOSS_EXP16)
  return avx512::enabled() || avx2::enabled();
#else
  return false;
#endif
}
}  // namespace

float slice_max_without(const float* x, int64_t n, int64_t skip, int* has_nan) {
#if defined(MIXLOSS_EXP16)
  if (n <= kShortRow && avx512::enabled()) return avx512::max_without(x, n, skip, has_nan);
  if (n <= kShortRow && avx2::enabled()) return avx2::max_without(x, n, skip, has_nan);
#endif
  const Pieces p = pieces_around(n, skip);
  int nan_a = 0, nan_b = 0;
  const float ma = slice_max(x, p.mid0, &nan_a), mb = slice_max(x + p.mid1, n - p.mid1, &nan_b);
  *has_nan = nan_a | nan_b;
  return ma > mb ? ma : mb;
}

double exp_store_sum_without(const float* x, int64_t n, int64_t skip, float M, float* out) {
#if defined(MIXLOSS_EXP16)
  if (n <= kShortRow && avx512::enabled()) return avx512::sum_exp_without(x, n, skip, M, out);
  if (n <= kShortRow && avx2::enabled()) return avx2::sum_exp_without(x, n, skip, M, out);
#endif
  const Pieces p = pieces_around(n, skip);
  return exp_store_sum(x, p.mid0, M, out) + exp_store_sum(x + p.mid1, n - p.mid1, M, out + p.mid1);
}

void accumulate_sparse_without(const float* x, int64_t n, int64_t skip, Partial& acc) {
  if (n <= kShortRow && intrinsics_loops()) {
    // One block: as enter_block, a NaN makes the sum NaN and an all-masked row adds nothing.
    int has_nan = 0;
    const float m = slice_max_without(x, n, skip, &has_nan);
    if (has_nan) {
      acc.sum = NAN;
    } else if (m != -INFINITY) {
      if (m > acc.max) rebase(acc, m);
      acc.sum += exp_store_sum_without(x, n, skip, acc.max, nullptr);
    }
    return;
  }
  const Pieces p = pieces_around(n, skip);
  accumulate_sparse<false>(x, p.mid0, 0, acc);
  accumulate_sparse<false>(x + p.mid1, n - p.mid1, p.mid1, acc);
}

template <typename T>
void exp_store_dense(const float* x, T t, int64_t n, float M, float* out, Partial& acc) {
  acc.max = M;
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) dense_sums_of<true>(x + j0, t + j0, block_length(n, j0), M, out + j0, acc);
}

template <bool kFromLogits>
MIXLOSS_CLONES void sparse_gradient(const float* src, int64_t n, float shift, float k, float* g) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) g[j] = k * (kFromLogits ? mixloss_expf(src[j] - shift) : src[j]);
}

template <bool kFromLogits, typename T>
MIXLOSS_CLONES void dense_gradient(const float* src, T t, int64_t n, float shift, float k, float b, float kd, float* g) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const float e = kFromLogits ? mixloss_expf(src[j] - shift) : src[j];
    g[j] = k * e + static_cast<float>(t[j]) * (b + kd * e);
  }
}

template void accumulate_sparse<false>(const float*, int64_t, int64_t, Partial&);
template void accumulate_sparse<true>(const float*, int64_t, int64_t, Partial&);
template void accumulate_sparse_logit<false>(const float*, int64_t, int64_t, Partial&);
template void accumulate_sparse_logit<true>(const float*, int64_t, int64_t, Partial&);
template void complement_gradient<true>(const float*, const float*, int64_t, float, float, float, float, float*);
template void complement_gradient<false>(const float*, const float*, int64_t, float, float, float, float, float*);
// tanh(y) for float y, vectorizable and without exp: y·P(y²)/Q(y²) on |y| ≤ 9 (a rational fit
// of degree 11/6, weighted for relative error: below 4e−7 relative, within 7 ulp, on all of it),
// ±(1 − 2^−24) beyond, where tanh rounds to 1 within an ulp. One division and nine FMAs; NaN
// stays NaN. (Fitted by iterated weighted least squares for relative error, in float64.)
inline float tanh_f(float y) {
  const float x = y > 9.0f ? 9.0f : y < -9.0f ? -9.0f : y;
  const float x2 = x * x;
  const float p =
      0.99999997468f +
      x2 * (0.12933944525f + x2 * (0.0029364018663f + x2 * (9.4064677209e-06f + x2 * (-1.3182358044e-08f + x2 * 1.9242383397e-11f))));
  const float q = 1.0f + x2 * (0.46267251725f + x2 * (0.023827685710f + x2 * 0.00023023751748f));
  const float r = x * p / q;
  return y != y ? y : r > 1.0f ? 1.0f : r < -1.0f ? -1.0f : r;
}

// Soft-capping: a −∞ logit is a masked class and stays −∞ (cap·tanh would bring it back as
// −cap); NaN stays NaN.
inline float capped(float q, float cap, float inv) { return q == -INFINITY || q != q ? q : cap * tanh_f(q * inv); }

namespace {
constexpr int64_t kCapBlock = 256;

MIXLOSS_CLONES float abs_max(const float* x, int64_t n) {
  float m = 0.0f;
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < n; ++j) {
    const float a = x[j] < 0.0f ? -x[j] : x[j];
    m = a > m ? a : m;
  }
  return m;
}

// Calls near(j0, len, a) on each block of x whose |x| are all ≤ bound (a: their largest),
// far(j0, len) on the others (NaN compares false: a block that holds one goes to far).
template <typename Near, typename Far>
void cap_blocks(const float* x, int64_t n, float bound, Near&& near, Far&& far) {
  for (int64_t j0 = 0; j0 < n; j0 += kCapBlock) {
    const int64_t len = n - j0 < kCapBlock ? n - j0 : kCapBlock;
    const float a = abs_max(x + j0, len);
    if (a <= bound)
      near(j0, len, a);
    else
      far(j0, len);
  }
}

template <int kTier>
MIXLOSS_CLONES void cap_near(const float* q, int64_t n, float cap, float inv, float* out) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) out[j] = cap * tanh_near<kTier>(q[j] * inv);
}

MIXLOSS_CLONES void cap_any(const float* q, int64_t n, float cap, float inv, float* out) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) out[j] = capped(q[j], cap, inv);
}
}  // namespace

// Blocks whose |q| are all ≤ cap take the polynomial for their range; others (a large, infinite
// or NaN logit) the rational tanh.
void softcap_store(const float* q, int64_t n, float cap, float* out) {
  const float inv = 1.0f / cap;
  cap_blocks(
      q, n, cap,
      [&](int64_t j0, int64_t len, float a) {
        with_tanh_tier(tanh_near_tier(a * inv), [&](auto tier) { cap_near<tier()>(q + j0, len, cap, inv, out + j0); });
      },
      [&](int64_t j0, int64_t len) { cap_any(q + j0, len, cap, inv, out + j0); });
}

float softcap_one(float q, float cap) { return capped(q, cap, 1.0f / cap); }

namespace {
// 1 − tanh²(y) = 4s/(1 + s)² with s = exp(−2|y|): no cancellation where tanh saturates (1 − t·t
// from a float t would keep no correct digit there, nor its sign).
MIXLOSS_CLONES void chain_exp_form(float* g, const float* q, int64_t n, float inv, float scale) {
  const float four = 4.0f * scale;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const float y = q[j] * inv;
    const float s = mixloss_expf(-2.0f * (y < 0.0f ? -y : y));
    const float d = 1.0f + s;
    g[j] *= four * s / (d * d);
  }
}

// Where |q| ≤ cap: t = tanh(q/cap) by the polynomial, and 1 − t² ≥ 0.42 keeps t's digits.
template <int kTier>
MIXLOSS_CLONES void chain_near_loop(float* g, const float* q, int64_t n, float inv, float scale) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const float t = tanh_near<kTier>(q[j] * inv);
    g[j] *= scale * (1.0f - t * t);
  }
}

// Σ e_j, e_j = exp(cap·t_j − M) with t_j = tanh(q_j/cap), over a block of logits all within ±cap;
// with kStore e_j·(1 − t_j²) stored: the exponential with the chain factor already on it.
// cap·t_j is q_j·P(y_j²) (cap·y_j = q_j), one rounding fewer than cap times a rounded t_j.
// In pieces of 256: the polynomial's loop first (into the stack), then the exp's, so that each
// loop keeps its own pipeline full (one loop with both waits on the polynomial's chain before
// each vector exp call: measured slower). On AVX-512, avx512::sum_exp_near runs instead.
template <bool kStore, int kTier>
MIXLOSS_CLONES float block_sum_exp_near(const float* q, int64_t n, float inv, float M, float* out) {
  constexpr int64_t kPiece = 256;
  alignas(64) float z[kPiece];
  alignas(64) float chain[kPiece];
  float s = 0.0f;
  for (int64_t j0 = 0; j0 < n; j0 += kPiece) {
    const int64_t len = n - j0 < kPiece ? n - j0 : kPiece;
#pragma omp simd
    for (int64_t j = 0; j < len; ++j) {
      const float y = q[j0 + j] * inv;
      const float p = tanh_near_p<kTier>(y * y);
      z[j] = q[j0 + j] * p - M;
      if (kStore) {
        const float t = y * p;
        chain[j] = 1.0f - t * t;
      }
    }
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < len; ++j) {
      const float e = mixloss_expf(z[j]);
      if (kStore) out[j0 + j] = e * chain[j];
      s += e;
    }
  }
  return s;
}

template <bool kStore>
double sum_exp_near(const float* q, int64_t n, const NearCap& nc, float M, float* out) {
  double s = 0.0;
#if defined(MIXLOSS_EXP16)
  if (avx512::enabled()) {
    for (int64_t j0 = 0; j0 < n; j0 += kBlock)
      s += avx512::sum_exp_near(q + j0, block_length(n, j0), nc.inv, nc.tier, M, kStore ? out + j0 : nullptr);
    return s;
  }
  if (avx2::enabled()) {
    for (int64_t j0 = 0; j0 < n; j0 += kBlock)
      s += avx2::sum_exp_near(q + j0, block_length(n, j0), nc.inv, nc.tier, M, kStore ? out + j0 : nullptr);
    return s;
  }
#endif
  with_tanh_tier(nc.tier, [&](auto tier) {
    for (int64_t j0 = 0; j0 < n; j0 += kBlock)
      s += block_sum_exp_near<kStore, tier()>(q + j0, block_length(n, j0), nc.inv, M, kStore ? out + j0 : nullptr);
  });
  return s;
}

// A short piece's extent by a plain loop, as short_max (the vector loops' reductions of max and
// min cost more there than a few compares).
Extent short_extent(const float* x, int64_t n) {
  float m = -INFINITY, a = 0.0f;
  bool nan = false;
  for (int64_t j = 0; j < n; ++j) {
    const float v = x[j], av = v < 0.0f ? -v : v;
    m = v > m ? v : m;
    a = av > a ? av : a;
    nan = nan || v != v;
  }
  return {m, a, nan};
}

MIXLOSS_CLONES void block_extent(const float* x, int64_t n, float* max, float* abs_max, int* has_nan) {
  float m = -INFINITY, a = 0.0f;
  int nan = 0;
#pragma omp simd reduction(max : m, a) reduction(| : nan)
  for (int64_t j = 0; j < n; ++j) {
    const float v = x[j];
    const float av = v < 0.0f ? -v : v;
    m = v > m ? v : m;
    a = av > a ? av : a;
    nan |= (v != v);
  }
  *max = m;
  *abs_max = a;
  *has_nan = nan;
}
}  // namespace

// Blocks of 256 whose |q| are all ≤ cap take 1 − t² with t by the polynomial (no exp, no
// division); others the exp form.
void softcap_chain_logits(float* g, const float* q, int64_t n, float cap, float scale) {
  const float inv = 1.0f / cap;
  // A block with a NaN (its gradient NaN anyway) takes the exp form.
  cap_blocks(
      q, n, cap,
      [&](int64_t j0, int64_t len, float a) {
        with_tanh_tier(tanh_near_tier(a * inv), [&](auto tier) { chain_near_loop<tier()>(g + j0, q + j0, len, inv, scale); });
      },
      [&](int64_t j0, int64_t len) { chain_exp_form(g + j0, q + j0, len, inv, scale); });
}

Extent slice_extent(const float* x, int64_t n) {
  if (n < kShort) return short_extent(x, n);
#if defined(MIXLOSS_EXP16)
  if (avx512::enabled()) return avx512::extent(x, n);
  if (avx2::enabled()) return avx2::extent(x, n);
#endif
  Extent e{-INFINITY, 0.0f, false};
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
    float m, a;
    int nan;
    block_extent(x + j0, block_length(n, j0), &m, &a, &nan);
    e.max = m > e.max ? m : e.max;
    e.abs_max = a > e.abs_max ? a : e.abs_max;
    e.has_nan = e.has_nan || nan != 0;
  }
  return e;
}

NearCap near_cap(float cap, float abs_max) {
  const float inv = 1.0f / cap;
  return {inv, tanh_near_tier(abs_max * inv)};
}

double exp_chain_store_near(const float* q, int64_t n, const NearCap& nc, float M, float* out) {
  return sum_exp_near<true>(q, n, nc, M, out);
}

double exp_sum_near(const float* q, int64_t n, const NearCap& nc, float M) { return sum_exp_near<false>(q, n, nc, M, nullptr); }

Extent slice_extent_without(const float* q, int64_t n, int64_t skip) {
#if defined(MIXLOSS_EXP16)
  if (n <= kShortRow && avx512::enabled()) return avx512::extent_without(q, n, skip);
  if (n <= kShortRow && avx2::enabled()) return avx2::extent_without(q, n, skip);
#endif
  const Pieces p = pieces_around(n, skip);
  const Extent a = slice_extent(q, p.mid0), b = slice_extent(q + p.mid1, n - p.mid1);
  return {a.max > b.max ? a.max : b.max, a.abs_max > b.abs_max ? a.abs_max : b.abs_max, a.has_nan || b.has_nan};
}

double exp_near_without(const float* q, int64_t n, int64_t skip, const NearCap& nc, float M, float* out) {
#if defined(MIXLOSS_EXP16)
  if (n <= kShortRow && avx512::enabled()) return avx512::sum_exp_near_without(q, n, skip, nc.inv, nc.tier, M, out);
  if (n <= kShortRow && avx2::enabled()) return avx2::sum_exp_near_without(q, n, skip, nc.inv, nc.tier, M, out);
#endif
  const Pieces p = pieces_around(n, skip);
  if (out == nullptr) return exp_sum_near(q, p.mid0, nc, M) + exp_sum_near(q + p.mid1, n - p.mid1, nc, M);
  return exp_chain_store_near(q, p.mid0, nc, M, out) + exp_chain_store_near(q + p.mid1, n - p.mid1, nc, M, out + p.mid1);
}

// q·P(y²), as the exponentials' loops form each capped logit: the slice's shift M is then the
// max's own capped value to the rounding of one subtraction.
float softcap_near_one(float q, const NearCap& nc) {
  const float y = q * nc.inv;
  return with_tanh_tier(nc.tier, [&](auto tier) { return q * tanh_near_p<tier()>(y * y); });
}

namespace {
// Blocks of the chain: each takes 1 − t² from the capped logits when all its |t| ≤ tanh(1), where
// 1 − t² ≥ 0.42 keeps the digits of t (within 2e−6 relative), else the exp form on the raw logits.
constexpr float kChainFromT = 0.76159415595576f;  // tanh(1)

MIXLOSS_CLONES void chain_from_capped(float* g, const float* zc, int64_t n, float inv, float scale) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const float t = zc[j] * inv;
    g[j] *= scale * (1.0f - t * t);
  }
}
}  // namespace

void softcap_chain(float* g, const float* zc, const float* q, int64_t n, float cap, float scale) {
  const float inv = 1.0f / cap;
  // A block with a NaN (its gradient NaN anyway) takes the exp form.
  cap_blocks(
      zc, n, cap * kChainFromT, [&](int64_t j0, int64_t len, float) { chain_from_capped(g + j0, zc + j0, len, inv, scale); },
      [&](int64_t j0, int64_t len) { chain_exp_form(g + j0, q + j0, len, inv, scale); });
}

#define MIXLOSS_TARGET_LOOPS(T)                                                                        \
  template void accumulate_dense<false, T>(const float*, T, int64_t, int64_t, Partial&);               \
  template void accumulate_dense<true, T>(const float*, T, int64_t, int64_t, Partial&);                \
  template void exp_store_dense<T>(const float*, T, int64_t, float, float*, Partial&);                 \
  template void dense_gradient<true, T>(const float*, T, int64_t, float, float, float, float, float*); \
  template void dense_gradient<false, T>(const float*, T, int64_t, float, float, float, float, float*);
MIXLOSS_TARGET_LOOPS(const float*)
MIXLOSS_TARGET_LOOPS(const int32_t*)
MIXLOSS_TARGET_LOOPS(Ones)
#undef MIXLOSS_TARGET_LOOPS
template void sparse_gradient<true>(const float*, int64_t, float, float, float*);
template void sparse_gradient<false>(const float*, int64_t, float, float, float*);

namespace {
template <int kTier>
MIXLOSS_CLONES void near_values(const float* q, int64_t n, float inv, float* out) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const float y = q[j] * inv;
    out[j] = q[j] * tanh_near_p<kTier>(y * y);
  }
}
}  // namespace

int softcap_near_values(const float* q, int64_t n, float cap, float* out) {
  const NearCap nc = near_cap(cap, slice_extent(q, n).abs_max);
  with_tanh_tier(nc.tier, [&](auto tier) { near_values<tier()>(q, n, nc.inv, out); });
  return kTanhNear[nc.tier].terms;
}

namespace {
MIXLOSS_CLONES void exp_values_clones(const float* x, int64_t n, float* out) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) out[j] = mixloss_expf(x[j]);
}
}  // namespace

void exp_values(const float* x, int64_t n, float* out) {
#if defined(MIXLOSS_EXP16)
  if (avx2::enabled()) return avx2::exp_values(x, n, out);
#endif
  exp_values_clones(x, n, out);
}

const char* simd_level() {
#if defined(__x86_64__) && defined(__GLIBC__)
  __builtin_cpu_init();
  // The order target_clones dispatches in (GCC builds; clang's fuzz build has only the baseline).
#if !defined(__clang__)
  if (__builtin_cpu_supports("avx512f")) return "avx512";
#endif
  return __builtin_cpu_supports("avx2") ? "avx2" : "baseline";
#else
  return "baseline";
#endif
}

const char* row_loops() {
#if defined(MIXLOSS_EXP16)
  if (avx512::enabled()) return "avx512";
  if (avx2::enabled()) return "avx2";
#endif
  return "clones";
}

}  // namespace mixloss
