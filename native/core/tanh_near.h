// tanh(y) on |y| ≤ 1 as y·P(y²), P of degree 6 (within 2 ulp there; no division): softcap's
// polynomial for logits within ±cap. One list of coefficients for the scalar and vector loops
// (row_blocks.cpp) and the AVX-512 ones (row_blocks_avx512.cpp).
#pragma once

namespace mixloss {

// P's coefficients from y^12 down to 1.
constexpr float kTanhNear[7] = {0.0010410982954f, -0.006203591847f, 0.020290203235f, -0.053457136199f,
                                0.13325206355f,   -0.33332839328f,  0.99999995026f};

inline float tanh_near_p(float y2) {
  float p = kTanhNear[0];
  for (int i = 1; i < 7; ++i) p = p * y2 + kTanhNear[i];
  return p;
}

inline float tanh_near(float y) { return y * tanh_near_p(y * y); }

}  // namespace mixloss
