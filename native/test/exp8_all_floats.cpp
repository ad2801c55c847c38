// exp8 (exp8.h) on every one of the 2^32 floats: the same float as exp16's arithmetic (exp16.h:
// the same reduction and polynomial, and vscalefps's p·2^n rounded once, done here in double by
// ldexp and rounded to float once), NaN for NaN, and within 1.02 ulp of exp where the result is a
// normal float. Needs a CPU with AVX2 and FMA; scripts/check-exp8.sh builds and runs it.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "exp8.h"

namespace {

float exp16_arithmetic(float z) {
  using namespace mixloss::exp_constants;
  z = std::fmin(kHigh, std::fmax(kLow, z));  // not NaN here (the caller takes those)
  const float n = std::nearbyintf(z * kLog2e);
  float r = std::fmaf(-n, kLn2Hi, z);
  r = std::fmaf(-n, kLn2Lo, r);
  float p = kPoly[0];
  for (int i = 1; i < kTerms; ++i) p = std::fmaf(p, r, kPoly[i]);
  p = std::fmaf(p, r * r, r) + 1.0f;
  return static_cast<float>(std::ldexp(static_cast<double>(p), static_cast<int>(n)));
}

uint32_t bits_of(float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

}  // namespace

__attribute__((target("avx2,fma"))) int main() {
  if (!mixloss::has_avx2_fma()) {
    std::printf("skipped: this CPU lacks AVX2 or FMA\n");
    return 0;
  }
  uint64_t mismatches = 0;
  double worst = 0.0;
  float worst_at = 0.0f;
  alignas(32) float in[8], out[8];
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 8) {
    for (int i = 0; i < 8; ++i) {
      const uint32_t u = static_cast<uint32_t>(b + i);
      std::memcpy(&in[i], &u, sizeof u);
    }
    _mm256_store_ps(out, mixloss::exp8(_mm256_load_ps(in)));
    for (int i = 0; i < 8; ++i) {
      const float z = in[i];
      const bool same = z != z ? out[i] != out[i] : bits_of(out[i]) == bits_of(exp16_arithmetic(z));
      if (!same && mismatches++ < 10) std::printf("exp8(%a) = %a, exp16's arithmetic gives %a\n", z, out[i], exp16_arithmetic(z));
      if (z > -87.3f && z < 88.7f) {  // a normal result
        const double want = std::exp(static_cast<double>(z));
        const float rounded = static_cast<float>(want);
        const double ulp = static_cast<double>(std::nextafterf(rounded, INFINITY)) - rounded;
        const double err = std::fabs(out[i] - want) / ulp;
        if (err > worst) {
          worst = err;
          worst_at = z;
        }
      }
    }
  }
  std::printf("exp8 on all 2^32 floats: %llu differ from exp16's arithmetic; worst %.4f ulp of exp (normal results) at %a\n",
              static_cast<unsigned long long>(mismatches), worst, worst_at);
  return mismatches == 0 && worst <= 1.02 ? 0 : 1;
}
