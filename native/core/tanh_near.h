// tanh(y) on |y| ≤ 1 as y·P(y²), no division: softcap's polynomial for logits within ±cap. Five
// polynomials, each of the least degree that stays within 2 ulp of tanh on its range of |y|
// (checked on every float of the range: worst 1.11, 1.07, 1.32, 1.59 and 1.97 ulp, mean ≤ 0.23);
// a slice takes the one for its largest |y| (tanh_near_tier), so logits well inside the cap cost
// fewer terms: 3 terms up to |y| = 1/8, 7 up to 1. Each P is a minimax fit of tanh(y)/y in y² with
// P(0) = 1 exactly, its coefficients then nudged by a few float ulps against the worst error. One
// table for the scalar and vector loops (row_blocks.cpp) and the AVX-512 ones (row_blocks_avx512.cpp).
#pragma once

#include <type_traits>

namespace mixloss {

struct TanhNearTier {
  float bound;  // |y| up to this
  int terms;    // P's coefficients, from the highest power of y² down to 1
  float c[7];
};

constexpr int kTanhNearTiers = 5;
constexpr TanhNearTier kTanhNear[kTanhNearTiers] = {
    {0.125f, 3, {1.321673691e-01f, -3.333280087e-01f, 1.0f}},
    {0.25f, 4, {-5.143002793e-02f, 1.332423687e-01f, -3.333324194e-01f, 1.0f}},
    {0.5f, 5, {1.724149100e-02f, -5.304549262e-02f, 1.332588196e-01f, -3.333314359e-01f, 1.0f}},
    {0.75f, 6, {-4.769490100e-03f, 1.966491342e-02f, -5.339025706e-02f, 1.332651526e-01f, -3.333306909e-01f, 1.0f}},
    {1.0f, 7, {1.058264636e-03f, -6.259339396e-03f, 2.035974525e-02f, -5.349870771e-02f, 1.332640946e-01f, -3.333298564e-01f, 1.0f}},
};
constexpr int kTanhNearWidest = kTanhNearTiers - 1;

// The polynomial for |y| up to y_max (the last one past 1, or for NaN: callers keep those off it).
inline int tanh_near_tier(float y_max) {
  int i = 0;
  while (i < kTanhNearWidest && !(y_max <= kTanhNear[i].bound)) ++i;
  return i;
}

template <int kTier>
inline float tanh_near_p(float y2) {
  constexpr TanhNearTier t = kTanhNear[kTier];
  float p = t.c[0];
  for (int i = 1; i < t.terms; ++i) p = p * y2 + t.c[i];
  return p;
}

template <int kTier>
inline float tanh_near(float y) {
  return y * tanh_near_p<kTier>(y * y);
}

// f(std::integral_constant<int, tier>{}): runs the loop compiled for the tier's polynomial.
static_assert(kTanhNearTiers == 5, "with_tanh_tier names each tier");
template <typename F>
decltype(auto) with_tanh_tier(int tier, F&& f) {
  switch (tier) {
    case 0: return f(std::integral_constant<int, 0>{});
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    case 3: return f(std::integral_constant<int, 3>{});
    default: return f(std::integral_constant<int, kTanhNearWidest>{});
  }
}

}  // namespace mixloss
