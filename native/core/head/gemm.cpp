// The head's tile products (gemm.h): each calls the build for this CPU's instruction set,
// decided once: AVX-512 (gemm_avx512.cpp), AVX2 + FMA (gemm_avx2.cpp), else the baseline.
// MIXLOSS_HEAD_ISA=baseline|avx2 caps it (for comparisons).
#include "gemm.h"

#include <cstdlib>
#include <cstring>

namespace mixloss {
namespace head {

#define MIXLOSS_HEAD_DECLARE(ns)                                                                                        \
  namespace ns {                                                                                                        \
  void gemm_ab(const float*, int64_t, const float*, int64_t, float*, int64_t, int64_t, int64_t, int64_t, const float*); \
  void gemm_abt_add(const float*, int64_t, const float*, int64_t, float*, int64_t, int64_t, int64_t, int64_t);          \
  void gemm_atb_add(const float*, int64_t, const float*, int64_t, float*, int64_t, int64_t, int64_t, int64_t);          \
  }
MIXLOSS_HEAD_DECLARE(base)
#if defined(MIXLOSS_HEAD_VECTOR)
MIXLOSS_HEAD_DECLARE(avx2)
MIXLOSS_HEAD_DECLARE(avx512)
#endif

namespace {
enum class Isa { kBase, kAvx2, kAvx512 };

Isa pick() {
#if defined(MIXLOSS_HEAD_VECTOR)
  static const Isa isa = [] {
    const char* cap = std::getenv("MIXLOSS_HEAD_ISA");
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
    if (cap != nullptr && std::strcmp(cap, "baseline") == 0) return Isa::kBase;
    if (cap != nullptr && std::strcmp(cap, "avx2") == 0) return avx2 ? Isa::kAvx2 : Isa::kBase;
    return avx512 ? Isa::kAvx512 : avx2 ? Isa::kAvx2 : Isa::kBase;
  }();
  return isa;
#else
  return Isa::kBase;
#endif
}
}  // namespace

#if defined(MIXLOSS_HEAD_VECTOR)
#define MIXLOSS_HEAD_CALL(fn, ...) \
  (pick() == Isa::kAvx512 ? avx512::fn(__VA_ARGS__) : pick() == Isa::kAvx2 ? avx2::fn(__VA_ARGS__) : base::fn(__VA_ARGS__))
#else
#define MIXLOSS_HEAD_CALL(fn, ...) base::fn(__VA_ARGS__)
#endif

void gemm_ab(const float* a, int64_t lda, const float* b, int64_t ldb, float* z, int64_t ldz, int64_t m, int64_t n, int64_t k,
             const float* bias) {
  MIXLOSS_HEAD_CALL(gemm_ab, a, lda, b, ldb, z, ldz, m, n, k, bias);
}

void gemm_abt_add(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t m, int64_t n, int64_t k) {
  MIXLOSS_HEAD_CALL(gemm_abt_add, a, lda, b, ldb, c, ldc, m, n, k);
}

void gemm_atb_add(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t m, int64_t n, int64_t k) {
  MIXLOSS_HEAD_CALL(gemm_atb_add, a, lda, b, ldb, c, ldc, m, n, k);
}

const char* gemm_isa() {
  switch (pick()) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    default: return "baseline";
  }
}

}  // namespace head
}  // namespace mixloss
